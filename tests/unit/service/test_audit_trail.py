"""The service's audit trail: entries per tenant, views, events, group commit, bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tenantry.audit import AuditRecord, Ed25519Signer, Outcome, Problem, verify_inclusion
from tenantry.audit.bundle_check import verify_bundle
from tenantry.audit.merkle import leaf_hash
from tenantry.errors import (
    AuditIntegrityError,
    NotFoundError,
    PermissionDeniedError,
)
from tenantry.governance import Actor
from tenantry.model import Kind, Ref
from tenantry.service import Service
from tenantry.service.audit_scopes import ANOTHER_TENANT, OUTSIDE
from tests.helpers.audit import (
    TENANTS,
    demo_estate,
    describe_tenant,
    open_service,
    operator,
    tenant_actor,
)

SIGNER = Ed25519Signer.generate()


@pytest.fixture
def service(tmp_path: Path) -> Service:
    """A service over a fresh SQLite store holding the demo estate."""
    svc = open_service(f"sqlite:///{tmp_path / 'tenantry.db'}", SIGNER)
    svc.apply(operator(), demo_estate())
    yield svc
    svc.close()


def _others(tenant: str) -> list[str]:
    return [t for t in TENANTS if t != tenant]


def _mentions(text: str, tenant: str) -> bool:
    """Whether ``text`` names the tenant (as a name, an owner, or a tenant object)."""
    return any(
        pattern in text
        for pattern in (f'"{tenant}"', f'"{tenant}/', f" {tenant}/", f'tenant {tenant}"')
    )


def test_an_apply_writes_one_entry_per_tenant_and_one_for_the_provider(service: Service) -> None:
    """The demo apply touches four tenants: five entries, each naming one scope's objects."""
    entries = [e.record() for e in service.audit.entries(operator())]
    assert [r.tenants for r in entries] == [(), *((t,) for t in TENANTS)]
    for record in entries[1:]:
        (tenant,) = record.tenants
        assert all(f"{tenant}/" in t or t.endswith(f"tenant {tenant}") for t in record.targets)
        assert record.details["generation"] == 1


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_tenant_view_holds_only_that_tenants_entries(service: Service, tenant: str) -> None:
    """A tenant sees its entries, and no other tenant's name appears anywhere in them."""
    for other in _others(tenant):
        describe_tenant(service, operator(), other, f"changed for {other}")
    view = service.audit.entries(tenant_actor(tenant))
    assert view
    for entry in view:
        assert entry.record().tenants == (tenant,)
        for other in _others(tenant):
            assert not _mentions(entry.body.decode(), other), (other, entry.body)


def test_each_tenants_entries_are_numbered_without_gaps(service: Service) -> None:
    """Inside its signed entries, each tenant's entries count 0, 1, 2, ...; provider ones none."""
    for i in range(3):
        describe_tenant(service, operator(), TENANTS[i % 2], f"v{i}")
    service.record(tenant_actor("web"), "login", Outcome.SUCCEEDED, tenant="web")
    for tenant in TENANTS:
        numbers = [e.record().tenant_seq for e in service.audit.entries(tenant_actor(tenant))]
        assert numbers == list(range(len(numbers)))
    provider = [e.record() for e in service.audit.entries(operator()) if not e.record().tenants]
    assert {r.tenant_seq for r in provider} == {None}


def test_provider_actions_on_a_tenants_objects_show_in_its_view(service: Service) -> None:
    """What a provider operator did to hr's objects is in hr's view, with the operator named."""
    describe_tenant(service, operator(), "hr", "renamed by the provider")
    last = service.audit.entries(tenant_actor("hr"))[-1].record()
    assert last.actor == operator().name
    assert last.targets == ("update tenant hr",)
    assert last.outcome is Outcome.APPLIED


def test_a_tenant_cannot_read_another_tenants_trail(service: Service) -> None:
    """The attack: hr asks for finance's view, or the whole log; both are refused."""
    with pytest.raises(PermissionDeniedError):
        service.audit.entries(tenant_actor("hr"), tenant="finance")
    with pytest.raises(PermissionDeniedError):
        service.audit.bundle(tenant_actor("hr"), tenant="finance")


