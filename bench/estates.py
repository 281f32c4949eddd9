"""A synthetic estate of the white papers' shape, up to 40,000 tenants and 1,638,400 vNICs.

Objects are made with ``model_construct`` (no validation: the generator is not what is being
measured), and immutable parts (subnets, tag tuples, names) are shared between tenants, as
an estate loaded from a store would not share them: the memory figures in docs/benchmarks.md
are therefore a lower bound for the estate and exact for the compiler.

Shape, per the seed: ``hosts`` hosts (512) x ``guests_per_host`` (320) guests x
``vnics_per_guest`` (10) vNICs, spread over ``tenants`` (40,000) tenants. Each tenant has two
overlay networks (front, back) and, one in four, a router joining them; each guest has four
vNICs on front, four on back, one on the shared DNS service and one more on front; one guest
in a hundred is bridged onto the management network. Policies in all four tiers: three
tenant policies (8 rules) per tenant, provider-tier and baseline policies, some scoped to
groups of tenants.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from tenantry.model import (
    PROVIDER,
    PROVIDER_REF,
    Action,
    Cluster,
    Datacenter,
    DefaultAction,
    Direction,
    Estate,
    Guest,
    Host,
    HostUplink,
    Image,
    Kind,
    L2Security,
    ManagementAccess,
    MemoryAllocation,
    Network,
    OverlaySegment,
    Peer,
    PhysicalNetwork,
    Policy,
    PortGroup,
    Protocol,
    Provider,
    Ref,
    Router,
    Rule,
    Selector,
    SharedService,
    Subnet,
    Tenant,
    Tier,
    Toggle,
    VirtualSwitch,
    VlanMode,
    VlanPolicy,
    VlanSegment,
    Vnic,
)

__all__ = ["SEED", "estate_of_shape", "seed_estate"]

SEED = {"tenants": 40_000, "hosts": 512, "guests_per_host": 320, "vnics_per_guest": 10}
CLUSTER_SIZE = 64
GUEST_TAGS = (("web",), ("app",), ("db",), ("web", "cache"))
DIGEST = "sha256:" + "ab" * 32
_FIELDS: dict[type[Any], set[str]] = {}


def _make(cls: type[Any], **values: Any) -> Any:
    """A model object without validation; the field set is shared per class (memory)."""
    fields = _FIELDS.setdefault(cls, set(cls.model_fields))
    for name, info in cls.model_fields.items():
        if name not in values:
            values[name] = info.get_default(call_default_factory=True)
    return cls.model_construct(_fields_set=fields, **values)


def _rule(action: str, direction: str, **kw: Any) -> Rule:
    if "protocol" in kw:
        kw["protocol"] = Protocol(kw["protocol"])
    return _make(Rule, action=Action(action), direction=Direction(direction), **kw)


def seed_estate(scale: float = 1.0) -> Estate:
    """The seed's estate, or a fraction of it (tenants and hosts scaled together)."""
    return estate_of_shape(
        tenants=max(1, round(SEED["tenants"] * scale)),
        hosts=max(1, round(SEED["hosts"] * scale)),
        guests_per_host=SEED["guests_per_host"],
        vnics_per_guest=SEED["vnics_per_guest"],
    )


def estate_of_shape(
    *, tenants: int, hosts: int, guests_per_host: int, vnics_per_guest: int = 10
) -> Estate:
    """An estate with this many tenants and hosts, and guests/vNICs per host/guest."""
    return Estate.build(_items(tenants, hosts, guests_per_host, vnics_per_guest))


def _items(
    tenants: int, hosts: int, guests_per_host: int, vnics_per_guest: int
) -> Iterator[tuple[Kind, Ref, Any]]:
    p = PROVIDER
    yield Kind.PROVIDER, PROVIDER_REF, _make(Provider, name="cloud", management_network="mgmt")
    yield from _infrastructure(hosts)
    yield from _provider_networks(hosts)
    yield from _provider_policies(tenants)
    tenant_names = [f"t{i:05d}" for i in range(tenants)]
    for name in tenant_names:
        yield Kind.TENANT, Ref(p, name), _make(Tenant, name=name)
    granted = tuple(tenant_names)
    yield (
        Kind.SHARED_SERVICE,
        Ref(p, "dns"),
        _make(SharedService, name="dns", network="svc-dns", granted_to=granted),
    )
    for index, name in enumerate(tenant_names):
        yield from _tenant_objects(index, name)
    yield from _guests(tenant_names, hosts, guests_per_host, vnics_per_guest)


