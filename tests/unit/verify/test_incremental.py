"""IsolationState.update re-verifies only what a change touches, and agrees with a fresh proof."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantry.compiler import PortFlag, Programs, compile_estate, recompile
from tenantry.model import Estate, Policy, Rule, Tier
from tenantry.verify import IsolationState, LeakKind, physical_facts, verify
from tests.helpers.estates import with_policies
from tests.strategies import estates, policy_changes
from tests.unit.verify import plants


def _pairs(report: object) -> set[tuple[str, str, LeakKind]]:
    return {(k.source, k.target, k.kind) for k in report.leaks}  # type: ignore[attr-defined]


def _move(programs: Programs, row: int, segment: int) -> Programs:
    column = programs.ports.segment.copy()
    column[row] = segment
    return replace(programs, ports=replace(programs.ports, segment=column))


def test_moving_a_port_into_another_tenants_segment_opens_and_closes_a_leak() -> None:
    """A port row moved into sales' segment leaks; moved back, the estate is isolated again."""
    estate = plants.demo()
    programs = compile_estate(estate)
    state = IsolationState(programs, physical_facts(estate))
    row = programs.port_row("hr/portal-1/eth0")
    sales = programs.segment_of(next(r for r in estate.networks if str(r) == "sales/app"))
    assert row is not None
    assert sales is not None
    home = int(programs.ports.segment[row])

    moved = _move(programs, row, sales.id)
    report = state.update(moved, rows=[row])
    assert ("hr", "sales", LeakKind.L2) in _pairs(report)
    assert _pairs(report) == _pairs(verify(moved, physical_facts(estate)))

    back = state.update(_move(moved, row, home), rows=[row])
    assert back.isolated


def test_policy_change_is_reverified_without_touching_layer_two() -> None:
    """A policy delta keeps the proof (no rows are re-examined) and it still matches."""
    estate = plants.demo()
    programs = compile_estate(estate)
    state = IsolationState(programs, physical_facts(estate))
    deny = Policy(name="quiet", tier=Tier.TENANT, rules=(Rule(action="deny", direction="egress"),))
    new, delta = recompile(programs, estate, with_policies(estate, ("hr", deny)))
    assert not delta.full
    assert state.update(new, delta).isolated
    assert state.layout.programs is new


@st.composite
def row_edits(draw: st.DrawFn, programs: Programs) -> list[tuple[int, int, bool]]:
    """(row, new segment, open the consumer flag) edits of live non-trunk rows."""
    rows = [r for r in programs.live_rows().tolist() if int(programs.ports.segment[r]) >= 0]
    segments = [s.id for s in programs.segments if s is not None]
    return draw(
        st.lists(
            st.tuples(st.sampled_from(rows), st.sampled_from(segments), st.booleans()),
            min_size=1,
            max_size=4,
        )
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_row_updates_agree_with_a_fresh_proof(data: st.DataObject) -> None:
    """After any sequence of port edits, the updated proof equals verifying from scratch."""
    estate: Estate = data.draw(estates(max_tenants=3))
    facts = physical_facts(estate)
    programs = compile_estate(estate)
    state = IsolationState(programs, facts)
    for row, segment, opened in data.draw(row_edits(programs)):
        current = _move(state.programs, row, segment)
        if opened:
            flags = current.ports.flags.copy()
            flags[row] &= ~PortFlag.SERVICE_CONSUMER
            current = replace(current, ports=replace(current.ports, flags=flags))
        updated = state.update(current, rows=[row])
        assert _pairs(updated) == _pairs(verify(current, facts))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_policy_deltas_agree_with_a_fresh_proof(data: st.DataObject) -> None:
    """A recompiled policy change, applied as a delta, gives the proof of the new programs."""
    estate: Estate = data.draw(estates(max_tenants=3))
    facts = physical_facts(estate)
    programs = compile_estate(estate)
    state = IsolationState(programs, facts)
    changes = data.draw(policy_changes(estate))
    new, delta = recompile(programs, estate, changes)
    assert _pairs(state.update(new, delta)) == _pairs(verify(new, facts))