def test_a_tenant_cannot_prove_another_tenants_entry_exists(service: Service) -> None:
    """Asking for a proof of someone else's entry answers like a missing one (no oracle)."""
    finance_seq = service.audit.entries(tenant_actor("finance"))[0].seq
    with pytest.raises(NotFoundError):
        service.audit.prove(tenant_actor("hr"), finance_seq)
    with pytest.raises(NotFoundError):
        service.audit.prove(tenant_actor("hr"), 10_000)


def test_a_tenant_proves_its_own_entry_against_the_signed_head(service: Service) -> None:
    """The legitimate flow: hr's entry verifies against the head with the public key."""
    seq = service.audit.entries(tenant_actor("hr"))[0].seq
    entry, proof, head = service.audit.prove(tenant_actor("hr"), seq)
    assert head.is_signed_by(SIGNER.public_key())
    assert verify_inclusion(leaf_hash(entry.body), seq, head.size, proof.path, head.root)


def test_provider_roles_without_audit_privilege_are_refused(service: Service) -> None:
    """An operator may change the estate but not read the trail; an auditor may read it."""
    plain = Actor(name="op", roles=frozenset({"operator"}))
    auditor = Actor(name="aud", roles=frozenset({"auditor"}))
    with pytest.raises(PermissionDeniedError):
        service.audit.entries(plain)
    assert len(service.audit.entries(auditor)) == 5


def test_a_cross_tenant_attempt_is_recorded_for_both_without_naming_the_other(
    service: Service,
) -> None:
    """finance's admin tries to change hr's tenant: refused, in both views, neither naming the
    other; the provider joins the two halves by their operation id."""
    # Another tenant's name gets the same "not found" as a missing one (no existence oracle).
    with pytest.raises(NotFoundError):
        describe_tenant(service, tenant_actor("finance"), "hr", "pwned")
    mine = service.audit.entries(tenant_actor("finance"))[-1]
    theirs = service.audit.entries(tenant_actor("hr"))[-1]
    first, second = mine.record(), theirs.record()
    assert first.outcome is second.outcome is Outcome.REFUSED
    assert (first.actor, first.targets, first.reason) == (
        "alice",
        (f"tenant {OUTSIDE}",),
        "not_found",
    )
    assert (second.actor, second.source, second.reason) == (ANOTHER_TENANT, "", "not_found")
    assert second.targets == ("tenant hr",)
    assert not _mentions(mine.body.decode(), "hr")
    assert not _mentions(theirs.body.decode(), "finance")
    assert first.details["operation"] == second.details["operation"]


def test_a_refusal_inside_the_tenant_keeps_the_whole_reason(service: Service) -> None:
    """The legitimate case: a refusal about the tenant's own objects says exactly why."""
    from tenantry.model import PROVIDER, Tenant

    current, revision = service.get(operator(), Kind.TENANT, Ref(PROVIDER, "hr"))
    assert isinstance(current, Tenant)
    grabbed = current.model_copy(update={"placement_tag": "finance"})
    with pytest.raises(PermissionDeniedError):
        service.put(tenant_actor("hr"), Kind.TENANT, Ref(PROVIDER, "hr"), grabbed,
                    expected_revision=revision)  # fmt: skip
    record = service.audit.entries(tenant_actor("hr"))[-1].record()
    assert record.reason.startswith("auth.denied: hr:alice may not update tenant hr")


def test_record_writes_a_durable_event_with_its_signed_head(service: Service) -> None:
    """Service.record is the door for logins, approvals, key releases and grant uses."""
    head = service.record(
        tenant_actor("web"), "login", Outcome.SUCCEEDED, targets=("user alice",), tenant="web"
    )
    assert head.size == service.store.audit_size()
    assert head.is_signed_by(SIGNER.public_key())
    last = service.audit.entries(tenant_actor("web"))[-1].record()
    assert (last.action, last.actor, last.source) == ("login", "alice", "192.0.2.7")


def test_every_commit_is_covered_by_a_head_signed_in_the_same_transaction(
    service: Service,
) -> None:
    """After each apply, the newest stored head covers the whole log."""
    for i in range(3):
        describe_tenant(service, operator(), "sales", f"v{i}")
        head = service.store.latest_audit_head()
        assert head is not None
        assert head.size == service.store.audit_size()


