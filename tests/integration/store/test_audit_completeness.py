"""THREATS row 38: every security-relevant operation there is today, applied or refused,
leaves a schema-valid entry with time, type, subject, object, outcome and origin, in a
contiguous sequence."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest

from tenantry.audit import ENTRY_SCHEMA, Ed25519Signer, Outcome
from tenantry.errors import AdmissionError, NotFoundError, PermissionDeniedError, TenantryError
from tenantry.model import Kind, Ref
from tenantry.service import Service
from tests.helpers.audit import demo_estate, describe_tenant, open_service, operator, tenant_actor

SIGNER = Ed25519Signer.generate()
VALIDATOR = jsonschema_rs.validator_for(ENTRY_SCHEMA)


def _catalogue(service: Service) -> list[tuple[str, type[TenantryError] | None]]:
    """Run each operation once; what each should have done."""
    ran: list[tuple[str, type[TenantryError] | None]] = []

    def attempt(name: str, expected: type[TenantryError] | None, action: object) -> None:
        if expected is None:
            action()  # type: ignore[operator]
        else:
            with pytest.raises(expected):
                action()  # type: ignore[operator]
        ran.append((name, expected))

    attempt("apply", None, lambda: service.apply(operator(), demo_estate()))
    attempt("put by the provider", None, lambda: describe_tenant(service, operator(), "hr", "x"))
    attempt(
        "put by the tenant", None, lambda: describe_tenant(service, tenant_actor("hr"), "hr", "y")
    )
    attempt(
        "put across tenants",
        NotFoundError,  # the same answer as for a missing name: no existence oracle
        lambda: describe_tenant(service, tenant_actor("hr"), "web", "z"),
    )
    attempt(
        "delete in use",
        AdmissionError,
        lambda: service.delete(operator(), Kind.NETWORK, Ref("finance", "app")),
    )
    attempt(
        "delete by the tenant",
        None,
        lambda: service.delete(tenant_actor("finance"), Kind.POLICY, Ref("finance", "db-no-ssh")),
    )
    attempt(
        "delete of a tenant by a tenant",
        PermissionDeniedError,
        lambda: service.delete(tenant_actor("web"), Kind.TENANT, Ref("provider", "web")),
    )
    attempt(
        "login",
        None,
        lambda: service.record(
            tenant_actor("sales"),
            "login",
            Outcome.SUCCEEDED,
            targets=("user alice",),
            tenant="sales",
        ),
    )
    attempt("failed login", None, lambda: service.record(
        tenant_actor("sales"), "login", Outcome.FAILED, targets=("user alice",), tenant="sales",
        reason="auth.required: wrong password"))  # fmt: skip
    return ran


def test_every_operation_leaves_a_complete_schema_valid_entry(store_url: str) -> None:
    """All catalogue items are in the log with their outcome; entries are numbered 0..n-1."""
    service = open_service(store_url, SIGNER)
    ran = _catalogue(service)
    entries = service.audit.entries(operator())
    assert [e.seq for e in entries] == list(range(len(entries)))
    records = []
    for entry in entries:
        VALIDATOR.validate(json.loads(entry.body))
        records.append(entry.record())
    origins: dict[str, str] = {}
    for record in records:
        assert record.time.tzinfo is not None
        assert record.actor
        assert record.action
        assert record.targets or record.action == "login"
        operation = record.details.get("operation", id(record))
        origins[operation] = origins.get(operation, "") or record.source
    # Another tenant's half of an operation hides the actor's origin; the actor's half has it.
    assert all(origins.values()), origins
    outcomes = [(r.action, r.outcome) for r in records]
    refused = sum(1 for _, expected in ran if expected is not None)
    assert sum(1 for _, o in outcomes if o is Outcome.REFUSED) >= refused
    for name, expected in ran:
        del name
        wanted = Outcome.APPLIED if expected is None else Outcome.REFUSED
        assert any(o is wanted for _, o in outcomes)
    assert ("login", Outcome.FAILED) in outcomes
    assert service.audit.verify().ok
    service.close()
