"""The store on SQLite and PostgreSQL: round trips, one transaction per apply, stale writers."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tenantry.audit import AuditRecord, Outcome
from tenantry.errors import StaleRevisionError, StoreUnavailableError
from tenantry.governance import Actor
from tenantry.model import ChangeSet, plan_changes
from tenantry.service import Service
from tenantry.store import Store
from tests.helpers.specs import estate_from

OPERATOR = Actor.local_operator()


def test_estate_round_trips_through_the_store(store_url: str) -> None:
    """What is committed loads back equal, with revision 1 everywhere."""
    store = Store.open(store_url)
    estate = estate_from()
    store.commit(plan_changes(store.load().estate, estate), expected_generation=0, audit=[])
    snapshot = store.load()
    assert snapshot.estate == estate
    assert snapshot.generation == 1
    assert set(snapshot.revisions.values()) == {1}
    store.close()


def test_commit_against_an_old_generation_is_refused(store_url: str) -> None:
    """Two writers that read the same generation: the second one is told, nothing is lost."""
    store = Store.open(store_url)
    estate = estate_from()
    changes = plan_changes(store.load().estate, estate)
    store.commit(changes, expected_generation=0, audit=[])
    with pytest.raises(StaleRevisionError):
        store.commit(ChangeSet(), expected_generation=0, audit=[])
    assert store.load().generation == 1
    store.close()


def test_failed_commit_leaves_the_previous_state(store_url: str) -> None:
    """A change set that fails half way (a duplicate insert) rolls back entirely."""
    store = Store.open(store_url)
    estate = estate_from()
    changes = plan_changes(store.load().estate, estate)
    store.commit(changes, expected_generation=0, audit=[])
    before = store.load()
    # Replaying the creates makes the last insert collide after earlier ones succeeded.
    with pytest.raises(StaleRevisionError):
        store.commit(
            changes, expected_generation=1, audit=[AuditRecord("x", "apply", Outcome.APPLIED)]
        )
    after = store.load()
    assert after.estate == before.estate and after.generation == before.generation
    assert store.audit_size() == 0
    store.close()


def test_audit_entries_are_contiguous_and_filtered_by_tenant(store_url: str) -> None:
    """Entries get seq 0, 1, 2...; a tenant filter returns only entries naming that tenant."""
    store = Store.open(store_url)
    store.append_audit(
        [
            AuditRecord("a", "apply", Outcome.APPLIED, tenants=("acme",)),
            AuditRecord("b", "apply", Outcome.REFUSED, tenants=("globex",)),
            AuditRecord("c", "apply", Outcome.APPLIED, tenants=("acme", "globex")),
        ]
    )
    assert [e.seq for e in store.audit_entries()] == [0, 1, 2]
    assert [e.seq for e in store.audit_entries(tenant="acme")] == [0, 2]
    assert store.audit_entries(tenant="acme")[1].record().actor == "c"
    store.close()


def test_service_apply_is_idempotent_on_every_store(store_url: str) -> None:
    """The service behaves the same on SQLite and PostgreSQL."""
    service = Service.open(store_url)
    assert service.apply(OPERATOR, estate_from()).changed
    assert not service.apply(OPERATOR, estate_from()).changed
    service.close()


def test_sqlite_is_configured_for_durability(tmp_path: object) -> None:
    """WAL and synchronous=FULL: a committed apply survives power loss (THREATS row 49)."""
    url = f"sqlite:///{tmp_path}/t.db"
    Store.open(url).close()
    from tenantry.store.engine import create_store_engine

    with create_store_engine(url).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


@pytest.mark.postgres
def test_postgres_commits_synchronously(postgres_server: str) -> None:
    """tenantry's PostgreSQL sessions run with synchronous_commit=on."""
    from tenantry.store.engine import create_store_engine

    engine = create_store_engine(postgres_server)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
    engine.dispose()


def test_unreachable_postgres_is_a_clear_error() -> None:
    """A store that cannot be reached says which (without the password) and what to check."""
    with pytest.raises(StoreUnavailableError) as caught:
        Store.open("postgresql+psycopg://u:secret@127.0.0.1:1/none")
    assert "secret" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


def test_unknown_store_scheme_is_refused() -> None:
    """Only SQLite and PostgreSQL are stores."""
    with pytest.raises(StoreUnavailableError, match="unsupported"):
        Store.open("mysql://x/y")
