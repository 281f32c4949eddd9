"""The verifier agrees with a brute-force enumerator over the reference classifier on random
small estates, with and without planted leaks (Hypothesis)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantry.compiler import PortFlag, Programs, RouterInterface, compile_estate
from tenantry.model import (
    PROVIDER,
    Change,
    ChangeSet,
    Estate,
    Guest,
    Kind,
    MemoryAllocation,
    Op,
    PortGroup,
    Ref,
    VlanPolicy,
    VlanSegment,
    Vnic,
)
from tenantry.verify import LeakKind, map_domains, physical_facts, verify, wire_programs
from tests.strategies import estates
from tests.unit.verify.bruteforce import cross_tenant_deliveries

PLANTS = ("none", "duplicate-vlan", "trunk", "router", "open-consumer")


def _put(estate: Estate, kind: Kind, owner: str, obj: object) -> Estate:
    ref = Ref(owner, obj.name)  # type: ignore[attr-defined]
    before = estate.get(kind, ref)
    op = Op.CREATE if before is None else Op.UPDATE
    return estate.with_changes(ChangeSet((Change(op, kind, ref, before, obj),)))  # type: ignore[arg-type]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Estate, Programs, str]:
    """A random small estate, maybe with a planted leak (in the estate or the programs)."""
    estate = draw(estates(max_tenants=3))
    plant = draw(st.sampled_from(PLANTS))
    nets = sorted(r for r in estate.networks if r.owner != PROVIDER)
    if plant == "duplicate-vlan" and len(nets) > 1:
        first, second = draw(st.lists(st.sampled_from(nets), min_size=2, max_size=2, unique=True))
        vlan = estate.networks[first].segment.vlan  # type: ignore[union-attr]
        moved = estate.networks[second].model_copy(
            update={"segment": VlanSegment(physical_network="phys", vlan=vlan)}
        )
        estate = _put(estate, Kind.NETWORK, second.owner, moved)
    if plant == "trunk":
        low = draw(st.sampled_from([50, 110, 111, 120, 121, 130]))
        high = low + draw(st.integers(0, 20))
        group = PortGroup(
            name="pg-trunk", switch="vs", vlan=VlanPolicy(mode="vgt", trunk=((low, high),))
        )
        estate = _put(estate, Kind.PORT_GROUP, PROVIDER, group)
        owner = draw(st.sampled_from(sorted(r.name for r in estate.tenants)))
        vnic = Vnic(name="eth0", port_group="pg-trunk", mac="02:77:00:00:00:01")
        guest = Guest(
            name="trunk-1",
            image="img",
            host="h1",
            memory=MemoryAllocation(size=2**30),
            vnics=(vnic,),
        )
        estate = _put(estate, Kind.GUEST, owner, guest)
    programs = compile_estate(estate)
    if plant == "router" and len(nets) > 1:
        picked = draw(st.lists(st.sampled_from(nets), min_size=2, max_size=3, unique=True))
        legs = []
        for i, net in enumerate(picked):
            seg = programs.segment_of(net)
            assert seg is not None
            legs.append(
                RouterInterface(
                    Ref(net.owner, "rogue"),
                    seg.id,
                    f"0a:00:00:00:99:{i:02x}",
                    seg.gateways,
                    seg.subnets,
                )
            )
        programs = replace(programs, routers=(*programs.routers, *legs))
    if plant == "open-consumer":
        consumers = [
            r
            for r in programs.live_rows().tolist()
            if programs.ports.flags[r] & PortFlag.SERVICE_CONSUMER
        ]
        if consumers:
            row = draw(st.sampled_from(consumers))
            flags = programs.ports.flags.copy()
            flags[row] &= ~PortFlag.SERVICE_CONSUMER
            programs = replace(programs, ports=replace(programs.ports, flags=flags))
    return estate, programs, plant


def _check(case: tuple[Estate, Programs, str]) -> None:
    estate, programs, _ = case
    facts = physical_facts(estate)
    report = verify(programs, facts)
    claimed = {
        (k.source, k.target) for k in report.leaks if k.kind in (LeakKind.L2, LeakKind.ROUTED)
    }
    wire = wire_programs(programs, map_domains(programs, facts))
    assert claimed == cross_tenant_deliveries(wire)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_verifier_agrees_with_brute_force(case: tuple[Estate, Programs, str]) -> None:
    """Every cross-tenant delivery the enumerator finds is a reported leak, and no other."""
    _check(case)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_verifier_agrees_with_brute_force_on_thousands_of_estates(
    case: tuple[Estate, Programs, str],
) -> None:
    """The same agreement, on thousands of random estates (slow)."""
    _check(case)
