"""recompile: a change compiles only what it touches, and equals a full compile."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantry.compiler import compile_estate, recompile
from tenantry.model import Change, ChangeSet, Estate, Kind, Op, Policy, Ref, Rule, Selector, Tier
from tests.helpers.estates import example_estate
from tests.strategies import estates, policy_changes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_incremental_compile_equals_full_compile(data: st.DataObject) -> None:
    """For random estates and random policy changes, recompile == compile_estate(after)."""
    before = data.draw(estates())
    changes = data.draw(policy_changes(before))
    after = before.with_changes(changes)
    previous = compile_estate(before)

    programs, delta = recompile(previous, before, changes)

    assert not delta.full
    assert programs.canonical() == compile_estate(after).canonical()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_chained_recompiles_equal_full_compile(data: st.DataObject) -> None:
    """Several changes in a row stay equal to a full compile of the last estate."""
    estate = data.draw(estates())
    programs = compile_estate(estate)
    for _ in range(3):
        changes = data.draw(policy_changes(estate))
        following = estate.with_changes(changes)
        programs, _ = recompile(programs, estate, following)
        estate = following
    assert programs.canonical() == compile_estate(estate).canonical()


def _tenant_policy_change(estate: Estate) -> ChangeSet:
    ref = Ref("bravo", "lock-down")
    policy = Policy(
        name="lock-down",
        tier=Tier.TENANT,
        applies_to=Selector(),
        rules=(Rule(action="deny", direction="ingress", protocol="tcp", ports=("22",)),),
    )
    assert ref not in estate.policies
    return ChangeSet((Change(Op.CREATE, Kind.POLICY, ref, None, policy),))


def test_tenant_policy_change_touches_only_that_tenants_ports() -> None:
    """A bravo policy recompiles bravo's chains; acme's rows and every id stay as they were."""
    before = example_estate()
    previous = compile_estate(before)

    programs, delta = recompile(previous, before, _tenant_policy_change(before))

    assert not delta.full
    assert {programs.owner_of(r) for r in delta.ports} == {"bravo"}
    assert len(delta.policies) == 1
    assert programs.ports.segment is previous.ports.segment
    for r in range(len(previous.ports)):
        if programs.owner_of(r) != "bravo":
            assert programs.ports.chain[r] == previous.ports.chain[r]


def test_change_outside_policies_takes_a_full_compile() -> None:
    """A guest change is compiled in full, and the delta says so."""
    before = example_estate()
    guest_ref = Ref("bravo", "b2")
    guest = before.guests[guest_ref]
    moved = guest.model_copy(update={"host": "h1"})
    changes = ChangeSet((Change(Op.UPDATE, Kind.GUEST, guest_ref, guest, moved),))

    programs, delta = recompile(compile_estate(before), before, changes)

    assert delta.full
    assert programs.canonical() == compile_estate(before.with_changes(changes)).canonical()


def test_empty_change_keeps_the_programs() -> None:
    """Nothing to do: the same programs and an empty delta."""
    estate = example_estate()
    previous = compile_estate(estate)

    programs, delta = recompile(previous, estate, estate)

    assert programs is previous
    assert delta.is_empty


def test_recompiling_an_older_generation_falls_back_to_a_full_compile() -> None:
    """Only the newest programs of a lineage are patched; an older one is compiled afresh."""
    before = example_estate()
    old = compile_estate(before)
    changes = _tenant_policy_change(before)
    recompile(old, before, changes)

    again, delta = recompile(old, before, changes)

    assert delta.full
    assert again.canonical() == compile_estate(before.with_changes(changes)).canonical()
