"""Admission runs the verifier on the would-be estate: a change that opens a leak is refused
with its counterexample; changes that keep tenants apart go through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantry.errors import (
    AdmissionError,
    ApprovalRequiredError,
    IsolationViolationError,
    PermissionDeniedError,
)
from tenantry.governance import Actor, GovernanceRules, UnsafeFastPasswordHashing
from tenantry.model import Estate
from tenantry.service import Service
from tenantry.service.isolation import verify_estate
from tests.helpers.people import add_person, log_in
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


# ---------------------------------------------------------------- override: two-person rule


@pytest.fixture
def people(tmp_path: Path) -> Iterator[Service]:
    """The demo estate applied, with provider administrators alice and carol."""
    rules = GovernanceRules(password_hashing=UnsafeFastPasswordHashing())
    service = Service.open(f"sqlite:///{tmp_path / 't.db'}", rules=rules)
    service.apply(Actor.local_operator(), plants.demo())
    add_person(service, "alice")
    add_person(service, "carol")
    yield service
    service.close()


def _request_override(service: Service, actor: Actor) -> str:
    with pytest.raises(ApprovalRequiredError) as pending:
        service.apply(actor, LEAKY(), override_isolation=True)
    return pending.value.approval_id


def LEAKY() -> Estate:  # noqa: N802 - a constant estate, built fresh each time
    """ds-finance masked to a host running hr's guests: a change only the provider makes."""
    return plants.widened_masking(plants.demo())


def test_one_person_cannot_admit_a_change_that_opens_a_leak(people: Service) -> None:
    """Asking for the override only files a request: nothing is written, and the request
    carries the counterexample to the trail."""
    alice = log_in(people, "alice")
    generation = people.snapshot().generation
    approval_id = _request_override(people, alice)
    assert people.snapshot().generation == generation
    approval = people.approvals.get(alice, approval_id)
    assert "open a leak between tenants" in approval.summary
    assert approval.to_json(people.clock())["counterexamples"]
    asked = [
        e.record() for e in people.store.audit_entries() if e.record().action == "approval.request"
    ]
    assert any("ds-finance" in str(r.details.get("counterexamples")) for r in asked)


def test_the_tenants_of_a_leak_see_the_request_but_not_each_others_ports(people: Service) -> None:
    """Each tenant on either side of the leak gets its own entry for the request (a provider
    change otherwise leaves them no trace) without the counterexamples, which name the other
    tenant's hosts and guests; the provider's entry keeps them whole."""
    alice = log_in(people, "alice")
    _request_override(people, alice)
    asked = [
        e.record() for e in people.store.audit_entries() if e.record().action == "approval.request"
    ]
    by_scope = {r.tenants: r for r in asked}
    assert {("finance",), ("hr",)} <= set(by_scope)
    for scope in (("finance",), ("hr",)):
        entry = by_scope[scope]
        assert "counterexamples" not in entry.details
        assert entry.details["counterexamples_withheld"] > 0
        assert "payroll" not in str(entry.details) and "payroll" not in entry.reason
    assert "payroll" in str(by_scope[()].details["counterexamples"])


def test_the_requester_cannot_approve_its_own_override(people: Service) -> None:
    """The two-person rule holds for leaks: alice cannot approve alice's request."""
    alice = log_in(people, "alice")
    approval_id = _request_override(people, alice)
    with pytest.raises(PermissionDeniedError, match="own request"):
        people.approvals.approve(alice, approval_id)
    assert verify_estate(people.snapshot().estate)[1].isolated


def test_a_second_approver_admits_the_leak_and_the_trail_says_so(people: Service) -> None:
    """carol approves alice's request: the change is applied, audited as an admitted leak."""
    alice, carol = log_in(people, "alice"), log_in(people, "carol")
    approval_id = _request_override(people, alice)
    done = people.approvals.approve(carol, approval_id)
    assert done.status == "approved"
    report = verify_estate(people.snapshot().estate)[1]
    assert {leak.kind for leak in report.leaks} == {"storage"}
    applied = [e.record() for e in people.store.audit_entries()]
    admitted = [r for r in applied if "leaks_admitted" in r.details.get("approval", {})]
    assert admitted and admitted[0].details["approval"]["approved_by"].startswith("carol")


def test_without_the_override_the_leak_is_refused_outright(people: Service) -> None:
    """A provider user who does not ask for the override gets the refusal, no request."""
    alice = log_in(people, "alice")
    with pytest.raises(IsolationViolationError):
        people.apply(alice, LEAKY())
    assert people.approvals.list(alice) == []


def test_the_local_operator_cannot_override_alone(people: Service) -> None:
    """The local operator has no second person behind it: the refusal stands, with a hint."""
    with pytest.raises(IsolationViolationError) as caught:
        people.apply(Actor.local_operator(), LEAKY(), override_isolation=True)
    assert "two-person" in caught.value.diagnostics()
    assert verify_estate(people.snapshot().estate)[1].isolated


def test_an_override_does_not_cover_other_refusals(people: Service) -> None:
    """Only isolation refusals can be overridden: a duplicate VLAN is refused as before."""
    alice = log_in(people, "alice")
    broken = plants.duplicate_vlan(LEAKY())
    with pytest.raises(AdmissionError) as caught:
        people.apply(alice, broken, override_isolation=True)
    assert not isinstance(caught.value, ApprovalRequiredError)
    assert people.approvals.list(alice) == []
