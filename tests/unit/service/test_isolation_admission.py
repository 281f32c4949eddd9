"""Admission runs the verifier on the would-be estate: a change that opens a leak is refused
with its counterexample; changes that keep tenants apart go through."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantry.errors import IsolationViolationError
from tenantry.governance import Actor
from tenantry.service import Service
from tests.unit.verify import plants


def _service(tmp_path: Path) -> Service:
    return Service.open(f"sqlite:///{tmp_path / 't.db'}")


def test_apply_refuses_a_change_that_opens_a_leak(tmp_path: Path) -> None:
    """Bridged guests of two tenants: refused, counterexample in the error, nothing written."""
    service = _service(tmp_path)
    actor = Actor.local_operator()
    service.apply(actor, plants.demo())
    generation = service.snapshot().generation
    with pytest.raises(IsolationViolationError) as caught:
        service.apply(actor, plants.bridged_management(plants.demo(), "hr", "sales"))
    assert "counterexample" in str(caught.value)
    assert "ARP who-has" in str(caught.value)
    assert any("counterexample" in d for d in caught.value.details())
    assert service.snapshot().generation == generation
    service.close()


def test_plan_refuses_the_same_change(tmp_path: Path) -> None:
    """plan judges like apply: the leak is refused before anything is written."""
    service = _service(tmp_path)
    with pytest.raises(IsolationViolationError):
        service.plan(
            Actor.local_operator(), plants.bridged_management(plants.demo(), "hr", "sales")
        )
    service.close()


def test_apply_admits_a_change_that_keeps_tenants_apart(tmp_path: Path) -> None:
    """One tenant's bridged guest meets only the provider: admitted."""
    service = _service(tmp_path)
    actor = Actor.local_operator()
    service.apply(actor, plants.demo())
    result = service.apply(actor, plants.bridged_management(plants.demo(), "hr"))
    assert result.changed
    service.close()
