"""Each admission rule of the foundation: one estate it refuses, one it accepts."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.model import check_estate
from tenantry.placement import check_capacity
from tests.helpers.specs import base_data, estate_from, tenant_section


def broken(data: dict[str, Any]) -> set[str]:
    estate = estate_from(data, check=False)
    return {v.rule for v in [*check_estate(estate), *check_capacity(estate)]}


def acme_vnic(data: dict[str, Any]) -> dict[str, Any]:
    return tenant_section(data, "acme")["guests"][0]["vnics"][0]


def globex_vnic(data: dict[str, Any]) -> dict[str, Any]:
    return tenant_section(data, "globex")["guests"][0]["vnics"][0]


def test_base_estate_breaks_no_rule() -> None:
    """The asset estate is the accepted case every refusal below is a one-field change of."""
    assert broken(base_data()) == set()


def test_duplicate_mac_is_refused() -> None:
    """Two vNICs with one MAC would let one impersonate the other."""
    data = base_data()
    globex_vnic(data)["mac"] = acme_vnic(data)["mac"]
    assert "mac-unique" in broken(data)


def test_distinct_macs_are_accepted() -> None:
    """Changing a MAC to an unused one is fine."""
    data = base_data()
    globex_vnic(data)["mac"] = "02:00:00:00:02:99"
    assert broken(data) == set()


def test_duplicate_ip_in_one_segment_is_refused() -> None:
    """Two vNICs of one segment cannot hold the same address."""
    data = base_data()
    guests = tenant_section(data, "acme")["guests"]
    twin = {**guests[0], "name": "web2", "disks": []}
    twin["vnics"] = [{**guests[0]["vnics"][0], "mac": "02:00:00:00:01:02"}]
    guests.append(twin)
    assert "ip-unique" in broken(data)


def test_same_ip_in_two_tenants_segments_is_accepted() -> None:
    """acme and globex both use 10.1.0.10 in their own segments (overlapping tenant space)."""
    data = base_data()
    assert acme_vnic(data)["addresses"] == globex_vnic(data)["addresses"]
    assert broken(data) == set()


def test_address_outside_the_subnet_is_refused() -> None:
    """A locked address must lie in one of the segment's subnets."""
    data = base_data()
    acme_vnic(data)["addresses"] = ["10.2.0.10"]
    assert "ip-in-subnet" in broken(data)


def test_two_tenants_on_one_vlan_are_refused() -> None:
    """No two tenants share a VLAN id of one physical network."""
    data = base_data()
    tenant_section(data, "globex")["networks"][0]["segment"]["vlan"] = 101
    assert "segment-tenant-unique" in broken(data)


def test_two_tenants_on_one_overlay_id_are_refused() -> None:
    """No two tenants share an overlay id."""
    data = base_data()
    for name in ("acme", "globex"):
        tenant_section(data, name)["networks"][0]["segment"] = {"overlay": 7000}
    assert "segment-tenant-unique" in broken(data)


def test_distinct_overlay_ids_are_accepted() -> None:
    """Overlay segments with distinct ids and EST port groups are fine."""
    data = base_data()
    data["virtual_switches"].append({"name": "vs-ov", "clusters": ["c1"]})
    data["port_groups"] += [
        {"name": "pg-ov-a", "switch": "vs-ov", "vlan": {"mode": "est"}},
        {"name": "pg-ov-g", "switch": "vs-ov", "vlan": {"mode": "est"}},
    ]
    for name, overlay in (("acme", 7001), ("globex", 7002)):
        tenant_section(data, name)["networks"][0]["segment"] = {"overlay": overlay}
    acme_vnic(data)["port_group"] = "pg-ov-a"
    globex_vnic(data)["port_group"] = "pg-ov-g"
    assert broken(data) == set()


def test_vlan_outside_the_physical_networks_ranges_is_refused() -> None:
    """The provider hands out only VLANs in the physical network's ranges."""
    data = base_data()
    tenant_section(data, "globex")["networks"][0]["segment"]["vlan"] = 300
    assert "vlan-range" in broken(data)


def test_vnic_on_another_tenants_network_is_refused() -> None:
    """A vNIC joins only a network of its own tenant."""
    data = base_data()
    tenant_section(data, "globex")["networks"][0]["name"] = "other"
    globex_vnic(data)["network"] = "app"  # now names no globex network
    assert "reference" in broken(data)


