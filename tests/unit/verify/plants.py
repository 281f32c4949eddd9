"""Planting leaks into the demo estate: one small, named edit per way isolation can break."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

from tenantry.compiler import PortFlag, Programs, RouterInterface, compile_estate
from tenantry.model import (
    PROVIDER,
    Change,
    ChangeSet,
    Disk,
    Estate,
    Guest,
    HostUplink,
    Kind,
    ManagementAccess,
    MemoryAllocation,
    Model,
    Network,
    Op,
    PhysicalNetwork,
    PortGroup,
    Ref,
    Subnet,
    VirtualSwitch,
    VlanPolicy,
    VlanSegment,
    Vnic,
    router_mac,
)
from tests.helpers.estates import example_estate

__all__ = ["demo", "put", "with_guest"]


def demo() -> Estate:
    """The demo estate with every guest pinned (finance on h1, the others on h3)."""
    estate = example_estate("demo")
    changes = []
    for ref, guest in estate.guests.items():
        host = "h1" if ref.owner == "finance" else "h3"
        changes.append(
            Change(Op.UPDATE, Kind.GUEST, ref, guest, guest.model_copy(update={"host": host}))
        )
    return estate.with_changes(ChangeSet(tuple(changes)))


def put(estate: Estate, *items: tuple[Kind, str, Model]) -> Estate:
    """The estate with these (kind, owner, object) created or replaced."""
    changes = []
    for kind, owner, obj in items:
        ref = Ref(owner, obj.name)  # type: ignore[attr-defined]
        before = estate.get(kind, ref)
        changes.append(Change(Op.CREATE if before is None else Op.UPDATE, kind, ref, before, obj))
    return estate.with_changes(ChangeSet(tuple(changes)))


def with_guest(estate: Estate, owner: str, name: str, *vnics: Vnic, **fields: object) -> Estate:
    guest = Guest(
        name=name,
        image="debian-12",
        host=fields.pop("host", "h3"),
        memory=MemoryAllocation(size=2**30),
        vnics=vnics,
        **fields,  # type: ignore[arg-type]
    )
    return put(estate, (Kind.GUEST, owner, guest))


# ---------------------------------------------------------------------- layer 2


def duplicate_vlan(estate: Estate) -> Estate:
    """hr's app network moved onto VLAN 130, which sales' app network already uses."""
    net = estate.networks[Ref("hr", "app")]
    moved = net.model_copy(update={"segment": VlanSegment(physical_network="physnet1", vlan=130)})
    return put(estate, (Kind.NETWORK, "hr", moved))


def foreign_trunk(estate: Estate) -> Estate:
    """A VGT trunk of hr that also carries sales' VLAN 130."""
    group = PortGroup(
        name="pg-trunk", switch="vs-c2", vlan=VlanPolicy(mode="vgt", trunk=((120, 130),))
    )
    estate = put(estate, (Kind.PORT_GROUP, PROVIDER, group))
    vnic = Vnic(
        name="eth0",
        port_group="pg-trunk",
        mac="02:20:00:00:09:01",
        addresses=(IPv4Address("10.20.0.91"),),
    )
    return with_guest(estate, "hr", "appliance", vnic)


def bridged_management(estate: Estate, *owners: str) -> Estate:
    """A guest of each owner without management isolation (a port on the management network)."""
    for i, owner in enumerate(owners, start=1):
        vnic = estate.guests[next(r for r in estate.guests if r.owner == owner)].vnics[0]
        access = ManagementAccess(
            isolation=False,
            mac=f"02:ee:00:00:00:{i:02x}",
            address=IPv4Address(f"192.168.10.{100 + i}"),
        )
        mine = vnic.model_copy(
            update={"name": "eth0", "mac": f"02:ee:00:00:01:{i:02x}", "addresses": ()}
        )
        estate = with_guest(estate, owner, f"bridged-{i}", mine, management=access)
    return estate