def test_the_appender_writes_each_batch_with_one_head(service: Service) -> None:
    """Group commit: records are written per batch (not before), each batch signed once."""
    before = service.store.audit_size()
    heads_before = len(service.store.audit_heads())
    with service.audit.appender(batch_size=4) as appender:
        for i in range(10):
            appender.add(AuditRecord(actor="a", action="login", outcome=Outcome.SUCCEEDED,
                                     targets=(f"user u{i}",), tenants=("web",)))  # fmt: skip
            if i == 2:
                assert service.store.audit_size() == before  # buffered, not yet durable
    assert service.store.audit_size() == before + 10
    assert len(service.store.audit_heads()) == heads_before + 3  # 4 + 4 + 2
    assert service.audit.verify().ok


def test_the_whole_log_verifies_and_a_wrong_key_does_not(service: Service) -> None:
    """verify() recomputes the log; pinned to another key, every head is foreign."""
    assert service.audit.verify().ok
    verdict = service.audit.verify(public_key=Ed25519Signer.generate().public_key())
    assert Problem.WRONG_KEY in {f.problem for f in verdict.findings}


def test_a_bundle_holds_the_estate_as_it_was_at_its_generation(service: Service) -> None:
    """Bundles at generations 1 and 2 hold each state, and both verify offline."""
    generation = describe_tenant(service, operator(), "web", "second version")
    old = service.audit.bundle(operator(), generation=1)
    new = service.audit.bundle(operator(), generation=generation)
    for bundle in (old, new):
        assert verify_bundle(bundle, public_key=SIGNER.public_key()).ok
    describe = {
        b.generation: next(o.body["description"] for o in b.snapshot or () if o.ref == "web")
        for b in (old, new)
    }
    assert describe[generation] == "second version"
    assert describe[1] != "second version"
    assert old.latest is not None  # the log grew since: a proof that it still extends old


def test_a_tenant_bundle_holds_only_its_objects_and_entries(service: Service) -> None:
    """A tenant's forensic bundle: its entries with proofs, its objects, nothing else."""
    bundle = service.audit.bundle(tenant_actor("sales"), generation=1)
    text = bundle.dumps()
    for other in _others("sales"):
        assert not _mentions(text, other), other
    assert verify_bundle(bundle, public_key=SIGNER.public_key()).ok
    assert {o.kind for o in bundle.snapshot or ()} >= {"tenant", "guest", "network"}
    assert json.loads(text)["scope"] == "sales"


def test_a_tenant_bundle_with_many_entries_proves_them_all(service: Service) -> None:
    """Past the bulk threshold, proofs come from one in-memory tree; they still verify."""
    from tenantry.service.auditing import BULK_PROOFS

    with service.audit.appender(batch_size=50) as appender:
        for i in range(2 * BULK_PROOFS + 20):
            tenant = ("hr" if i % 2 else "web",)
            record = AuditRecord(actor="svc", action="login", outcome=Outcome.SUCCEEDED,
                                 targets=(f"user {i}",), tenants=tenant)  # fmt: skip
            appender.add(record)
    bundle = service.audit.bundle(tenant_actor("hr"))
    assert len(bundle.entries) > BULK_PROOFS
    assert verify_bundle(bundle, public_key=SIGNER.public_key()).ok


def test_a_store_pinned_to_one_key_refuses_another(tmp_path: Path) -> None:
    """The attack: swap the signing key; the store's pin refuses to append under it."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    first = open_service(url, SIGNER)
    first.record(operator(), "login", Outcome.SUCCEEDED)
    first.close()
    second = open_service(url, Ed25519Signer.generate())
    with pytest.raises(AuditIntegrityError, match="pinned"):
        second.record(operator(), "login", Outcome.SUCCEEDED)
    second.close()


def test_a_refusal_writes_nothing_but_the_refusal(service: Service) -> None:
    """Admission refuses, the estate is unchanged, and the refusal is in the log."""
    generation = service.store.generation()
    size = service.store.audit_size()
    with pytest.raises(PermissionDeniedError):
        service.delete(tenant_actor("web"), Kind.TENANT, Ref("provider", "web"))
    assert service.store.generation() == generation
    assert service.store.audit_size() == size + 1
    assert service.audit.entries(operator())[-1].record().outcome is Outcome.REFUSED
