"""Referential integrity: every name an object uses points at an object that exists."""

from __future__ import annotations

from tenantry.errors import Violation
from tenantry.model._violations import Collector
from tenantry.model.estate import Estate
from tenantry.model.ids import PROVIDER, Ref
from tenantry.model.kinds import KIND_INFO, Kind

__all__ = ["check_references"]

RULE = "reference"


def check_references(estate: Estate) -> list[Violation]:
    """Dangling references and objects owned by tenants that do not exist."""
    out = Collector()
    p = PROVIDER

    def need(kind: Kind, ref: Ref, field: str, target_kind: Kind, target: Ref) -> None:
        if estate.get(target_kind, target) is None:
            out.add(
                RULE,
                f"{target_kind} {target} does not exist",
                kind=kind,
                ref=ref,
                field=field,
            )

    for kind, info in KIND_INFO.items():
        if not info.owned:
            continue
        for ref, _ in estate.items(kind):
            if ref.owner != p and estate.tenant(ref.owner) is None:
                out.add(RULE, f"owner tenant {ref.owner!r} does not exist", kind=kind, ref=ref)
    for ref in estate.tenants:
        if ref.name == PROVIDER:
            out.add("reserved-name", f"{PROVIDER!r} is reserved", kind=Kind.TENANT, ref=ref)

    mgmt = estate.provider.management_network
    if mgmt is not None:
        need(Kind.PROVIDER, Ref(p, p), "management_network", Kind.NETWORK, Ref(p, mgmt))
    for ref, cluster in estate.clusters.items():
        need(Kind.CLUSTER, ref, "datacenter", Kind.DATACENTER, Ref(p, cluster.datacenter))
    for ref, host in estate.hosts.items():
        need(Kind.HOST, ref, "cluster", Kind.CLUSTER, Ref(p, host.cluster))
        for i, uplink in enumerate(host.uplinks):
            need(
                Kind.HOST,
                ref,
                f"uplinks[{i}].physical_network",
                Kind.PHYSICAL_NETWORK,
                Ref(p, uplink.physical_network),
            )
    for ref, store in estate.datastores.items():
        for i, host_name in enumerate(store.masked_to):
            need(Kind.DATASTORE, ref, f"masked_to[{i}]", Kind.HOST, Ref(p, host_name))
    for ref, switch in estate.switches.items():
        for i, cluster_name in enumerate(switch.clusters):
            need(Kind.VIRTUAL_SWITCH, ref, f"clusters[{i}]", Kind.CLUSTER, Ref(p, cluster_name))
        if switch.physical_network is not None:
            need(
                Kind.VIRTUAL_SWITCH,
                ref,
                "physical_network",
                Kind.PHYSICAL_NETWORK,
                Ref(p, switch.physical_network),
            )
    for ref, group in estate.port_groups.items():
        need(Kind.PORT_GROUP, ref, "switch", Kind.VIRTUAL_SWITCH, Ref(p, group.switch))
    for ref, service in estate.shared_services.items():
        need(Kind.SHARED_SERVICE, ref, "network", Kind.NETWORK, Ref(p, service.network))
        for i, tenant in enumerate(service.granted_to):
            need(Kind.SHARED_SERVICE, ref, f"granted_to[{i}]", Kind.TENANT, Ref(p, tenant))
    for ref, pool in estate.resource_pools.items():
        if pool.cluster is not None:
            need(Kind.RESOURCE_POOL, ref, "cluster", Kind.CLUSTER, Ref(p, pool.cluster))
        if pool.parent is not None:
            parent = estate.resolve_pool(ref.owner, pool.parent)
            need(Kind.RESOURCE_POOL, ref, "parent", Kind.RESOURCE_POOL, parent)
        if pool.delegate_to is not None:
            need(Kind.RESOURCE_POOL, ref, "delegate_to", Kind.TENANT, Ref(p, pool.delegate_to))
    for ref, network in estate.networks.items():
        segment = network.segment
        if segment.type == "vlan":
            need(
                Kind.NETWORK,
                ref,
                "segment.physical_network",
                Kind.PHYSICAL_NETWORK,
                Ref(p, segment.physical_network),
            )
    for ref, router in estate.routers.items():
        for i, net in enumerate(router.networks):
            need(Kind.ROUTER, ref, f"networks[{i}]", Kind.NETWORK, Ref(ref.owner, net))
    for ref, guest in estate.guests.items():
        need(Kind.GUEST, ref, "image", Kind.IMAGE, Ref(p, guest.image))
        if guest.host is not None:
            need(Kind.GUEST, ref, "host", Kind.HOST, Ref(p, guest.host))
        if guest.pool is not None:
            pool_ref = estate.resolve_pool(ref.owner, guest.pool)
            need(Kind.GUEST, ref, "pool", Kind.RESOURCE_POOL, pool_ref)
        for i, vnic in enumerate(guest.vnics):
            base = f"vnics[{i}]"
            need(Kind.GUEST, ref, f"{base}.port_group", Kind.PORT_GROUP, Ref(p, vnic.port_group))
            if vnic.network is not None:
                need(Kind.GUEST, ref, f"{base}.network", Kind.NETWORK, Ref(ref.owner, vnic.network))
            if vnic.service is not None:
                need(
                    Kind.GUEST,
                    ref,
                    f"{base}.service",
                    Kind.SHARED_SERVICE,
                    Ref(p, vnic.service),
                )
        for i, disk in enumerate(guest.disks):
            need(Kind.GUEST, ref, f"disks[{i}].datastore", Kind.DATASTORE, Ref(p, disk.datastore))
    for ref, policy in estate.policies.items():
        for tenant in policy.applies_to.tenants or ():
            if tenant == PROVIDER:
                continue  # the provider's own vNICs (its service appliances)
            need(Kind.POLICY, ref, "applies_to.tenants", Kind.TENANT, Ref(p, tenant))
        for i, rule in enumerate(policy.rules):
            if rule.peer.service is not None:
                need(
                    Kind.POLICY,
                    ref,
                    f"rules[{i}].peer.service",
                    Kind.SHARED_SERVICE,
                    Ref(p, rule.peer.service),
                )
    return out.violations