def open_consumer(programs: Programs, port: str) -> Programs:
    """A shared-service port that lost its consumer isolation (as a read-back could show)."""
    row = programs.port_row(port)
    assert row is not None
    flags = programs.ports.flags.copy()
    flags[row] &= ~PortFlag.SERVICE_CONSUMER
    return replace(programs, ports=replace(programs.ports, flags=flags))


def shared_uplink(estate: Estate) -> Estate:
    """A second physical network whose switch shares eth1 with vs-c2, carrying web on VLAN 120."""
    estate = put(
        estate,
        (
            Kind.PHYSICAL_NETWORK,
            PROVIDER,
            PhysicalNetwork(name="physnet2", vlan_ranges=((100, 299),)),
        ),
        (
            Kind.VIRTUAL_SWITCH,
            PROVIDER,
            VirtualSwitch(
                name="vs-p2", clusters=("c2",), physical_network="physnet2", uplinks=("eth1",)
            ),
        ),
        (
            Kind.PORT_GROUP,
            PROVIDER,
            PortGroup(name="pg-p2", switch="vs-p2", vlan=VlanPolicy(mode="vst", id=120)),
        ),
        (
            Kind.NETWORK,
            "web",
            Network(
                name="legacy",
                segment=VlanSegment(physical_network="physnet2", vlan=120),
                subnets=(Subnet(cidr=IPv4Network("10.42.0.0/24")),),
            ),
        ),
    )
    vnic = Vnic(
        name="eth0",
        port_group="pg-p2",
        network="legacy",
        mac="02:40:00:00:09:01",
        addresses=(IPv4Address("10.42.0.11"),),
    )
    return with_guest(estate, "web", "legacy-1", vnic)


def separate_physnet(estate: Estate) -> Estate:
    """The same VLAN 120 on a second physical network that no NIC joins to the first."""
    estate = shared_uplink(estate)
    hosts = []
    for host in estate.hosts.values():
        if host.cluster == "c2":
            uplinks = (*host.uplinks, HostUplink(name="eth2", physical_network="physnet2"))
            hosts.append((Kind.HOST, PROVIDER, host.model_copy(update={"uplinks": uplinks})))
    switch = estate.switches[Ref(PROVIDER, "vs-p2")].model_copy(update={"uplinks": ("eth2",)})
    return put(estate, *hosts, (Kind.VIRTUAL_SWITCH, PROVIDER, switch))


# ---------------------------------------------------------------------- layer 3 and bridging


def foreign_router(programs: Programs, owner: str, first: str, second: str) -> Programs:
    """A router of ``owner`` with interfaces in two networks (``owner/name``), one foreign."""
    legs = []
    for network in (first, second):
        segment = programs.segment_of(Ref(*network.split("/")))
        assert segment is not None
        legs.append(
            RouterInterface(
                Ref(owner, "rogue"),
                segment.id,
                router_mac(owner, "rogue", network.replace("/", "-")),
                segment.gateways,
                segment.subnets,
            )
        )
    return replace(programs, routers=(*programs.routers, *legs))


def bridging_guest(estate: Estate) -> Estate:
    """A provider appliance with one trunk vNIC on hr's VLAN and one on sales'."""
    estate = put(
        estate,
        (
            Kind.PORT_GROUP,
            PROVIDER,
            PortGroup(
                name="pg-t120", switch="vs-c2", vlan=VlanPolicy(mode="vgt", trunk=((120, 120),))
            ),
        ),
        (
            Kind.PORT_GROUP,
            PROVIDER,
            PortGroup(
                name="pg-t130", switch="vs-c2", vlan=VlanPolicy(mode="vgt", trunk=((130, 130),))
            ),
        ),
    )
    return with_guest(
        estate,
        PROVIDER,
        "fw-1",
        Vnic(name="eth0", port_group="pg-t120", mac="02:00:00:fb:00:01"),
        Vnic(name="eth1", port_group="pg-t130", mac="02:00:00:fb:00:02"),
    )


# ---------------------------------------------------------------------- storage


