"""Planted leaks of every kind are found, and their counterexamples cross the reference data
plane; the legitimate flow next to each still verifies."""

from __future__ import annotations

from tenantry.compiler import compile_estate
from tenantry.model import Policy, Ref, Rule, Tier
from tenantry.verify import LeakKind
from tests.helpers.estates import with_policies
from tests.helpers.isolation import assert_isolated, assert_leaks, verified
from tests.unit.verify import plants


def test_demo_estate_is_isolated() -> None:
    """The demo (routers, shared DNS, dedicated finance storage) verifies clean."""
    found = assert_isolated(plants.demo())
    assert found.report.stats["routers"] == 2


def test_duplicate_vlan_merges_two_tenants_segments() -> None:
    """Two networks on one VLAN id are one broadcast domain: ARP crosses."""
    leak = assert_leaks(plants.duplicate_vlan(plants.demo()), LeakKind.L2, "hr", "sales")
    assert "share VLAN 130" in leak.cause


def test_same_vlan_on_separate_physical_networks_stays_apart() -> None:
    """VLAN 120 on two physical networks that no NIC joins is two domains."""
    assert_isolated(plants.separate_physnet(plants.demo()))


def test_shared_uplink_bridges_two_physical_networks() -> None:
    """A host NIC shared by switches of two physical networks merges their VLANs."""
    leak = assert_leaks(plants.shared_uplink(plants.demo()), LeakKind.L2, "web", "hr")
    assert "bridged" in leak.cause
    assert "shared by switches" in leak.cause


def test_trunk_reaching_a_foreign_vlan_leaks() -> None:
    """A VGT trunk whose list includes another tenant's VLAN sends tagged ARP into it."""
    leak = assert_leaks(plants.foreign_trunk(plants.demo()), LeakKind.L2, "hr", "sales")
    assert "VGT trunk" in leak.cause
    assert "VLAN 130" in leak.counterexample.hops[0].summary


def test_bridged_guests_of_two_tenants_meet_on_the_management_network() -> None:
    """Two tenants' guests without isolation mode share the management segment."""
    estate = plants.bridged_management(plants.demo(), "hr", "sales")
    leak = assert_leaks(estate, LeakKind.L2, "sales", "hr")
    assert "management" in leak.cause


def test_one_tenants_bridged_guest_on_the_management_network_is_no_leak() -> None:
    """A single tenant on the management network meets only the provider there."""
    assert_isolated(plants.bridged_management(plants.demo(), "hr"))


def test_service_consumer_without_isolation_leaks() -> None:
    """A consumer port that is not isolated reaches other tenants' consumer ports."""
    estate = plants.demo()
    programs = plants.open_consumer(compile_estate(estate), "hr/payroll-1/eth1")
    leak = assert_leaks(estate, LeakKind.L2, "hr", "sales", programs)
    assert "not isolated" in leak.cause


def test_isolated_service_consumers_share_dns_without_leaking() -> None:
    """Four tenants on the DNS segment reach the provider's server only."""
    found = assert_isolated(plants.demo())
    assert found.report.stats["ports"] == 16


def test_router_joining_two_tenants_networks_routes_between_them() -> None:
    """A router with an interface in another tenant's network forwards into it."""
    estate = plants.demo()
    programs = plants.foreign_router(compile_estate(estate), "hr", "hr/app", "sales/app")
    leak = assert_leaks(estate, LeakKind.ROUTED, "hr", "sales", programs)
    assert "router hr/rogue" in leak.cause
    assert "router hr/rogue" in leak.counterexample.hops[0].path


def test_routed_counterexample_prefers_a_packet_policy_allows() -> None:
    """With policies allowing some class, the counterexample is an ordinary packet of it."""
    out = Policy(name="out", tier=Tier.TENANT, rules=(Rule(action="allow", direction="egress"),))
    web_in = Rule(action="allow", direction="ingress", protocol="tcp", ports=("8443",))
    into = Policy(name="in", tier=Tier.TENANT, rules=(web_in,))
    estate = with_policies(plants.demo(), ("web", out), ("hr", into))
    programs = plants.foreign_router(compile_estate(estate), "web", "web/front", "hr/app")
    leak = assert_leaks(estate, LeakKind.ROUTED, "web", "hr", programs)
    summary = leak.counterexample.hops[0].summary
    # baseline lets ICMP in, hr lets tcp/8443 in: either is a class both chains allow
    assert summary.startswith(("icmp ", "tcp ")), summary
    assert "exempt" not in summary


def test_tenant_router_between_its_own_networks_is_no_leak() -> None:
    """finance's and web's routers join only their owners' networks."""
    found = verified(plants.demo())
    assert not [k for k in found.report.leaks if k.kind is LeakKind.ROUTED]


def test_guest_bridging_two_tenants_leaks_in_two_hops() -> None:
    """A provider appliance on hr's and sales' VLANs can forward between them."""
    leak = assert_leaks(plants.bridging_guest(plants.demo()), LeakKind.BRIDGED, "hr", "sales")
    hops = leak.counterexample.hops
    assert len(hops) == 2
    assert hops[0].receiver.startswith("fw-1/")
    assert hops[1].sender.startswith("fw-1/")


def test_tenant_guest_on_two_own_networks_is_no_bridge() -> None:
    """sales' crm-1 joins two of sales' own networks: no other tenant is reached."""
    found = verified(plants.demo())
    assert not [k for k in found.report.leaks if k.kind is LeakKind.BRIDGED]
    assert Ref("sales", "crm-1") in plants.demo().guests


def test_dedicated_tenants_disk_on_a_shared_datastore_leaks() -> None:
    """finance's disk on ds-shared is visible to h3, which runs hr's guests."""
    leak = assert_leaks(plants.foreign_disk(plants.demo()), LeakKind.STORAGE, "finance", "hr")
    assert "ds-shared" in leak.counterexample.description


def test_dedicated_datastore_masked_to_a_shared_host_leaks() -> None:
    """ds-finance masked to h3 exposes finance's disks to the tenants running there."""
    leak = assert_leaks(plants.widened_masking(plants.demo()), LeakKind.STORAGE, "finance", "web")
    assert "h3" in leak.cause


def test_shared_datastore_of_tenants_without_dedicated_storage_is_no_leak() -> None:
    """hr, sales and web share ds-shared by design (the hypervisor keeps disks apart)."""
    found = verified(plants.demo())
    assert not [k for k in found.report.leaks if k.kind is LeakKind.STORAGE]
