"""THREATS row 49 (configuration) and the one-transaction rule: a change is committed with its
audit entries and their signed head, or not at all."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tenantry.audit import AuditRecord, Ed25519Signer, Outcome, SignedTreeHead
from tenantry.model import PROVIDER, ChangeSet, Kind, Ref, Tenant
from tenantry.model.changes import Change, Op
from tenantry.store import Store
from tenantry.store.engine import create_store_engine
from tests.helpers.audit import demo_estate, open_service, operator

SIGNER = Ed25519Signer.generate()


def test_the_store_is_configured_to_survive_power_loss(store_url: str) -> None:
    """SQLite runs WAL with synchronous=FULL; PostgreSQL commits synchronously with fsync."""
    Store.open(store_url).close()
    engine = create_store_engine(store_url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        else:
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
            assert connection.execute(text("SHOW fsync")).scalar() == "on"
    engine.dispose()


def _change(store: Store) -> ChangeSet:
    current = store.load().estate.tenant("web")
    assert isinstance(current, Tenant)
    updated = current.model_copy(update={"description": "must not land"})
    return ChangeSet((Change(Op.UPDATE, Kind.TENANT, Ref(PROVIDER, "web"), current, updated),))


def test_a_failure_while_signing_leaves_neither_the_change_nor_its_entries(
    store_url: str,
) -> None:
    """The attack on completeness: a change without its audit entry. A failure after the
    entries are written but before the head is signed rolls the change back too."""
    service = open_service(store_url, SIGNER)
    service.apply(operator(), demo_estate())
    store = service.store
    before = (store.generation(), store.audit_size(), len(store.audit_heads()))
    record = AuditRecord(actor="op", action="apply", outcome=Outcome.APPLIED, tenants=("web",))

    def failing(size: int, root: bytes) -> SignedTreeHead:
        raise RuntimeError("signer unreachable")

    with pytest.raises(RuntimeError, match="signer unreachable"):
        store.commit(_change(store), expected_generation=before[0], audit=[record], sign=failing)

    assert (store.generation(), store.audit_size(), len(store.audit_heads())) == before
    assert store.load().estate.tenant("web").description != "must not land"  # type: ignore[union-attr]
    assert service.audit.verify().ok
    service.close()


def test_a_committed_change_has_its_entries_and_head(store_url: str) -> None:
    """The legitimate flow: after commit, the entries and a head covering them are there."""
    service = open_service(store_url, SIGNER)
    service.apply(operator(), demo_estate())
    store = service.store
    generation = store.commit(
        _change(store),
        expected_generation=store.generation(),
        audit=[AuditRecord(actor="op", action="apply", outcome=Outcome.APPLIED)],
        sign=service.audit.sign_head,
    )
    assert store.log_size_at(generation) == store.audit_size() == 6
    head = store.latest_audit_head()
    assert head is not None
    assert head.size == 6
    service.close()