def test_vnic_on_an_ungranted_shared_service_is_refused() -> None:
    """globex is not granted DNS, so its vNIC cannot join the service network."""
    data = base_data()
    guest = tenant_section(data, "globex")["guests"][0]
    guest["vnics"].append(
        {
            "name": "eth1",
            "port_group": "pg-dns",
            "service": "dns",
            "mac": "02:00:00:00:02:53",
            "addresses": ["10.99.0.12"],
        }
    )
    assert "service-grant" in broken(data)


def test_vnic_on_a_granted_shared_service_is_accepted() -> None:
    """acme is granted DNS and may attach a vNIC to it."""
    data = base_data()
    guest = tenant_section(data, "acme")["guests"][0]
    guest["vnics"].append(
        {
            "name": "eth1",
            "port_group": "pg-dns",
            "service": "dns",
            "mac": "02:00:00:00:01:53",
            "addresses": ["10.99.0.11"],
        }
    )
    assert broken(data) == set()


def test_disk_on_a_datastore_not_masked_to_the_host_is_refused() -> None:
    """LUN masking: the guest's host must see the datastore of each of its disks."""
    data = base_data()
    data["datastores"][0]["masked_to"] = ["h2"]
    assert "lun-masking" in broken(data)


def test_guest_on_a_host_without_the_tenants_tag_is_refused() -> None:
    """A tenant with a placement tag lands only on hosts carrying it."""
    data = base_data()
    tenant_section(data, "acme")["placement_tag"] = "acme"
    data["hosts"][1]["tags"] = ["acme"]  # h2 tagged, but acme/web is on h1
    assert "placement-host" in broken(data)


def test_guest_on_a_host_with_the_tenants_tag_is_accepted() -> None:
    """Tagging h1, its datastore and switch for acme admits acme/web there."""
    data = base_data()
    tenant_section(data, "acme")["placement_tag"] = "acme"
    data["hosts"][0]["tags"] = ["acme"]
    data["datastores"].append(
        {"name": "ds-acme", "capacity": "1TiB", "masked_to": ["h1"], "tags": ["acme"]}
    )
    tenant_section(data, "acme")["guests"][0]["disks"][0]["datastore"] = "ds-acme"
    data["virtual_switches"][0]["tags"] = ["acme"]
    # globex and dns-1 must then stay off acme's resources: move globex to h2 and its own switch.
    data["virtual_switches"].append(
        {"name": "vs2", "clusters": ["c1"], "physical_network": "physnet1"}
    )
    data["port_groups"][1]["switch"] = "vs2"
    data["guests"][0]["host"] = "h2"
    data["port_groups"][2]["switch"] = "vs2"
    assert broken(data) == set()


def test_other_tenant_on_a_tagged_host_is_refused() -> None:
    """A host tagged for one tenant serves no other tenant."""
    data = base_data()
    tenant_section(data, "acme")["placement_tag"] = "acme"
    data["hosts"][1]["tags"] = ["acme"]
    assert "placement-host" in broken(data)  # globex/web sits on h2


def test_disk_on_another_tenants_datastore_is_refused() -> None:
    """A datastore tagged for acme is not used by globex."""
    data = base_data()
    tenant_section(data, "acme")["placement_tag"] = "acme"
    data["datastores"][0]["tags"] = ["acme"]
    tenant_section(data, "globex")["guests"][0]["disks"] = [
        {"name": "root", "datastore": "ds1", "size": "1GiB"}
    ]
    assert "placement-datastore" in broken(data)


def test_host_reservations_beyond_capacity_are_refused() -> None:
    """Reserved vCPUs on a host never exceed its capacity."""
    data = base_data()
    data["hosts"][0]["cpus"] = 16
    tenant_section(data, "acme")["resources"]["vcpu"]["max"] = 64
    guest = tenant_section(data, "acme")["guests"][0]
    guest["cpu"] = {"count": 32, "reservation": 17}
    assert "capacity-host" in broken(data)


def test_host_reservations_within_capacity_are_accepted() -> None:
    """A reservation that fits is fine."""
    data = base_data()
    guest = tenant_section(data, "acme")["guests"][0]
    guest["cpu"] = {"count": 8, "reservation": 8}
    assert broken(data) == set()


def test_tenant_reservations_above_its_upper_bound_are_refused() -> None:
    """acme may reserve at most 8 vCPUs in all."""
    data = base_data()
    guest = tenant_section(data, "acme")["guests"][0]
    guest["cpu"] = {"count": 9, "reservation": 9}
    assert "capacity-tenant" in broken(data)