def _infrastructure(hosts: int) -> Iterator[tuple[Kind, Ref, Any]]:
    p = PROVIDER
    yield (
        Kind.PHYSICAL_NETWORK,
        Ref(p, "physnet1"),
        _make(PhysicalNetwork, name="physnet1", vlan_ranges=((1, 4094),)),
    )
    yield Kind.DATACENTER, Ref(p, "dc1"), _make(Datacenter, name="dc1")
    clusters = [f"c{i}" for i in range((hosts + CLUSTER_SIZE - 1) // CLUSTER_SIZE)]
    for cluster in clusters:
        yield Kind.CLUSTER, Ref(p, cluster), _make(Cluster, name=cluster, datacenter="dc1")
    uplinks = (_make(HostUplink, name="eth1", physical_network="physnet1"),)
    for i in range(hosts):
        host = _make(
            Host,
            name=f"h{i:03d}",
            cluster=clusters[i // CLUSTER_SIZE],
            cpus=1024,
            memory=2**42,
            uplinks=uplinks,
        )
        yield Kind.HOST, Ref(p, host.name), host
    yield Kind.IMAGE, Ref(p, "linux"), _make(Image, name="linux", digest=DIGEST, signer="cloud")
    span = tuple(clusters)
    yield (
        Kind.VIRTUAL_SWITCH,
        Ref(p, "vs-phys"),
        _make(
            VirtualSwitch,
            name="vs-phys",
            clusters=span,
            physical_network="physnet1",
            uplinks=("eth1",),
        ),
    )
    yield (
        Kind.VIRTUAL_SWITCH,
        Ref(p, "vs-overlay"),
        _make(VirtualSwitch, name="vs-overlay", clusters=span),
    )
    dns_vlan = _make(VlanPolicy, mode=VlanMode.VST, id=250)
    yield (
        Kind.PORT_GROUP,
        Ref(p, "pg-dns"),
        _make(PortGroup, name="pg-dns", switch="vs-phys", vlan=dns_vlan),
    )
    server = _make(L2Security, dhcp_server=Toggle.ACCEPT)
    yield (
        Kind.PORT_GROUP,
        Ref(p, "pg-dns-server"),
        _make(PortGroup, name="pg-dns-server", switch="vs-phys", vlan=dns_vlan, security=server),
    )


def _provider_networks(hosts: int) -> Iterator[tuple[Kind, Ref, Any]]:
    p = PROVIDER
    svc = _make(
        Network,
        name="svc-dns",
        segment=_make(VlanSegment, physical_network="physnet1", vlan=250),
        subnets=(_make(Subnet, cidr=IPv4Network("100.64.0.0/10")),),
    )
    yield Kind.NETWORK, Ref(p, "svc-dns"), svc
    mgmt = _make(
        Network,
        name="mgmt",
        segment=_make(VlanSegment, physical_network="physnet1", vlan=10),
        subnets=(_make(Subnet, cidr=IPv4Network("172.16.0.0/12")),),
    )
    yield Kind.NETWORK, Ref(p, "mgmt"), mgmt
    memory = _make(MemoryAllocation, size=4 * 2**30)
    for i in range(8):
        vnic = _make(
            Vnic,
            name="eth0",
            port_group="pg-dns-server",
            network="svc-dns",
            mac=f"02:ff:00:00:00:{i:02x}",
            addresses=(IPv4Address(f"100.64.0.{i + 1}"),),
        )
        guest = _make(
            Guest,
            name=f"dns-{i}",
            image="linux",
            host=f"h{i % hosts:03d}",
            memory=memory,
            tags=("dns",),
            vnics=(vnic,),
        )
        yield Kind.GUEST, Ref(p, guest.name), guest


def _provider_policies(tenants: int) -> Iterator[tuple[Kind, Ref, Any]]:
    p = PROVIDER

    def rule(action: str, direction: str, **kw: Any) -> Rule:
        return _rule(action, direction, **kw)

    policies = [
        _make(
            Policy,
            name="mandatory-no-smb",
            tier=Tier.PROVIDER,
            order=10,
            rules=(rule("deny", "ingress", protocol="tcp", ports=((139, 139), (445, 445))),),
        ),
        _make(
            Policy,
            name="dns-servers",
            tier=Tier.PROVIDER,
            order=20,
            applies_to=_make(Selector, tags=("dns",), tenants=(PROVIDER,)),
            rules=(rule("allow", "ingress", protocol="udp", ports=((53, 53),)),),
        ),
        _make(
            Policy,
            name="baseline-icmp",
            tier=Tier.BASELINE,
            order=10,
            rules=(rule("allow", "ingress", protocol="icmp"),),
        ),
        _make(
            Policy,
            name="baseline-no-smtp",
            tier=Tier.BASELINE,
            order=20,
            rules=(rule("deny", "egress", protocol="tcp", ports=((25, 25),)),),
        ),
    ]
    group = 100
    for g in range(min(8, (tenants + group - 1) // group)):
        scope = tuple(f"t{i:05d}" for i in range(g * group, min(tenants, (g + 1) * group)))
        policies.append(
            _make(
                Policy,
                name=f"regulated-{g}",
                tier=Tier.PROVIDER,
                order=30,
                applies_to=_make(Selector, tenants=scope),
                rules=(
                    rule("deny", "ingress", protocol="tcp", ports=((3389, 3389),)),
                    rule("pass", "egress", protocol="tcp", ports=((443, 443),)),
                ),
            )
        )
    for policy in policies:
        yield Kind.POLICY, Ref(p, policy.name), policy


_FRONT = (_make(Subnet, cidr=IPv4Network("10.0.0.0/22"), gateway=IPv4Address("10.0.0.1")),)
_BACK = (_make(Subnet, cidr=IPv4Network("10.0.4.0/22"), gateway=IPv4Address("10.0.4.1")),)


def _tenant_policies() -> tuple[Policy, ...]:
    def rule(action: str, direction: str, **kw: Any) -> Rule:
        return _rule(action, direction, **kw)

    db = _make(Peer, selector=_make(Selector, tags=("db",)))
    app = _make(Peer, selector=_make(Selector, tags=("app",)))
    dns = _make(Peer, service="dns")
    front = _make(Peer, cidr=IPv4Network("10.0.0.0/22"))
    return (
        _make(
            Policy,
            name="web",
            tier=Tier.TENANT,
            order=100,
            applies_to=_make(Selector, tags=("web",)),
            rules=(
                rule("allow", "ingress", protocol="tcp", ports=((80, 80), (443, 443))),
                rule("allow", "egress", protocol="tcp", ports=((5432, 5432),), peer=db),
                rule("allow", "egress", protocol="udp", ports=((53, 53),), peer=dns),
            ),
        ),
        _make(
            Policy,
            name="db",
            tier=Tier.TENANT,
            order=110,
            applies_to=_make(Selector, tags=("db",)),
            rules=(
                rule("allow", "ingress", protocol="tcp", ports=((5432, 5432),), peer=app),
                rule("deny", "ingress", protocol="tcp", ports=((22, 22),), log=True),
            ),
        ),
        _make(
            Policy,
            name="app",
            tier=Tier.APPLICATION,
            order=10,
            applies_to=_make(Selector, tags=("app",)),
            rules=(
                rule("pass", "ingress", protocol="tcp", ports=((8080, 8080),)),
                rule("allow", "egress", protocol="tcp", ports=((5432, 5432),), peer=db),
                rule("allow", "ingress", protocol="tcp", ports=((8080, 8080),), peer=front),
            ),
        ),
    )


_POLICIES = _tenant_policies()


_EST = _make(VlanPolicy, mode=VlanMode.EST)


def _tenant_objects(index: int, name: str) -> Iterator[tuple[Kind, Ref, Any]]:
    # an EST port group serves one segment (admission), so each network gets its own
    for net in ("front", "back"):
        group = _make(PortGroup, name=f"pg-{name}-{net}", switch="vs-overlay", vlan=_EST)
        yield Kind.PORT_GROUP, Ref(PROVIDER, group.name), group
    default = DefaultAction.ALLOW if index % 10 == 0 else DefaultAction.DENY
    for offset, (net, subnets) in enumerate((("front", _FRONT), ("back", _BACK))):
        network = _make(
            Network,
            name=net,
            segment=_make(OverlaySegment, overlay=10_000 + 2 * index + offset),
            subnets=subnets,
            default_action=default,
        )
        yield Kind.NETWORK, Ref(name, net), network
    if index % 4 == 0:
        yield Kind.ROUTER, Ref(name, "edge"), _make(Router, name="edge", networks=("front", "back"))
    for policy in _POLICIES:
        yield Kind.POLICY, Ref(name, policy.name), policy


def _mac(serial: int) -> str:
    return "02:%02x:%02x:%02x:%02x:%02x" % (  # noqa: UP031 - the fastest spelling here
        (serial >> 32) & 0xFF,
        (serial >> 24) & 0xFF,
        (serial >> 16) & 0xFF,
        (serial >> 8) & 0xFF,
        serial & 0xFF,
    )


def _guests(
    tenant_names: list[str], hosts: int, guests_per_host: int, vnics_per_guest: int
) -> Iterator[tuple[Kind, Ref, Any]]:
    memory = _make(MemoryAllocation, size=2**30)
    bridged = ManagementAccess
    layout = ["front"] * 4 + ["back"] * 4 + [None] + ["front"] * max(0, vnics_per_guest - 9)
    layout = layout[:vnics_per_guest]
    names = [f"eth{i}" for i in range(vnics_per_guest)]
    vnic_tags = [("public",) if i == 0 else () for i in range(vnics_per_guest)]
    front_base = int(IPv4Address("10.0.0.10"))
    back_base = int(IPv4Address("10.0.4.10"))
    dns_base = int(IPv4Address("100.64.1.0"))
    mgmt_base = int(IPv4Address("172.16.0.10"))
    counters: dict[str, list[int]] = {}
    serial = 0
    total = hosts * guests_per_host
    tenants = len(tenant_names)
    group_names: dict[str, dict[str, str]] = {}
    for g in range(total):
        owner = tenant_names[g % tenants]
        used = counters.setdefault(owner, [0, 0])
        groups = group_names.get(owner)
        if groups is None:
            groups = group_names[owner] = {n: f"pg-{owner}-{n}" for n in ("front", "back")}
        vnics = []
        for i in range(vnics_per_guest):
            serial += 1
            net = layout[i]
            if net is None:
                address = IPv4Address(dns_base + serial)
                vnic = _make(
                    Vnic,
                    name=names[i],
                    port_group="pg-dns",
                    service="dns",
                    mac=_mac(serial),
                    addresses=(address,),
                )
            else:
                slot = 0 if net == "front" else 1
                base = front_base if slot == 0 else back_base
                address = IPv4Address(base + used[slot])
                used[slot] += 1
                vnic = _make(
                    Vnic,
                    name=names[i],
                    port_group=groups[net],
                    network=net,
                    mac=_mac(serial),
                    addresses=(address,),
                    tags=vnic_tags[i],
                )
            vnics.append(vnic)
        management = _make(ManagementAccess)
        if g % 100 == 0:
            management = _make(
                bridged,
                isolation=False,
                mac=_mac((1 << 39) | g),
                address=IPv4Address(mgmt_base + g),
            )
        guest = _make(
            Guest,
            name=f"g{g:06d}",
            image="linux",
            host=f"h{g % hosts:03d}",
            memory=memory,
            tags=GUEST_TAGS[(g // tenants) % len(GUEST_TAGS)],
            management=management,
            vnics=tuple(vnics),
        )
        yield Kind.GUEST, Ref(owner, guest.name), guest
