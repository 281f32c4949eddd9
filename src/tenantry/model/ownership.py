"""Tenant boundaries in the estate: placement tags, LUN masking, policies, routers, pools."""

from __future__ import annotations

from tenantry.errors import Violation
from tenantry.model._violations import Collector
from tenantry.model.estate import Estate
from tenantry.model.ids import PROVIDER, Ref
from tenantry.model.kinds import Kind
from tenantry.model.network import IpNetwork
from tenantry.model.policy import PROVIDER_TIERS

__all__ = ["check_ownership"]


def check_ownership(estate: Estate) -> list[Violation]:
    """Placement tags, disk masking, policy scope, routers, management and pool delegation."""
    out = Collector()
    _check_placement(estate, out)
    _check_policies(estate, out)
    _check_routers(estate, out)
    _check_pools(estate, out)
    _check_management(estate, out)
    return out.violations


def _check_placement(estate: Estate, out: Collector) -> None:
    tenant_tags = {t.placement_tag for t in estate.tenants.values() if t.placement_tag}

    def fits(owner: str, tags: tuple[str, ...]) -> str | None:
        """None if a resource with ``tags`` may serve ``owner``; else why not."""
        tenant = estate.tenant(owner)
        mine = tenant.placement_tag if tenant is not None else None
        if mine is not None and mine not in tags:
            return f"lacks {owner}'s placement tag {mine!r}"
        foreign = sorted((set(tags) & tenant_tags) - {mine})
        if foreign:
            return f"is reserved by placement tag {foreign[0]!r} for another tenant"
        return None

    for ref, guest in sorted(estate.guests.items()):
        host = estate.hosts.get(Ref(PROVIDER, guest.host)) if guest.host else None
        if host is not None and (why := fits(ref.owner, host.tags)):
            out.add(
                "placement-host",
                f"host {host.name} {why}",
                kind=Kind.GUEST,
                ref=ref,
                field="host",
                objects=(f"guest {ref}", f"host {host.name}"),
            )
        for i, disk in enumerate(guest.disks):
            store = estate.datastores.get(Ref(PROVIDER, disk.datastore))
            if store is None:
                continue
            if (why := fits(ref.owner, store.tags)) is not None:
                out.add(
                    "placement-datastore",
                    f"datastore {store.name} {why}",
                    kind=Kind.GUEST,
                    ref=ref,
                    field=f"disks[{i}].datastore",
                )
            if host is not None and host.name not in store.masked_to:
                out.add(
                    "lun-masking",
                    f"datastore {store.name} is not masked to host {host.name}",
                    kind=Kind.GUEST,
                    ref=ref,
                    field=f"disks[{i}].datastore",
                    objects=(f"guest {ref}", f"datastore {store.name}", f"host {host.name}"),
                )
        for i, vnic in enumerate(guest.vnics):
            group = estate.port_groups.get(Ref(PROVIDER, vnic.port_group))
            switch = estate.switches.get(Ref(PROVIDER, group.switch)) if group else None
            if switch is not None and (why := fits(ref.owner, switch.tags)) is not None:
                out.add(
                    "placement-switch",
                    f"switch {switch.name} {why}",
                    kind=Kind.GUEST,
                    ref=ref,
                    field=f"vnics[{i}].port_group",
                )


def _check_policies(estate: Estate, out: Collector) -> None:
    for ref, policy in sorted(estate.policies.items()):
        if ref.owner == PROVIDER:
            continue
        if policy.tier in PROVIDER_TIERS:
            out.add(
                "policy-tier",
                f"only the provider writes the {policy.tier} tier",
                kind=Kind.POLICY,
                ref=ref,
                field="tier",
            )
        if policy.applies_to.tenants is not None:
            out.add(
                "policy-scope",
                "a tenant's selector always stays inside the tenant",
                kind=Kind.POLICY,
                ref=ref,
                field="applies_to.tenants",
            )
        for i, rule in enumerate(policy.rules):
            peer = rule.peer
            if peer.selector is not None and peer.selector.tenants is not None:
                out.add(
                    "policy-scope",
                    "a tenant's peer selector stays inside the tenant",
                    kind=Kind.POLICY,
                    ref=ref,
                    field=f"rules[{i}].peer.selector.tenants",
                )
            if peer.service is not None:
                service = estate.shared_services.get(Ref(PROVIDER, peer.service))
                if service is not None and ref.owner not in service.granted_to:
                    out.add(
                        "service-grant",
                        f"shared service {peer.service} is not granted to {ref.owner}",
                        kind=Kind.POLICY,
                        ref=ref,
                        field=f"rules[{i}].peer.service",
                    )


