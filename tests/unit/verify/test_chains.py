"""Chains of forwarders: paths through several bridging guests and routers are composed into
leaks with multi-hop counterexamples that cross the reference data plane hop by hop."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tenantry.compiler import compile_estate
from tenantry.verify import IsolationState, LeakKind, physical_facts
from tests.helpers.isolation import assert_isolated, assert_leaks, verified
from tests.unit.verify import plants


def test_two_appliances_chained_through_a_provider_transit_network_leak() -> None:
    """hr -> fw-a -> transit -> fw-b -> sales: no single guest touches both tenants."""
    estate = plants.appliance_chain(plants.demo())
    leak = assert_leaks(estate, LeakKind.CHAINED, "hr", "sales")
    hops = leak.counterexample.hops
    assert len(hops) == 3
    assert "fw-a" in leak.cause and "fw-b" in leak.cause
    assert_leaks(estate, LeakKind.CHAINED, "sales", "hr")
    kinds = {k.kind for k in verified(estate).report.leaks}
    assert kinds == {LeakKind.CHAINED}


def test_half_a_chain_meets_one_tenant_only_and_verifies() -> None:
    """fw-a alone joins hr's VLAN and the tenant-less transit network: no leak."""
    assert_isolated(plants.half_chain(plants.demo()))


def test_router_followed_by_a_bridging_appliance_leaks() -> None:
    """A provider router from hr's app network to transit, then fw-b into sales' VLAN."""
    estate, programs = plants.router_then_appliance(plants.demo())
    leak = assert_leaks(estate, LeakKind.CHAINED, "hr", "sales", programs)
    assert any("router edge-x" in hop.path for hop in leak.counterexample.hops)
    assert_leaks(estate, LeakKind.CHAINED, "sales", "hr", programs)


def test_a_chain_is_found_incrementally_and_goes_away_when_undone() -> None:
    """fw-b's ports appearing close the chain in one update; removing them opens it again."""
    after = plants.appliance_chain(plants.demo())
    full = compile_estate(after)
    rows = [
        r
        for r in full.live_rows().tolist()
        if str(full.guests[int(full.ports.guest[r])]).endswith("fw-b")
    ]
    live = full.ports.live.copy()
    live[rows] = False
    without = replace(full, ports=replace(full.ports, live=live))
    state = IsolationState(without, physical_facts(after))
    assert state.report().isolated
    report = state.update(full, rows=np.asarray(rows))
    found = {(k.kind, k.source, k.target) for k in report.leaks}
    assert found == {(LeakKind.CHAINED, "hr", "sales"), (LeakKind.CHAINED, "sales", "hr")}
    report = state.update(without, rows=np.asarray(rows))
    assert report.isolated, report.summary()
