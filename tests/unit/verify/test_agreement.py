"""The verifier agrees with a brute-force enumerator over the reference classifier on random
small estates, with and without planted leaks (Hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

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
    Network,
    Op,
    PortGroup,
    Ref,
    Subnet,
    VlanPolicy,
    VlanSegment,
    Vnic,
)
from tenantry.verify import LeakKind, map_domains, physical_facts, verify, wire_programs
from tests.strategies import estates
from tests.unit.verify.bruteforce import composed_reach, cross_tenant_deliveries

PLANTS = ("none", "duplicate-vlan", "trunk", "router", "open-consumer", "chain")


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
    if plant == "chain":
        estate = _chain(estate, draw)
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


def _chain(estate: Estate, draw: st.DrawFn) -> Estate:
    """Provider appliances, each with a trunk into a random tenant VLAN and a vNIC on a
    provider transit network: chains through them cross tenants with no guest touching two."""
    vlans = sorted(
        {n.segment.vlan for r, n in estate.networks.items() if r.owner != PROVIDER}  # type: ignore[union-attr]
    )
    transit = Network(
        name="transit",
        segment=VlanSegment(physical_network="phys", vlan=3000),
        subnets=(Subnet(cidr=IPv4Network("10.99.0.0/24")),),
    )
    estate = _put(estate, Kind.NETWORK, PROVIDER, transit)
    estate = _put(
        estate,
        Kind.PORT_GROUP,
        PROVIDER,
        PortGroup(name="pg-3000", switch="vs", vlan=VlanPolicy(mode="vst", id=3000)),
    )
    for i, vlan in enumerate(draw(st.lists(st.sampled_from(vlans), min_size=1, max_size=3))):
        group = PortGroup(
            name=f"pg-fw{i}", switch="vs", vlan=VlanPolicy(mode="vgt", trunk=((vlan, vlan),))
        )
        estate = _put(estate, Kind.PORT_GROUP, PROVIDER, group)
        vnics = (
            Vnic(name="eth0", port_group=f"pg-fw{i}", mac=f"02:99:00:00:00:{i:02x}"),
            Vnic(
                name="eth1",
                port_group="pg-3000",
                network="transit",
                mac=f"02:99:00:00:01:{i:02x}",
                addresses=(IPv4Address(f"10.99.0.{10 + i}"),),
            ),
        )
        guest = Guest(
            name=f"fw{i}", image="img", host="h1", memory=MemoryAllocation(size=2**30), vnics=vnics
        )
        estate = _put(estate, Kind.GUEST, PROVIDER, guest)
    return estate


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


def _check_composed(case: tuple[Estate, Programs, str]) -> None:
    estate, programs, _ = case
    facts = physical_facts(estate)
    report = verify(programs, facts)
    claimed = {(k.source, k.target) for k in report.leaks if k.kind is not LeakKind.STORAGE}
    wire = wire_programs(programs, map_domains(programs, facts))
    assert claimed == composed_reach(wire)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_verifier_agrees_with_brute_force_composed_through_forwarding_guests(
    case: tuple[Estate, Programs, str],
) -> None:
    """Every pair the enumerator joins by deliveries composed through guests that forward
    (chains included) is a reported leak of some kind, and no other."""
    _check_composed(case)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_verifier_agrees_with_brute_force_on_thousands_of_estates(
    case: tuple[Estate, Programs, str],
) -> None:
    """The same agreement, on thousands of random estates (slow)."""
    _check(case)