def test_pool_children_beyond_a_fixed_reservation_are_refused() -> None:
    """A non-expandable pool cannot hand out more than it reserved."""
    data = base_data()
    data["resource_pools"] = [
        {"name": "gold", "cluster": "c1", "cpu": {"reservation": 4}, "delegate_to": "acme"}
    ]
    tenant_section(data, "acme")["resource_pools"] = [
        {"name": "acme-web", "parent": "gold", "cpu": {"reservation": 6}}
    ]
    assert "capacity-pool" in broken(data)


def test_expandable_pool_borrows_from_its_parent() -> None:
    """The same pool with an expandable reservation borrows from the cluster and is accepted."""
    data = base_data()
    data["resource_pools"] = [
        {
            "name": "gold",
            "cluster": "c1",
            "cpu": {"reservation": 4, "expandable_reservation": True},
            "delegate_to": "acme",
        }
    ]
    tenant_section(data, "acme")["resource_pools"] = [
        {"name": "acme-web", "parent": "gold", "cpu": {"reservation": 6}}
    ]
    assert broken(data) == set()


def test_pool_not_delegated_to_the_tenant_is_refused() -> None:
    """A tenant builds pools only under pools delegated to it."""
    data = base_data()
    data["resource_pools"] = [{"name": "gold", "cluster": "c1", "cpu": {"reservation": 4}}]
    tenant_section(data, "acme")["resource_pools"] = [{"name": "mine", "parent": "gold"}]
    assert "pool-delegation" in broken(data)


def test_vst_port_group_on_another_vlan_is_refused() -> None:
    """A VST port group tags one VLAN; the vNIC's network must be that VLAN."""
    data = base_data()
    acme_vnic(data)["port_group"] = "pg-globex"
    assert "vst-mismatch" in broken(data)


def test_trunk_carrying_another_tenants_vlan_is_refused() -> None:
    """A VGT trunk that includes another tenant's VLAN would bridge into it."""
    data = base_data()
    data["port_groups"].append(
        {"name": "pg-trunk", "switch": "vs1", "vlan": {"mode": "vgt", "trunk": ["101-102"]}}
    )
    vnic = acme_vnic(data)
    vnic["port_group"] = "pg-trunk"
    del vnic["network"]
    assert "trunk-foreign-vlan" in broken(data)


def test_trunk_carrying_own_vlans_is_accepted() -> None:
    """A trunk limited to the tenant's own VLAN is fine."""
    data = base_data()
    data["port_groups"].append(
        {"name": "pg-trunk", "switch": "vs1", "vlan": {"mode": "vgt", "trunk": [101]}}
    )
    vnic = acme_vnic(data)
    vnic["port_group"] = "pg-trunk"
    del vnic["network"]
    assert broken(data) == set()


def test_two_switches_sharing_an_uplink_are_refused() -> None:
    """One host NIC in two switches would bridge them."""
    data = base_data()
    data["virtual_switches"].append(
        {"name": "vs2", "clusters": ["c1"], "physical_network": "physnet1", "uplinks": ["eth1"]}
    )
    assert "uplink-shared" in broken(data)


def test_router_joining_overlapping_subnets_is_refused() -> None:
    """A router cannot join two networks whose subnets overlap."""
    data = base_data()
    acme = tenant_section(data, "acme")
    acme["networks"].append(
        {
            "name": "db",
            "segment": {"physical_network": "physnet1", "vlan": 103},
            "subnets": [{"cidr": "10.1.0.0/25", "gateway": "10.1.0.2"}],
        }
    )
    acme["routers"] = [{"name": "r1", "networks": ["app", "db"]}]
    assert "router-overlap" in broken(data)


def test_router_joining_own_disjoint_networks_is_accepted() -> None:
    """The same router over disjoint subnets is fine."""
    data = base_data()
    acme = tenant_section(data, "acme")
    acme["networks"].append(
        {
            "name": "db",
            "segment": {"physical_network": "physnet1", "vlan": 103},
            "subnets": [{"cidr": "10.3.0.0/24", "gateway": "10.3.0.1"}],
        }
    )
    acme["routers"] = [{"name": "r1", "networks": ["app", "db"]}]
    assert broken(data) == set()


@pytest.mark.parametrize("tier", ["provider", "baseline"])
def test_tenant_policy_in_a_provider_tier_is_refused(tier: str) -> None:
    """Only the provider writes the provider and baseline tiers."""
    data = base_data()
    tenant_section(data, "acme")["policies"][0]["tier"] = tier
    assert "policy-tier" in broken(data)


def test_tenant_policy_reaching_other_tenants_is_refused() -> None:
    """A tenant's selector never names other tenants."""
    data = base_data()
    tenant_section(data, "acme")["policies"][0]["applies_to"] = {"tenants": ["globex"]}
    assert "policy-scope" in broken(data)
