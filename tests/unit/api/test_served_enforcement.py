"""The server's enforcement hook: every commit enforced once, never an older state after a
newer one, each report kept for its own commit."""

from __future__ import annotations

from pathlib import Path

from tenantry.api.enforcement import ServedEnforcement
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.governance import Actor
from tenantry.model import Estate, Kind, Ref
from tenantry.service import Service
from tests.helpers.specs import estate_from

OPERATOR = Actor.local_operator()


def test_each_commit_is_enforced_and_reported_under_its_generation(tmp_path: Path) -> None:
    """Two applies: two reports, each naming its own generation."""
    service = Service.open(f"sqlite:///{tmp_path / 't.db'}")
    enforcement = ServedEnforcement(ReferenceBackend())
    service.add_hook(enforcement)
    try:
        first = service.apply(OPERATOR, estate_from())
        estate = service.snapshot().estate
        policy = estate.get(Kind.POLICY, Ref("acme", "web-in"))
        assert policy is not None
        edited = policy.model_copy(update={"description": "second"})
        changed = Estate.build(
            (kind, ref, edited if (kind, ref) == (Kind.POLICY, Ref("acme", "web-in")) else obj)
            for kind in Kind
            for ref, obj in estate.items(kind)
        )
        second = service.apply(OPERATOR, changed)
    finally:
        service.close()
    one, two = enforcement.report(first.generation), enforcement.report(second.generation)
    assert one is not None and two is not None
    assert (one.generation, two.generation) == (first.generation, second.generation)
    assert enforcement.enforced == second.generation


def test_older_commit_arriving_late_does_not_roll_the_data_plane_back(tmp_path: Path) -> None:
    """The hook of an older commit that runs after a newer one's is skipped."""
    service = Service.open(f"sqlite:///{tmp_path / 't.db'}")
    try:
        old_plan = service.plan(OPERATOR, estate_from())
        first = service.apply(OPERATOR, estate_from())
    finally:
        service.close()
    enforcement = ServedEnforcement(ReferenceBackend())
    enforcement.after_commit(old_plan, first.generation + 5)  # a newer one got there first
    enforcement.after_commit(old_plan, first.generation)
    assert enforcement.enforced == first.generation + 5
    assert enforcement.report(first.generation) is None