def _check_routers(estate: Estate, out: Collector) -> None:
    joined: dict[Ref, Ref] = {}
    for ref, router in sorted(estate.routers.items()):
        cidrs: list[tuple[str, IpNetwork]] = []
        for i, name in enumerate(router.networks):
            net_ref = Ref(ref.owner, name)
            network = estate.networks.get(net_ref)
            if network is None:
                continue
            if net_ref in joined:
                out.add(
                    "router-single",
                    f"network {net_ref} is already joined by router {joined[net_ref]}",
                    kind=Kind.ROUTER,
                    ref=ref,
                    field=f"networks[{i}]",
                )
            joined[net_ref] = ref
            if not any(s.gateway for s in network.subnets):
                out.add(
                    "router-gateway",
                    f"network {net_ref} has no subnet with a gateway for the router to answer on",
                    kind=Kind.ROUTER,
                    ref=ref,
                    field=f"networks[{i}]",
                )
            for subnet in network.subnets:
                for other_net, other in cidrs:
                    if other.overlaps(subnet.cidr):
                        out.add(
                            "router-overlap",
                            f"{subnet.cidr} of {name} overlaps {other} of "
                            f"{other_net}: routing would be ambiguous",
                            kind=Kind.ROUTER,
                            ref=ref,
                            field=f"networks[{i}]",
                        )
                cidrs.append((name, subnet.cidr))


def _check_pools(estate: Estate, out: Collector) -> None:
    for ref, pool in sorted(estate.resource_pools.items()):
        if pool.delegate_to is not None and ref.owner != PROVIDER:
            out.add(
                "pool-delegation",
                "only the provider delegates pools",
                kind=Kind.RESOURCE_POOL,
                ref=ref,
                field="delegate_to",
            )
        if ref.owner != PROVIDER and pool.cluster is not None:
            out.add(
                "pool-delegation",
                "a tenant pool hangs under a pool delegated to it",
                kind=Kind.RESOURCE_POOL,
                ref=ref,
                field="cluster",
            )
        if pool.parent is not None:
            parent_ref = estate.resolve_pool(ref.owner, pool.parent)
            parent = estate.resource_pools.get(parent_ref)
            if parent is not None and not _pool_usable(estate, ref.owner, parent_ref):
                out.add(
                    "pool-delegation",
                    f"pool {parent_ref} is not delegated to {ref.owner}",
                    kind=Kind.RESOURCE_POOL,
                    ref=ref,
                    field="parent",
                )
        seen = {ref}
        cursor = pool
        cursor_ref = ref
        while cursor.parent is not None:
            cursor_ref = estate.resolve_pool(cursor_ref.owner, cursor.parent)
            if cursor_ref in seen:
                out.add(
                    "pool-cycle",
                    "the pool is its own ancestor",
                    kind=Kind.RESOURCE_POOL,
                    ref=ref,
                    field="parent",
                )
                break
            seen.add(cursor_ref)
            next_pool = estate.resource_pools.get(cursor_ref)
            if next_pool is None:
                break
            cursor = next_pool
    for ref, guest in sorted(estate.guests.items()):
        if guest.pool is None:
            continue
        pool_ref = estate.resolve_pool(ref.owner, guest.pool)
        if pool_ref in estate.resource_pools and not _pool_usable(estate, ref.owner, pool_ref):
            out.add(
                "pool-delegation",
                f"pool {pool_ref} is not delegated to {ref.owner}",
                kind=Kind.GUEST,
                ref=ref,
                field="pool",
            )


def _pool_usable(estate: Estate, owner: str, pool_ref: Ref) -> bool:
    if owner in (PROVIDER, pool_ref.owner):
        return True
    pool = estate.resource_pools.get(pool_ref)
    return pool is not None and pool.delegate_to == owner


def _check_management(estate: Estate, out: Collector) -> None:
    mgmt = estate.provider.management_network
    for ref, guest in sorted(estate.guests.items()):
        if not guest.management.isolation and mgmt is None:
            out.add(
                "management-network",
                "the guest has a management interface but the provider names no management_network",
                kind=Kind.GUEST,
                ref=ref,
                field="management",
            )
    for ref, service in sorted(estate.shared_services.items()):
        if mgmt is not None and service.network == mgmt:
            out.add(
                "service-management",
                "the management network cannot be a shared service",
                kind=Kind.SHARED_SERVICE,
                ref=ref,
                field="network",
            )
