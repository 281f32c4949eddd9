"""Shared Hypothesis strategies: valid estates, policy changes, frames."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from hypothesis import strategies as st

from tenantry.model import (
    PROVIDER,
    PROVIDER_REF,
    Action,
    Change,
    ChangeSet,
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
    Op,
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
    VlanPolicy,
    VlanSegment,
    Vnic,
)

TAGS = ("a", "b", "c")
SERVICE_VLAN = 50
MGMT_VLAN = 10
DIGEST = "sha256:" + "0" * 64


def _tags() -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(TAGS), unique=True, max_size=2).map(lambda t: tuple(sorted(t)))


@st.composite
def rules(
    draw: st.DrawFn, *, services: tuple[str, ...], provider: bool, scope: tuple[str, ...] = ("t1",)
) -> Rule:
    """A rule with a random action, direction, protocol, ports and peer."""
    protocol = draw(st.sampled_from(list(Protocol)))
    ports: tuple[Any, ...] = ()
    if protocol in (Protocol.TCP, Protocol.UDP):
        ports = tuple(
            draw(
                st.lists(
                    st.sampled_from(["22", "80", "443", "8000-8080", "53"]),
                    max_size=2,
                )
            )
        )
    kinds = ["any", "cidr", "selector"] + (["service"] if services else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "any":
        peer = Peer(any=True)
    elif kind == "cidr":
        peer = Peer(
            cidr=draw(
                st.sampled_from(
                    [
                        IPv4Network("10.0.0.0/8"),
                        IPv4Network("10.1.1.0/24"),
                        IPv6Network("fd00::/16"),
                    ]
                )
            )
        )
    elif kind == "selector":
        tenants = None
        if provider and draw(st.booleans()):
            tenants = tuple(
                draw(st.lists(st.sampled_from([*scope, PROVIDER]), unique=True, min_size=1))
            )
        peer = Peer(selector=Selector(tags=draw(_tags()), tenants=tenants))
    else:
        peer = Peer(service=draw(st.sampled_from(services)))
    return Rule(
        action=draw(st.sampled_from(list(Action))),
        direction=draw(st.sampled_from(list(Direction))),
        protocol=protocol,
        ports=ports,
        peer=peer,
        log=draw(st.booleans()),
    )


@st.composite
def policies(
    draw: st.DrawFn,
    *,
    owner: str,
    name: str,
    services: tuple[str, ...],
    scope: tuple[str, ...] = ("t1",),
) -> Policy:
    """A policy of ``owner`` in a tier it may write."""
    provider = owner == PROVIDER
    tiers = list(Tier) if provider else [Tier.TENANT, Tier.APPLICATION]
    tenants = None
    if provider and draw(st.booleans()):
        tenants = tuple(
            draw(st.lists(st.sampled_from([*scope, PROVIDER]), unique=True, min_size=1))
        )
    return Policy(
        name=name,
        tier=draw(st.sampled_from(tiers)),
        order=draw(st.sampled_from([10, 100, 100, 500])),
        applies_to=Selector(tags=draw(_tags()), tenants=tenants),
        rules=tuple(
            draw(st.lists(rules(services=services, provider=provider, scope=scope), max_size=3))
        ),
    )


@st.composite
def estates(draw: st.DrawFn, *, max_tenants: int = 2) -> Estate:
    """A small estate that passes every structural rule of the model."""
    items: list[tuple[Kind, Ref, Any]] = []

    def add(kind: Kind, owner: str, obj: Any) -> None:
        items.append((kind, Ref(owner, obj.name), obj))

    with_mgmt = draw(st.booleans())
    items.append(
        (
            Kind.PROVIDER,
            PROVIDER_REF,
            Provider(name="acme", management_network="mgmt" if with_mgmt else None),
        )
    )
    add(Kind.PHYSICAL_NETWORK, PROVIDER, PhysicalNetwork(name="phys", vlan_ranges=((1, 4094),)))
    add(Kind.DATACENTER, PROVIDER, Datacenter(name="dc"))
    add(Kind.CLUSTER, PROVIDER, Cluster(name="c1", datacenter="dc"))
    for host in ("h1", "h2"):
        add(
            Kind.HOST,
            PROVIDER,
            Host(
                name=host,
                cluster="c1",
                cpus=64,
                memory=2**40,
                uplinks=(HostUplink(name="eth1", physical_network="phys"),),
            ),
        )
    add(Kind.IMAGE, PROVIDER, Image(name="img", digest=DIGEST, signer="acme"))
    add(
        Kind.VIRTUAL_SWITCH,
        PROVIDER,
        VirtualSwitch(name="vs", clusters=("c1",), physical_network="phys", uplinks=("eth1",)),
    )
    tenant_names = [f"t{i + 1}" for i in range(draw(st.integers(1, max_tenants)))]
    for name in tenant_names:
        add(Kind.TENANT, PROVIDER, Tenant(name=name))
    granted = tuple(t for t in tenant_names if draw(st.booleans()))
    services: tuple[str, ...] = ()
    add(
        Kind.NETWORK,
        PROVIDER,
        Network(
            name="svc",
            segment=VlanSegment(physical_network="phys", vlan=SERVICE_VLAN),
            subnets=(Subnet(cidr=IPv4Network("10.250.0.0/24")),),
        ),
    )
    add(Kind.SHARED_SERVICE, PROVIDER, SharedService(name="dns", network="svc", granted_to=granted))
    services = ("dns",)
    add(
        Kind.PORT_GROUP,
        PROVIDER,
        PortGroup(
            name=f"pg-{SERVICE_VLAN}", switch="vs", vlan=VlanPolicy(mode="vst", id=SERVICE_VLAN)
        ),
    )
    if with_mgmt:
        add(
            Kind.NETWORK,
            PROVIDER,
            Network(
                name="mgmt",
                segment=VlanSegment(physical_network="phys", vlan=MGMT_VLAN),
                subnets=(Subnet(cidr=IPv4Network("192.168.10.0/24")),),
                default_action=draw(st.sampled_from(list(DefaultAction))),
            ),
        )
    counter = iter(range(1, 10_000))
    add(
        Kind.GUEST,
        PROVIDER,
        Guest(
            name="dns-1",
            image="img",
            host="h1",
            memory=MemoryAllocation(size=2**30),
            tags=("dns",),
            vnics=(
                Vnic(
                    name="eth0",
                    port_group=f"pg-{SERVICE_VLAN}",
                    network="svc",
                    mac="02:ff:00:00:00:53",
                    addresses=(IPv4Address("10.250.0.53"),),
                ),
            ),
        ),
    )
    for t_index, tenant in enumerate(tenant_names, start=1):
        nets = []
        for n_index in range(1, draw(st.integers(1, 2)) + 1):
            vlan = 100 + t_index * 10 + n_index
            net = f"n{n_index}"
            nets.append((net, vlan, t_index, n_index))
            add(
                Kind.NETWORK,
                tenant,
                Network(
                    name=net,
                    segment=VlanSegment(physical_network="phys", vlan=vlan),
                    subnets=(
                        Subnet(
                            cidr=IPv4Network(f"10.{t_index}.{n_index}.0/24"),
                            gateway=IPv4Address(f"10.{t_index}.{n_index}.1"),
                        ),
                        Subnet(
                            cidr=IPv6Network(f"fd00:{t_index}:{n_index}::/64"),
                            gateway=IPv6Address(f"fd00:{t_index}:{n_index}::1"),
                        ),
                    ),
                    default_action=draw(st.sampled_from(list(DefaultAction))),
                ),
            )
            security = L2Security(
                promiscuous=draw(st.sampled_from(list(Toggle))),
                forged_transmits=draw(
                    st.sampled_from([Toggle.REJECT, Toggle.REJECT, Toggle.ACCEPT])
                ),
                dhcp_server=draw(st.sampled_from(list(Toggle))),
                router_advertisements=draw(st.sampled_from(list(Toggle))),
            )
            add(
                Kind.PORT_GROUP,
                PROVIDER,
                PortGroup(
                    name=f"pg-{vlan}",
                    switch="vs",
                    vlan=VlanPolicy(mode="vst", id=vlan),
                    security=security,
                ),
            )
        if len(nets) > 1 and draw(st.booleans()):
            add(Kind.ROUTER, tenant, Router(name="r", networks=tuple(n for n, *_ in nets)))
        for g_index in range(1, draw(st.integers(1, 3)) + 1):
            vnics = []
            for v_index in range(draw(st.integers(1, 2))):
                use_service = tenant in granted and draw(st.integers(0, 3)) == 0
                seq = next(counter)
                mac = f"02:00:00:00:{seq >> 8:02x}:{seq & 0xFF:02x}"
                if use_service:
                    vnics.append(
                        Vnic(
                            name=f"eth{v_index}",
                            port_group=f"pg-{SERVICE_VLAN}",
                            service="dns",
                            mac=mac,
                            addresses=(IPv4Address(f"10.250.0.{100 + seq % 150}"),),
                            tags=draw(_tags()),
                        )
                    )
                    continue
                net, vlan, ti, ni = draw(st.sampled_from(nets))
                vnics.append(
                    Vnic(
                        name=f"eth{v_index}",
                        port_group=f"pg-{vlan}",
                        network=net,
                        mac=mac,
                        addresses=(
                            IPv4Address(f"10.{ti}.{ni}.{10 + seq}"),
                            IPv6Address(f"fd00:{ti}:{ni}::{10 + seq:x}"),
                        ),
                        tags=draw(_tags()),
                    )
                )
            # service addresses must be unique: drop duplicates the modulo may produce
            management = ManagementAccess()
            if with_mgmt and draw(st.integers(0, 2)) == 0:
                seq = next(counter)
                management = ManagementAccess(
                    isolation=False,
                    mac=f"02:ee:00:00:{seq >> 8:02x}:{seq & 0xFF:02x}",
                    address=IPv4Address(f"192.168.10.{10 + seq}"),
                )
            add(
                Kind.GUEST,
                tenant,
                Guest(
                    name=f"g{g_index}",
                    image="img",
                    host=draw(st.sampled_from(["h1", "h2"])),
                    memory=MemoryAllocation(size=2**30),
                    tags=draw(_tags()),
                    management=management,
                    vnics=tuple(vnics),
                ),
            )
        own_services = services if tenant in granted else ()
        for p_index in range(draw(st.integers(0, 3))):
            add(
                Kind.POLICY,
                tenant,
                draw(policies(owner=tenant, name=f"p{p_index}", services=own_services)),
            )
    for p_index in range(draw(st.integers(0, 2))):
        add(
            Kind.POLICY,
            PROVIDER,
            draw(
                policies(
                    owner=PROVIDER, name=f"pp{p_index}", services=(), scope=tuple(tenant_names)
                )
            ),
        )
    return Estate.build(items)


@st.composite
def policy_changes(draw: st.DrawFn, estate: Estate) -> ChangeSet:
    """A change set of policy creates, updates and deletes, as a tenant or the provider writes."""
    changes: list[Change] = []
    scope = tuple(sorted(ref.name for ref in estate.tenants))
    owners = [*scope, PROVIDER]
    used: set[Ref] = set()
    for _ in range(draw(st.integers(1, 3))):
        owner = draw(st.sampled_from(owners))
        services = ("dns",) if owner == PROVIDER or _granted(estate, owner) else ()
        existing = sorted(r for r in estate.policies if r.owner == owner and r not in used)
        op = draw(st.sampled_from([Op.CREATE, Op.UPDATE, Op.DELETE] if existing else [Op.CREATE]))
        if op is Op.CREATE:
            name = f"new{len(changes)}"
            ref = Ref(owner, name)
            if ref in estate.policies or ref in used:
                continue
            after = draw(
                policies(
                    owner=owner,
                    name=name,
                    services=services if owner != PROVIDER else (),
                    scope=scope,
                )
            )
            changes.append(Change(Op.CREATE, Kind.POLICY, ref, None, after))
        else:
            ref = draw(st.sampled_from(existing))
            before = estate.policies[ref]
            if op is Op.UPDATE:
                after = draw(
                    policies(
                        owner=owner,
                        name=ref.name,
                        services=services if owner != PROVIDER else (),
                        scope=scope,
                    )
                )
                changes.append(Change(Op.UPDATE, Kind.POLICY, ref, before, after))
            else:
                changes.append(Change(Op.DELETE, Kind.POLICY, ref, before, None))
        used.add(ref)
    return ChangeSet(tuple(changes))


def _granted(estate: Estate, tenant: str) -> bool:
    service = estate.shared_services.get(Ref(PROVIDER, "dns"))
    return service is not None and tenant in service.granted_to


# ---------------------------------------------------------------------- frames

ETHERTYPES = (0x0800,) * 6 + (0x86DD,) * 3 + (0x0806,) * 3 + (0x8035, 0x88CC)


@st.composite
def frames_between(draw: st.DrawFn, programs: Any) -> tuple[int, bytes]:
    """(ingress row, frame): a frame sent by a live port with fields picked from the estate's
    MACs and addresses (its own, other ports', routers', random) so attacks are likely."""
    from tenantry.compiler import format_mac
    from tenantry.dataplane import packets as pkt

    odd = st.sampled_from([False] * 9 + [True])
    live = programs.live_rows().tolist()
    row = draw(st.sampled_from(live))
    macs = [programs.port_mac(r) for r in live] + [leg.mac for leg in programs.routers]
    macs += [pkt.BROADCAST, "33:33:00:00:00:01", "02:12:34:56:78:9a"]
    v4 = [str(a) for r in live for a in programs.ports.addresses(r) if a.version == 4]
    v4 += [str(g) for leg in programs.routers for g in leg.gateways if g.version == 4]
    v4 += ["0.0.0.0", "255.255.255.255", "10.9.9.9"]
    v6 = [str(a) for r in live for a in programs.ports.addresses(r) if a.version == 6]
    v6 += [str(programs.ports.link_local(r)) for r in live] + ["::", "ff02::1"]
    own_mac = programs.port_mac(row)
    src_mac = own_mac if not draw(odd) else draw(st.sampled_from(macs))
    dst_mac = draw(st.sampled_from(macs))
    ethertype = draw(st.sampled_from(ETHERTYPES))
    trunk = programs.ports.trunk_of(row)
    tags: tuple[int, ...] = ()
    if trunk and not draw(odd):
        tags = (draw(st.sampled_from([vlan for vlan, _ in trunk] + [4000])),)
    elif draw(odd):
        tags = tuple(draw(st.lists(st.integers(0, 4094), min_size=1, max_size=2)))
    own_v4 = [str(a) for a in programs.ports.addresses(row) if a.version == 4]
    own_v6 = [str(a) for a in programs.ports.addresses(row) if a.version == 6]
    own_v6.append(str(programs.ports.link_local(row)))
    if ethertype in (0x0806, 0x8035):
        sender = (
            draw(st.sampled_from(own_v4)) if own_v4 and not draw(odd) else draw(st.sampled_from(v4))
        )
        body = pkt.arp(
            draw(st.sampled_from([1, 2, 3])),
            own_mac if not draw(odd) else draw(st.sampled_from(macs)),
            sender,
            draw(st.sampled_from(macs)),
            draw(st.sampled_from(v4)),
        )
    elif ethertype == 0x0800:
        src = (
            draw(st.sampled_from(own_v4)) if own_v4 and not draw(odd) else draw(st.sampled_from(v4))
        )
        dst = draw(st.sampled_from(v4))
        proto = draw(st.sampled_from([6, 17, 1]))
        dport = draw(st.sampled_from([22, 53, 67, 68, 80, 443, 445, 5432, 8080]))
        sport = draw(st.sampled_from([40000, 53, 67, 68, 5432]))
        if proto == 6:
            l4 = pkt.tcp(src, dst, sport, dport)
        elif proto == 17:
            payload = pkt.dhcp(1, own_mac) if {sport, dport} & {67, 68} else b""
            l4 = pkt.udp(src, dst, sport, dport, payload)
        else:
            l4 = pkt.icmp_echo(reply=draw(st.booleans()))
        body = pkt.ipv4(src, dst, proto, l4, ttl=draw(st.sampled_from([64, 1])))
    elif ethertype == 0x86DD:
        src6 = draw(st.sampled_from(own_v6)) if not draw(odd) else draw(st.sampled_from(v6))
        dst6 = draw(st.sampled_from(v6))
        kind = draw(st.sampled_from(["tcp", "ns", "na", "ra", "echo"]))
        target = draw(st.sampled_from(v6))
        if kind == "tcp":
            l4, nh = pkt.tcp(src6, dst6, 40000, draw(st.sampled_from([22, 443, 5432]))), 6
        elif kind == "ns":
            l4, nh = pkt.nd_solicit(src6, dst6, target, draw(st.sampled_from([own_mac, *macs]))), 58
        elif kind == "na":
            l4, nh = pkt.nd_advert(src6, dst6, target, draw(st.sampled_from([own_mac, *macs]))), 58
        elif kind == "ra":
            l4, nh = pkt.router_advert(src6, dst6, own_mac), 58
        else:
            l4, nh = pkt.icmpv6(src6, dst6, 128, 0, b"\0\x01\0\x01"), 58
        body = pkt.ipv6(src6, dst6, nh, l4)
    else:
        body = b"\0" * 46
    frame = pkt.ethernet(dst_mac, src_mac, ethertype, body, tags=tags)
    del format_mac
    return row, frame


@st.composite
def guest_changes(draw: st.DrawFn, estate: Estate) -> ChangeSet:
    """Guest updates (tags, host, vNIC tags, a dropped vNIC), deletes and creates (a copy of a
    guest under a new name with fresh MACs and addresses), as a tenant admin makes them."""
    changes: list[Change] = []
    refs = sorted(r for r in estate.guests if r.owner != PROVIDER)
    if not refs:
        return ChangeSet(())
    used: set[Ref] = set()
    serial = 0xA000
    for _ in range(draw(st.integers(1, 3))):
        ref = draw(st.sampled_from(refs))
        if ref in used:
            continue
        used.add(ref)
        guest = estate.guests[ref]
        op = draw(st.sampled_from(["tags", "host", "vnic-tags", "drop-vnic", "delete", "copy"]))
        if op == "delete":
            changes.append(Change(Op.DELETE, Kind.GUEST, ref, guest, None))
            continue
        if op == "copy":
            vnics = []
            for vnic in guest.vnics:
                serial += 1
                mac = f"02:aa:00:00:{serial >> 8 & 0xFF:02x}:{serial & 0xFF:02x}"
                addresses = tuple(
                    IPv4Address(int(a) + 200) if a.version == 4 else IPv6Address(int(a) + 0x200)
                    for a in vnic.addresses
                )
                vnics.append(vnic.model_copy(update={"mac": mac, "addresses": addresses}))
            management = ManagementAccess()
            copy = guest.model_copy(
                update={
                    "name": f"{guest.name}-copy",
                    "vnics": tuple(vnics),
                    "management": management,
                }
            )
            new_ref = Ref(ref.owner, copy.name)
            if new_ref not in estate.guests:
                changes.append(Change(Op.CREATE, Kind.GUEST, new_ref, None, copy))
            continue
        if op == "tags":
            after = guest.model_copy(update={"tags": draw(_tags())})
        elif op == "host":
            after = guest.model_copy(update={"host": "h2" if guest.host == "h1" else "h1"})
        elif op == "vnic-tags" and guest.vnics:
            first = guest.vnics[0].model_copy(update={"tags": draw(_tags())})
            after = guest.model_copy(update={"vnics": (first, *guest.vnics[1:])})
        else:
            after = guest.model_copy(update={"vnics": guest.vnics[:-1]})
        changes.append(Change(Op.UPDATE, Kind.GUEST, ref, guest, after))
    return ChangeSet(tuple(changes))


@st.composite
def network_changes(draw: st.DrawFn, estate: Estate) -> ChangeSet:
    """Network updates (default action, gateways dropped, description, a new overlay id),
    overlay networks created, and unused networks deleted; provider networks too."""
    from tenantry.model import OverlaySegment

    refs = sorted(estate.networks)
    used = {
        Ref(ref.owner, vnic.network)
        for ref, guest in estate.guests.items()
        for vnic in guest.vnics
        if vnic.network is not None
    }
    fresh = 0x7000 + draw(st.integers(0, 0xFF))
    changes: list[Change] = []
    touched: set[Ref] = set()
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["default", "gateways", "describe", "retag", "create", "delete"]))
        if op == "create":
            owner = draw(st.sampled_from(sorted({r.owner for r in refs} or {PROVIDER})))
            fresh += 1
            ref = Ref(owner, f"extra{fresh:x}")
            network = Network(name=ref.name, segment=OverlaySegment(overlay=fresh))
            if ref not in estate.networks and ref not in touched:
                touched.add(ref)
                changes.append(Change(Op.CREATE, Kind.NETWORK, ref, None, network))
            continue
        if not refs:
            continue
        ref = draw(st.sampled_from(refs))
        if ref in touched:
            continue
        touched.add(ref)
        before = estate.networks[ref]
        if op == "delete":
            if ref not in used and ref not in {
                Ref(r.owner, n) for r, router in estate.routers.items() for n in router.networks
            }:
                changes.append(Change(Op.DELETE, Kind.NETWORK, ref, before, None))
            continue
        if op == "default":
            flipped = (
                DefaultAction.ALLOW
                if before.default_action is DefaultAction.DENY
                else DefaultAction.DENY
            )
            after = before.model_copy(update={"default_action": flipped})
        elif op == "gateways":
            subnets = tuple(s.model_copy(update={"gateway": None}) for s in before.subnets)
            after = before.model_copy(update={"subnets": subnets})
        elif op == "describe":
            after = before.model_copy(update={"description": "changed"})
        else:
            fresh += 1
            after = before.model_copy(update={"segment": OverlaySegment(overlay=fresh)})
        changes.append(Change(Op.UPDATE, Kind.NETWORK, ref, before, after))
    return ChangeSet(tuple(changes))
