"""compile_estate: segments, ports, chains, address sets and routers of the example estates."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address

import pytest

from tenantry.compiler import (
    PeerKind,
    PortFlag,
    PortKind,
    Programs,
    SegmentKind,
    VlanModeCode,
    compile_estate,
    format_mac,
)
from tenantry.model import PROVIDER, Ref, Tier, router_mac
from tests.helpers.estates import example_estate


@pytest.fixture(scope="module")
def programs() -> Programs:
    return compile_estate(example_estate())


def row(programs: Programs, name: str) -> int:
    found = programs.port_row(name)
    assert found is not None, name
    return found


def test_each_network_becomes_one_segment(programs: Programs) -> None:
    """Every network of the estate has exactly one segment, keyed by its VLAN."""
    estate = example_estate()
    segments = [s for s in programs.segments if s is not None]
    assert {s.network for s in segments} == set(estate.networks)
    app = programs.segment_of(Ref("acme", "app"))
    assert app is not None
    assert (app.kind, app.physical_network, app.tag) == (SegmentKind.VLAN, "physnet1", 110)
    assert app.gateways == (IPv4Address("10.1.0.1"), IPv6Address("fd00:1::1"))


def test_vnic_lands_on_its_networks_segment(programs: Programs) -> None:
    """A vNIC attached to its owner's network sits on that network's segment."""
    a1 = row(programs, "acme/a1/eth0")
    app = programs.segment_of(Ref("acme", "app"))
    assert app is not None
    assert programs.ports.segment[a1] == app.id
    assert programs.port_mac(a1) == "02:00:00:01:00:01"
    assert programs.ports.addresses(a1) == (IPv4Address("10.1.0.11"), IPv6Address("fd00:1::11"))
    assert programs.ports.vlan_mode[a1] == VlanModeCode.VST


def test_link_local_is_derived_from_the_mac(programs: Programs) -> None:
    """The link-local address a port may use comes from its MAC (EUI-64), not from the spec."""
    a1 = row(programs, "acme/a1/eth0")
    assert programs.ports.link_local(a1) == IPv6Address("fe80::ff:fe01:1")


def test_service_vnic_is_an_isolated_consumer_on_the_provider_segment(programs: Programs) -> None:
    """A tenant vNIC joining a shared service sits on the provider's segment, flagged consumer."""
    a1_dns = row(programs, "acme/a1/eth1")
    dns = row(programs, "dns-1/eth0")
    svc = programs.segment_of(Ref(PROVIDER, "svc-dns"))
    assert svc is not None
    assert svc.service == "dns"
    assert programs.ports.segment[a1_dns] == svc.id == programs.ports.segment[dns]
    assert programs.ports.flags[a1_dns] & PortFlag.SERVICE_CONSUMER
    assert programs.ports.flags[dns] & PortFlag.SERVICE_PROVIDER
    assert not programs.ports.flags[dns] & PortFlag.SERVICE_CONSUMER


def test_trunk_port_maps_each_granted_vlan_to_its_segment(programs: Programs) -> None:
    """A VGT trunk reaches the segment of each VLAN in its list, and has no segment of its own."""
    fw = row(programs, "acme/fw/eth0")
    app = programs.segment_of(Ref("acme", "app"))
    db = programs.segment_of(Ref("acme", "db"))
    assert app is not None
    assert db is not None
    assert programs.ports.segment[fw] == -1
    assert programs.ports.trunk_of(fw) == ((110, app.id), (111, db.id))
    assert programs.ports.vlan_mode[fw] == VlanModeCode.VGT


def test_bridged_guest_gets_a_management_port(programs: Programs) -> None:
    """A guest without management isolation has a port on the provider's management network."""
    mgmt_row = row(programs, "acme/a2/.management")
    mgmt = programs.segment_of(Ref(PROVIDER, "mgmt"))
    assert mgmt is not None
    assert mgmt.management
    assert programs.ports.kind[mgmt_row] == PortKind.MANAGEMENT
    assert programs.ports.segment[mgmt_row] == mgmt.id
    assert programs.port_mac(mgmt_row) == "02:00:00:0e:00:02"
    assert programs.owner_of(mgmt_row) == "acme"


def test_isolated_guest_gets_no_management_port(programs: Programs) -> None:
    """A guest in management isolation mode has no interface on the management network."""
    assert programs.port_row("acme/a1/.management") is None


def test_l2_flags_follow_the_port_group(programs: Programs) -> None:
    """Relaxations and designations come from the port group, nothing else."""
    infra = programs.ports.flags[row(programs, "acme/infra/eth0")]
    assert infra & PortFlag.DHCP_SERVER
    assert infra & PortFlag.ROUTER_ADVERTISEMENTS
    sniff = programs.ports.flags[row(programs, "bravo/b2/eth0")]
    assert sniff & PortFlag.PROMISCUOUS
    assert sniff & PortFlag.FORGED_TRANSMITS
    plain = programs.ports.flags[row(programs, "acme/a1/eth0")]
    assert plain == 0


