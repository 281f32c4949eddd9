"""Programs to Northbound rows: priority bands, pass, port security, ownership."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings

from tenantry.compiler import Programs, compile_estate
from tenantry.dataplane.ovn import desired_rows, names
from tenantry.dataplane.ovn.bands import TIER_BANDS, place_rules
from tenantry.dataplane.ovn.match import parse
from tenantry.dataplane.ovn.rows import Row, walk
from tenantry.model import Action, Estate, Ref, Tier
from tests.helpers.estates import example_estate
from tests.strategies import estates


def _acls(rows: list[Row]) -> list[tuple[Row, Row]]:
    """(port group, ACL) pairs."""
    return [
        (group, acl)
        for group in rows
        if group.table == "Port_Group"
        for acl in group.children.get("acls", ())
    ]


def _members(group: Row) -> frozenset[str]:
    return frozenset(ref.key for ref in group.columns["ports"])


def _same_priority_conflicts(programs: Programs) -> list[str]:
    """ACLs that can meet on one port with the same priority and direction but other actions."""
    seen: dict[tuple[int, str], list[tuple[str, frozenset[str], str]]] = defaultdict(list)
    for group, acl in _acls(desired_rows(programs, None)):
        key = (acl.columns["priority"], acl.columns["direction"])
        seen[key].append((acl.columns["action"], _members(group), acl.columns["match"]))
    conflicts = []
    for key, entries in seen.items():
        for i, (action, ports, match) in enumerate(entries):
            for other_action, other_ports, other in entries[i + 1 :]:
                if action != other_action and ports & other_ports:
                    conflicts.append(f"{key}: {match} vs {other}")
    return conflicts


@pytest.mark.parametrize("name", ["two-tenants", "demo"])
def test_no_two_acls_meet_with_one_priority_and_different_actions(name: str) -> None:
    """OVN leaves equal-priority overlaps undefined; the translation never writes one."""
    assert _same_priority_conflicts(compile_estate(example_estate(name))) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates())
def test_generated_policies_stay_in_their_bands_without_conflicts(estate: Estate) -> None:
    """For generated estates, each rule's priority lies in its tier's band, none conflict."""
    programs = compile_estate(estate)
    rows = desired_rows(programs, None)
    assert rows
    for place in place_rules(p for p in programs.policies if p is not None).values():
        low, high = TIER_BANDS[place.policy.tier]
        assert low <= place.priority <= high
    assert _same_priority_conflicts(programs) == []


def test_tenant_tier_rules_outrank_application_and_baseline() -> None:
    """Tiers become disjoint bands: provider > tenant > application > baseline."""
    programs = compile_estate(example_estate("demo"))
    placed = place_rules(p for p in programs.policies if p is not None)
    by_tier: dict[Tier, list[int]] = defaultdict(list)
    for place in placed.values():
        by_tier[place.policy.tier].append(place.priority)
    assert min(by_tier[Tier.PROVIDER]) > max(by_tier[Tier.TENANT])
    assert min(by_tier[Tier.BASELINE]) < min(by_tier[Tier.APPLICATION])
    web = [p for p in placed.values() if p.policy.ref.owner == "web"]
    tenant = [p.priority for p in web if p.policy.tier is Tier.TENANT]
    application = [p.priority for p in web if p.policy.tier is Tier.APPLICATION]
    assert min(tenant) > max(application)


def test_pass_rule_writes_no_acl_and_later_rules_of_its_tier_exclude_it() -> None:
    """web/api-delegation passes tcp/8080 ingress: no ACL for it, later tenant rules skip it."""
    programs = compile_estate(example_estate("demo"))
    rows = desired_rows(programs, None)
    placed = place_rules(p for p in programs.policies if p is not None)
    passes = [p for p in placed.values() if p.rule.action is Action.PASS]
    assert passes, "the demo estate has a pass rule"
    keys = {acl.key for _, acl in _acls(rows)}
    for place in passes:
        assert not any(key.endswith(f"#{place.index}") and str(place.policy.ref.name) in key
                       for key in keys)  # fmt: skip
    excluding = [
        acl for _, acl in _acls(rows)
        if "tnt_pol_web" in acl.columns["match"] and parse(acl.columns["match"]).exclusions
    ]  # fmt: skip
    for acl in excluding:
        assert acl.columns["direction"] == "to-lport"
        assert any(u.ports == ((8080, 8080),) for u in parse(acl.columns["match"]).exclusions)


@pytest.mark.parametrize("name", ["two-tenants", "demo"])
def test_every_vnic_port_has_port_security_unless_provider_relaxed_it(name: str) -> None:
    """An empty port_security permits everything in OVN: only relaxed ports have none."""
    rows = desired_rows(compile_estate(example_estate(name)), None)
    for row in walk(rows):
        if row.table != "Logical_Switch_Port" or row.columns.get("type"):
            continue
        flags = int(row.columns["external_ids"]["tenantry-flags"])
        relaxed = flags & (4 | 2)
        assert bool(row.columns["port_security"]) is not bool(relaxed), row.key


def test_every_row_has_a_unique_key_per_table() -> None:
    """Keys (external_ids:tenantry-id) identify rows: unique within their table."""
    rows = list(walk(desired_rows(compile_estate(example_estate("demo")), None)))
    seen = {(row.table, row.key) for row in rows}
    assert len(seen) == len(rows)


def test_allow_acls_on_guest_ports_only_pass_ip_arp_or_nd() -> None:
    """Non-IP ethertypes from guests reach no allow ACL, so default_acl_drop drops them."""
    rows = desired_rows(compile_estate(example_estate("two-tenants")), None)
    for group, acl in _acls(rows):
        if not acl.columns["action"].startswith("allow"):
            continue
        if group.columns["external_ids"]["tenantry-group"] == "infra/uplinks":
            continue
        match = acl.columns["match"]
        assert any(word in match for word in (" ip", "tcp", "udp", "arp", "icmp6", "ip.proto")), (
            match
        )


def test_router_port_names_tell_apart_networks_of_the_same_name_in_two_owners() -> None:
    """A router joining hr/app and sales/app (a leak the verifier must be able to read back
    from OVN) gets two ports, not one name twice, which would fail the whole transaction."""
    router = Ref("provider", "edge")
    hr, sales = Ref("hr", "app"), Ref("sales", "app")
    assert names.router_port(router, hr) != names.router_port(router, sales)
    assert names.router_switch_port(router, hr) != names.router_switch_port(router, sales)
