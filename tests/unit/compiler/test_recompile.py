"""recompile: a change compiles only what it touches, and equals a full compile."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tenantry.compiler import compile_estate, recompile
from tenantry.model import (
    PROVIDER,
    Change,
    ChangeSet,
    DefaultAction,
    Estate,
    Kind,
    Op,
    Policy,
    Ref,
    Rule,
    Selector,
    Tier,
    check_estate,
)
from tests.helpers.estates import example_estate
from tests.strategies import estates, guest_changes, network_changes, policy_changes


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
    """Guest and policy changes in turn stay equal to a full compile of the last estate."""
    estate = data.draw(estates())
    programs = compile_estate(estate)
    for step in range(4):
        maker = policy_changes if step % 2 else guest_changes
        changes = data.draw(maker(estate))
        following = estate.with_changes(changes)
        if check_estate(following):
            continue
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


def test_change_outside_policies_and_guests_takes_a_full_compile() -> None:
    """A network change is compiled in full, and the delta says so."""
    before = example_estate()
    ref = Ref("bravo", "app")
    network = before.networks[ref]
    opened = network.model_copy(update={"default_action": "deny"})
    changes = ChangeSet((Change(Op.UPDATE, Kind.NETWORK, ref, network, opened),))

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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_incremental_guest_changes_equal_full_compile(data: st.DataObject) -> None:
    """Guest creates, updates and deletes (with policy changes mixed in) recompile to what a
    full compile of the new estate gives."""
    before = data.draw(estates())
    changes = data.draw(guest_changes(before))
    if data.draw(st.booleans()):
        extra = data.draw(policy_changes(before))
        changes = ChangeSet(changes.changes + extra.changes)
    after = before.with_changes(changes)
    assume(not check_estate(after))
    previous = compile_estate(before)

    programs, delta = recompile(previous, before, changes)

    assert not delta.full
    assert programs.canonical() == compile_estate(after).canonical()


def test_guest_change_rebuilds_only_that_guests_rows() -> None:
    """Moving bravo's b2 to another host kills its old row and appends one; nothing else."""
    before = example_estate()
    ref = Ref("bravo", "b2")
    guest = before.guests[ref]
    moved = guest.model_copy(update={"host": "h1"})
    changes = ChangeSet((Change(Op.UPDATE, Kind.GUEST, ref, guest, moved),))
    previous = compile_estate(before)

    programs, delta = recompile(previous, before, changes)

    assert not delta.full
    old_row = previous.port_row("bravo/b2/eth0")
    new_row = programs.port_row("bravo/b2/eth0")
    assert old_row is not None
    assert new_row is not None
    assert sorted(delta.ports.tolist()) == sorted([old_row, new_row])
    assert programs.hosts[int(programs.ports.host[new_row])] == "h1"
    assert not programs.ports.live[old_row]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_incremental_network_changes_equal_full_compile(data: st.DataObject) -> None:
    """Network updates, creates and deletes recompile to what a full compile of the new
    estate gives, incrementally or not, and later policy changes stay incremental."""
    before = data.draw(estates())
    changes = data.draw(network_changes(before))
    assume(changes)
    after = before.with_changes(changes)
    previous = compile_estate(before)

    programs, delta = recompile(previous, before, changes)

    assert delta.full  # no delta field names segments yet: backends resync
    assert programs.canonical() == compile_estate(after).canonical()
    more = data.draw(policy_changes(after))
    again, second = recompile(programs, after, more)
    assert not second.full
    assert again.canonical() == compile_estate(after.with_changes(more)).canonical()


def test_default_action_change_keeps_ports_policies_and_ids() -> None:
    """Flipping one network's default action rebuilds its segment in place and shares every
    port column, policy and router leg with the previous programs."""
    before = example_estate()
    ref = next(r for r in sorted(before.networks) if r.owner != PROVIDER)
    network = before.networks[ref]
    flipped = (
        DefaultAction.ALLOW if network.default_action is DefaultAction.DENY else DefaultAction.DENY
    )
    change = Change(
        Op.UPDATE,
        Kind.NETWORK,
        ref,
        network,
        network.model_copy(update={"default_action": flipped}),
    )
    previous = compile_estate(before)

    programs, _ = recompile(previous, before, ChangeSet((change,)))

    assert programs.ports is previous.ports
    assert programs.policies is previous.policies
    old, new = previous.segment_of(ref), programs.segment_of(ref)
    assert old is not None and new is not None
    assert (new.id, new.default_action) == (old.id, flipped)
    assert sum(a != b for a, b in zip(previous.segments, programs.segments, strict=True)) == 1


def test_routed_network_change_rebuilds_its_router_leg() -> None:
    """Dropping acme/app's gateways rebuilds acme/core's leg on it (no gateway left) in
    place, equal to a full compile; acme/db's leg is unchanged."""
    before = example_estate()
    ref = Ref("acme", "app")
    network = before.networks[ref]
    subnets = tuple(s.model_copy(update={"gateway": None}) for s in network.subnets)
    change = Change(
        Op.UPDATE, Kind.NETWORK, ref, network, network.model_copy(update={"subnets": subnets})
    )
    previous = compile_estate(before)

    programs, _ = recompile(previous, before, ChangeSet((change,)))

    app = programs.segment_of(ref)
    assert app is not None
    legs = {leg.segment: leg for leg in programs.routers}
    assert legs[app.id].gateways == ()
    assert programs.ports is previous.ports
    after = before.with_changes(ChangeSet((change,)))
    assert programs.canonical() == compile_estate(after).canonical()