def test_policy_shared_by_many_vnics_is_compiled_once(programs: Programs) -> None:
    """Two web vNICs share one chain, and the web policy exists once."""
    a1, a2 = row(programs, "acme/a1/eth0"), row(programs, "acme/a2/eth0")
    assert programs.ports.chain[a1] == programs.ports.chain[a2]
    webs = [p for p in programs.policies if p is not None and p.ref == Ref("acme", "web")]
    assert len(webs) == 1
    assert programs.host_policies("h1").count(webs[0].id) == 1


def test_chain_orders_policies_by_tier_then_order(programs: Programs) -> None:
    """Provider tier first, then tenant, application, baseline; within a tier by order."""
    chain = programs.chain_policies(row(programs, "acme/a3/eth0"))
    assert [(p.tier, str(p.ref)) for p in chain] == [
        (Tier.PROVIDER, "mandatory-no-smb"),
        (Tier.TENANT, "acme/db"),
        (Tier.BASELINE, "baseline-icmp"),
    ]


def test_provider_policy_scoped_to_provider_skips_tenants(programs: Programs) -> None:
    """`tenants: [provider]` applies to the provider's own vNICs only."""
    names = {str(p.ref) for p in programs.chain_policies(row(programs, "dns-1/eth0"))}
    assert "dns-servers" in names
    names = {str(p.ref) for p in programs.chain_policies(row(programs, "bravo/b1/eth0"))}
    assert "dns-servers" not in names


def test_selector_peer_resolves_to_the_selected_vnics_addresses(programs: Programs) -> None:
    """`peer: {selector: {tags: [db]}}` becomes the db vNICs' locked addresses, as a set."""
    web = next(p for p in programs.policies if p is not None and p.ref == Ref("acme", "web"))
    peer = web.rules[1].peer
    assert peer.kind is PeerKind.SELECTOR
    aset = programs.address_sets[peer.address_set]
    assert aset is not None
    assert aset.prefixes.networks() == (IPv4Network("10.1.1.13/32"),)
    assert [programs.port_name(r) for r in aset.ports] == ["acme/a3/eth0"]


def test_tenant_selector_never_selects_another_tenants_vnics(programs: Programs) -> None:
    """acme's `tags: [web]` selector holds acme's web vNICs only, whatever bravo tags."""
    db = next(p for p in programs.policies if p is not None and p.ref == Ref("acme", "db"))
    aset = programs.address_sets[db.rules[0].peer.address_set]
    assert aset is not None
    owners = {programs.owner_of(r) for r in aset.ports}
    assert owners == {"acme"}


def test_service_peer_resolves_to_the_service_subnets(programs: Programs) -> None:
    """`peer: {service: dns}` is the service network's subnets."""
    web = next(p for p in programs.policies if p is not None and p.ref == Ref("acme", "web"))
    peer = web.rules[2].peer
    assert peer.kind is PeerKind.SERVICE
    assert peer.service == "dns"
    aset = programs.address_sets[peer.address_set]
    assert aset is not None
    assert aset.prefixes.networks() == (IPv4Network("10.250.0.0/24"),)


def test_port_ranges_stay_a_merged_set() -> None:
    """Overlapping and adjacent ranges merge; nothing is expanded port by port."""
    from tenantry.compiler.rules import merge_ranges

    assert merge_ranges(((443, 443), (80, 80), (81, 90), (85, 100))) == ((80, 100), (443, 443))


def test_router_interface_uses_router_mac_and_gateways(programs: Programs) -> None:
    """Each joined network gets an interface with the model's router MAC and its gateways."""
    legs = {programs.segments[r.segment].network.name: r for r in programs.routers}  # type: ignore[union-attr]
    assert set(legs) == {"app", "db"}
    assert legs["db"].mac == router_mac("acme", "core", "db")
    assert legs["db"].gateways == (IPv4Address("10.1.1.1"),)


def test_ports_are_placed_on_their_guests_hosts(programs: Programs) -> None:
    """The host column follows the guest's host; each host lists only its own ports."""
    h2 = {programs.port_name(r) for r in programs.host_rows("h2")}
    assert h2 == {"acme/a2/eth0", "acme/a2/.management", "acme/a3/eth0", "bravo/b2/eth0"}


def test_demo_estate_compiles_with_unplaced_guests() -> None:
    """Guests not yet placed compile with no host (host -1)."""
    programs = compile_estate(example_estate("demo"))
    assert len(programs.ports) == 16
    assert set(programs.ports.host.tolist()) == {-1, 2}


def test_mac_text_round_trips() -> None:
    """MACs are stored as 48-bit integers and print back the same."""
    assert format_mac(0x020000010001) == "02:00:00:01:00:01"
