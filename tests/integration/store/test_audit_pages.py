"""Leaf pages (1024 leaf hashes to a row) on real SQLite and PostgreSQL: written by the append
that completes them, read instead of 10^3 entries each, and checked by verification."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

import tenantry.store
from tenantry.audit import AuditRecord, Ed25519Signer, Outcome, Problem, TreeLevels
from tenantry.service import Service
from tenantry.store import PAGE_LEAVES
from tests.helpers.audit import TENANTS, open_service
from tests.integration.store.tampering import dba

SIGNER = Ed25519Signer.generate()
MIGRATIONS = Path(tenantry.store.__file__).parent / "migrations"


def _fill(service: Service, batches: list[int]) -> None:
    """Append logins in group commits of the given sizes."""
    n = 0
    for size in batches:
        with service.audit.appender(batch_size=size) as appender:
            for _ in range(size):
                appender.add(
                    AuditRecord(
                        actor="loadgen",
                        action="login",
                        outcome=Outcome.SUCCEEDED,
                        targets=(f"user u{n}",),
                        tenants=(TENANTS[n % 4],),
                    )
                )
                n += 1


def _rows(url: str) -> bytes:
    with dba(url) as sql:
        rows = sql.execute(text("SELECT leaf_hash FROM audit_entries ORDER BY seq"))
        return b"".join(bytes(h) for (h,) in rows)


def _pages(url: str) -> dict[int, bytes]:
    with dba(url) as sql:
        return {
            int(p): bytes(h)
            for p, h in sql.execute(text("SELECT page, hashes FROM audit_leaf_pages"))
        }


def test_pages_hold_the_entries_leaf_hashes_whatever_the_batches(store_url: str) -> None:
    """Batches that end inside a page, a single entry, one that spans a page: every complete
    page is written once, equal to the entries' own hashes; the tail stays in the entries."""
    service = open_service(store_url, SIGNER)
    _fill(service, [700, 1, 1000, 899, 1])  # 2601 entries: pages 0 and 1, 553 in the tail
    rows = _rows(store_url)
    width = PAGE_LEAVES * 32
    assert _pages(store_url) == {0: rows[:width], 1: rows[width : 2 * width]}
    assert service.store.leaf_hashes() == rows
    assert service.audit.verify().ok
    service.close()


def test_a_forged_page_is_named_by_verification(store_url: str) -> None:
    """The attack: a DB admin rewrites a page (to make proofs for a forged entry); the tree
    built from it no longer matches the signed head, and verification names the page."""
    service = open_service(store_url, SIGNER)
    _fill(service, [1500])
    with dba(store_url) as sql:
        sql.execute(
            text("UPDATE audit_leaf_pages SET hashes = :h WHERE page = 0"),
            {"h": bytes(32) + _rows(store_url)[32 : PAGE_LEAVES * 32]},
        )
    head = service.store.latest_audit_head()
    assert head is not None
    assert TreeLevels(service.store.leaf_hashes()).root(head.size) != head.root
    verdict = service.audit.verify()
    assert [f.problem for f in verdict.findings] == [Problem.PAGE_ALTERED]
    service.close()


def test_a_missing_page_is_read_from_the_entries(store_url: str) -> None:
    """A lost page (deleted, or a log older than pages) costs speed, never correctness."""
    service = open_service(store_url, SIGNER)
    _fill(service, [2100])
    with dba(store_url) as sql:
        sql.execute(text("DELETE FROM audit_leaf_pages WHERE page = 0"))
    assert service.store.leaf_hashes() == _rows(store_url)
    assert service.audit.verify().ok
    service.close()


def test_the_migration_fills_the_pages_of_an_existing_log(store_url: str) -> None:
    """A log written before pages existed gets them when its store is upgraded."""
    service = open_service(store_url, SIGNER)
    _fill(service, [2100])
    service.close()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(store_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "totp_sealed")
    assert "audit_leaf_pages" not in inspect(engine).get_table_names()
    engine.dispose()
    service = open_service(store_url, SIGNER)  # opening migrates to the newest revision
    rows = _rows(store_url)
    width = PAGE_LEAVES * 32
    assert _pages(store_url) == {0: rows[:width], 1: rows[width : 2 * width]}
    assert service.audit.verify().ok
    service.close()