def foreign_disk(estate: Estate) -> Estate:
    """finance (dedicated storage) gets a disk on ds-shared, masked to hosts running hr."""
    ref = Ref("finance", "ledger-db-1")
    guest = estate.guests[ref]
    disks = (*guest.disks, Disk(name="spill", datastore="ds-shared", size=2**30))
    return put(estate, (Kind.GUEST, "finance", guest.model_copy(update={"disks": disks})))


def widened_masking(estate: Estate) -> Estate:
    """ds-finance masked to h3 too, a host of the shared cluster."""
    store = estate.datastores[Ref(PROVIDER, "ds-finance")]
    return put(
        estate,
        (Kind.DATASTORE, PROVIDER, store.model_copy(update={"masked_to": ("h1", "h2", "h3")})),
    )


# ---------------------------------------------------------------------- chains of forwarders


def transit(estate: Estate) -> Estate:
    """A provider transit network on VLAN 199 (no tenant port on it) and trunks to hr's and
    sales' VLANs, for appliances to chain through."""
    network = Network(
        name="transit",
        segment=VlanSegment(physical_network="physnet1", vlan=199),
        subnets=(Subnet(cidr=IPv4Network("10.99.0.0/24"), gateway=IPv4Address("10.99.0.1")),),
    )
    groups = [
        PortGroup(name="pg-transit", switch="vs-c2", vlan=VlanPolicy(mode="vst", id=199)),
        PortGroup(name="pg-t120", switch="vs-c2", vlan=VlanPolicy(mode="vgt", trunk=((120, 120),))),
        PortGroup(name="pg-t130", switch="vs-c2", vlan=VlanPolicy(mode="vgt", trunk=((130, 130),))),
    ]
    return put(
        estate,
        (Kind.NETWORK, PROVIDER, network),
        *[(Kind.PORT_GROUP, PROVIDER, group) for group in groups],
    )


def _on_transit(name: str, host: int) -> Vnic:
    return Vnic(
        name=name,
        port_group="pg-transit",
        network="transit",
        mac=f"02:00:00:99:00:{host:02x}",
        addresses=(IPv4Address(f"10.99.0.{host}"),),
    )


def appliance_chain(estate: Estate) -> Estate:
    """hr -> fw-a -> transit -> fw-b -> sales: neither appliance touches two tenants."""
    estate = transit(estate)
    trunk_hr = Vnic(name="eth0", port_group="pg-t120", mac="02:00:00:fa:00:01")
    estate = with_guest(estate, PROVIDER, "fw-a", trunk_hr, _on_transit("eth1", 11))
    trunk_sales = Vnic(name="eth1", port_group="pg-t130", mac="02:00:00:fb:00:01")
    return with_guest(estate, PROVIDER, "fw-b", _on_transit("eth0", 12), trunk_sales)


def half_chain(estate: Estate) -> Estate:
    """Only fw-a: hr reaches the transit network, where no other tenant is."""
    estate = transit(estate)
    trunk_hr = Vnic(name="eth0", port_group="pg-t120", mac="02:00:00:fa:00:01")
    return with_guest(estate, PROVIDER, "fw-a", trunk_hr, _on_transit("eth1", 11))


def router_then_appliance(estate: Estate) -> tuple[Estate, Programs]:
    """A provider router joining hr's app network and the transit network, then fw-b
    bridging the transit network and sales' VLAN."""
    estate = transit(estate)
    trunk_sales = Vnic(name="eth1", port_group="pg-t130", mac="02:00:00:fb:00:01")
    estate = with_guest(estate, PROVIDER, "fw-b", _on_transit("eth0", 12), trunk_sales)
    programs = compile_estate(estate)
    legs = []
    for network in ("hr/app", "provider/transit"):
        segment = programs.segment_of(Ref(*network.split("/")))
        assert segment is not None
        legs.append(
            RouterInterface(
                Ref(PROVIDER, "edge-x"),
                segment.id,
                router_mac(PROVIDER, "edge-x", network.replace("/", "-")),
                segment.gateways,
                segment.subnets,
            )
        )
    return estate, replace(programs, routers=(*programs.routers, *legs))
