"""THREATS rows 39-40 on real SQLite and PostgreSQL: a DB admin's SQL is caught and located.

The log holds the demo apply (entries 0-4, one head) and ten single-entry commits (5-14,
a head each); a witness directory kept the last checkpoint before the tampering.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tenantry.audit import (
    AuditRecord,
    Ed25519Signer,
    Frontier,
    Outcome,
    Problem,
    Verdict,
    leaf_hash,
    verify_inclusion,
)
from tenantry.errors import AuditIntegrityError
from tenantry.service.witness import read_checkpoints
from tests.helpers.audit import TENANTS, demo_estate, describe_tenant, open_service, operator
from tests.integration.store.tampering import dba, resign_all, restore, rewrite, snapshot

SIGNER = Ed25519Signer.generate()


def _commit(url: str, count: int, start: int = 0) -> None:
    service = open_service(url, SIGNER)
    for i in range(start, start + count):
        describe_tenant(service, operator(), TENANTS[i % 4], f"version {i}")
    service.close()


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> tuple[str, Path]:
    """A store with 15 entries and a witness holding its checkpoint of size 15."""
    service = open_service(store_url, SIGNER)
    service.apply(operator(), demo_estate())
    service.close()
    _commit(store_url, 10)
    witness = tmp_path / "witness"
    service = open_service(store_url, SIGNER)
    service.audit.publish(operator(), witness)
    service.close()
    return store_url, witness


def _verify(url: str, witness: Path | None = None) -> Verdict:
    service = open_service(url, SIGNER)
    try:
        trusted = [] if witness is None else read_checkpoints(witness)
        return service.audit.verify(public_key=SIGNER.public_key(), trusted=trusted)
    finally:
        service.close()


def _problems(verdict: Verdict) -> set[Problem]:
    return {f.problem for f in verdict.findings}


def test_an_untouched_log_verifies_against_the_witness(store: tuple[str, Path]) -> None:
    """The positive control: no tampering, no finding; growth after the checkpoint is fine."""
    url, witness = store
    assert _verify(url, witness).ok
    _commit(url, 3, start=10)
    verdict = _verify(url, witness)
    assert verdict.ok, verdict.findings
    assert verdict.size == 18


def test_an_edited_field_is_named_exactly(store: tuple[str, Path]) -> None:
    """UPDATE of a body: its stored leaf hash no longer matches."""
    url, witness = store
    with dba(url) as sql:
        rewrite(sql, 7, "update tenant", "delete tenant", rehash=False)
    verdict = _verify(url, witness)
    assert Problem.ENTRY_ALTERED in _problems(verdict)
    assert verdict.first_bad_seq == 7


def test_an_edit_with_its_leaf_hash_recomputed_is_named_exactly(store: tuple[str, Path]) -> None:
    """Recomputing the leaf hash does not help: the signed heads from 8 on disagree."""
    url, witness = store
    with dba(url) as sql:
        rewrite(sql, 7, "update tenant", "delete tenant", rehash=True)
    verdict = _verify(url, witness)
    assert Problem.ENTRIES_DIVERGE in _problems(verdict)
    assert verdict.first_bad_seq == 7


def test_a_deleted_entry_is_named(store: tuple[str, Path]) -> None:
    """DELETE leaves a hole in the numbering."""
    url, witness = store
    with dba(url) as sql:
        sql.execute(text("DELETE FROM audit_entries WHERE seq = 7"))
    verdict = _verify(url, witness)
    assert Problem.ENTRY_MISSING in _problems(verdict)
    assert verdict.first_bad_seq == 7


def test_a_deleted_entry_with_the_rest_renumbered_is_named(store: tuple[str, Path]) -> None:
    """Closing the hole by renumbering shifts every later leaf: the heads from 8 disagree."""
    url, witness = store
    with dba(url) as sql:
        sql.execute(text("DELETE FROM audit_entries WHERE seq = 7"))
        sql.execute(text("UPDATE audit_entries SET seq = -seq WHERE seq > 7"))
        sql.execute(text("UPDATE audit_entries SET seq = -seq - 1 WHERE seq < 0"))
    verdict = _verify(url, witness)
    assert not verdict.ok
    assert verdict.first_bad_seq == 7


def test_reordered_entries_are_named(store: tuple[str, Path]) -> None:
    """Swapping two rows (bodies and hashes) is caught at the first of them."""
    url, witness = store
    with dba(url) as sql:
        sql.execute(text("UPDATE audit_entries SET seq = -1 WHERE seq = 6"))
        sql.execute(text("UPDATE audit_entries SET seq = 6 WHERE seq = 9"))
        sql.execute(text("UPDATE audit_entries SET seq = 9 WHERE seq = -1"))
    verdict = _verify(url, witness)
    assert Problem.ENTRIES_DIVERGE in _problems(verdict)
    assert verdict.first_bad_seq == 6


def test_an_entry_inserted_in_the_middle_is_named(store: tuple[str, Path]) -> None:
    """Making room and inserting a forged entry at 5 is caught at 5."""
    url, witness = store
    forged = AuditRecord(actor="ghost", action="apply", outcome=Outcome.APPLIED).canonical()
    with dba(url) as sql:
        sql.execute(text("UPDATE audit_entries SET seq = -seq - 1 WHERE seq >= 5"))
        sql.execute(text("UPDATE audit_entries SET seq = -seq WHERE seq < 0"))
        sql.execute(
            text(
                "INSERT INTO audit_entries (seq, time, body, leaf_hash) "
                "VALUES (5, CURRENT_TIMESTAMP, :b, :h)"
            ),
            {"b": forged.decode(), "h": leaf_hash(forged)},
        )
    verdict = _verify(url, witness)
    assert not verdict.ok
    assert verdict.first_bad_seq == 5


def test_an_entry_appended_outside_tenantry_is_named_and_stops_appends(
    store: tuple[str, Path],
) -> None:
    """A row added at the end is covered by no signed head; tenantry refuses to build on it."""
    url, witness = store
    forged = AuditRecord(actor="ghost", action="login", outcome=Outcome.SUCCEEDED).canonical()
    with dba(url) as sql:
        sql.execute(
            text(
                "INSERT INTO audit_entries (seq, time, body, leaf_hash) "
                "VALUES (15, CURRENT_TIMESTAMP, :b, :h)"
            ),
            {"b": forged.decode(), "h": leaf_hash(forged)},
        )
    verdict = _verify(url, witness)
    assert Problem.UNSIGNED_ENTRIES in _problems(verdict)
    assert verdict.first_bad_seq == 15
    service = open_service(url, SIGNER)
    with pytest.raises(AuditIntegrityError, match="outside tenantry"):
        service.record(operator(), "login", Outcome.SUCCEEDED)
    service.close()


def test_a_truncated_log_is_caught_by_the_witness(store: tuple[str, Path]) -> None:
    """Cutting entries 10-14 with their heads leaves a self-consistent log; the witness's
    checkpoint of size 15 shows the cut."""
    url, witness = store
    with dba(url) as sql:
        sql.execute(text("DELETE FROM audit_entries WHERE seq >= 10"))
        sql.execute(text("DELETE FROM audit_heads WHERE size > 10"))
        hashes = [
            bytes(h)
            for (h,) in sql.execute(text("SELECT leaf_hash FROM audit_entries ORDER BY seq"))
        ]
        frontier = Frontier()
        frontier.append(hashes)
        sql.execute(
            text("UPDATE audit_log SET size = 10, frontier = :f"), {"f": frontier.to_bytes()}
        )
    assert _verify(url).ok  # without a checkpoint held elsewhere, a clean cut is invisible
    verdict = _verify(url, witness)
    assert Problem.TRUNCATED in _problems(verdict)
    assert verdict.first_bad_seq == 10


def test_a_rollback_then_new_history_is_a_fork(store_url: str, tmp_path: Path) -> None:
    """Restore an old backup and carry on: the witness's checkpoint and the new heads, both
    validly signed, describe two histories (THREATS row 40 a/b)."""
    service = open_service(store_url, SIGNER)
    service.apply(operator(), demo_estate())
    service.close()
    _commit(store_url, 5)
    snapshot(store_url, "backup")
    _commit(store_url, 5, start=5)
    witness = tmp_path / "witness"
    service = open_service(store_url, SIGNER)
    service.audit.publish(operator(), witness)
    service.close()

    restore(store_url, "backup")
    _commit(store_url, 7, start=100)

    verdict = _verify(store_url, witness)
    assert Problem.FORK in _problems(verdict)
    assert verdict.first_bad_seq is not None
    assert verdict.first_bad_seq <= 10
    service = open_service(store_url, SIGNER)
    assert Problem.FORK in _problems(service.audit.check_witness(operator(), witness))
    with pytest.raises(AuditIntegrityError):
        service.audit.publish(operator(), witness)
    service.close()


def test_a_swapped_key_is_caught_and_refused(store: tuple[str, Path]) -> None:
    """Rewrite an entry and re-sign every head with a new key: the pinned key rejects them,
    and tenantry (with the real key) refuses to append to the re-pinned log."""
    url, witness = store
    with dba(url) as sql:
        rewrite(sql, 7, "update tenant", "delete tenant", rehash=True)
        resign_all(sql, Ed25519Signer.generate())
    verdict = _verify(url, witness)
    assert Problem.WRONG_KEY in _problems(verdict)
    service = open_service(url, SIGNER)
    with pytest.raises(AuditIntegrityError, match="pinned"):
        service.record(operator(), "login", Outcome.SUCCEEDED)
    service.close()


def test_a_forged_head_is_caught(store: tuple[str, Path]) -> None:
    """A stored head whose root was changed no longer carries a valid signature."""
    url, witness = store
    with dba(url) as sql:
        sql.execute(text("UPDATE audit_heads SET root = :r WHERE size = 12"), {"r": b"\x07" * 32})
    assert Problem.HEAD_FORGED in _problems(_verify(url, witness))


def test_a_tampered_tile_cannot_forge_a_proof(store: tuple[str, Path]) -> None:
    """Stored subtree hashes are only a cache: a changed one yields a proof that fails."""
    url, _ = store
    service = open_service(url, SIGNER)
    with service.audit.appender() as appender:
        for i in range(40):
            appender.add(AuditRecord(actor="u", action="login", outcome=Outcome.SUCCEEDED,
                                     targets=(f"user {i}",)))  # fmt: skip
    entry, proof, head = service.audit.prove(operator(), 3)
    assert verify_inclusion(leaf_hash(entry.body), 3, head.size, proof.path, head.root)
    with dba(url) as sql:
        sql.execute(
            text("UPDATE audit_nodes SET hash = :h WHERE level = 4 AND idx = 1"),
            {"h": b"\x00" * 32},
        )
    entry, proof, head = service.audit.prove(operator(), 3)
    assert not verify_inclusion(leaf_hash(entry.body), 3, head.size, proof.path, head.root)
    service.close()


def test_an_entry_hidden_from_a_tenant_view_is_noticed_by_the_tenant(
    store: tuple[str, Path],
) -> None:
    """Deleting hr's index row for entry 6 hides it from hr's view while the log still
    verifies; hr's bundle shows the gap in hr's own entry numbers."""
    from tenantry.audit import verify_bundle
    from tests.helpers.audit import tenant_actor

    url, _ = store
    service = open_service(url, SIGNER)
    before = verify_bundle(service.audit.bundle(tenant_actor("hr")), public_key=SIGNER.public_key())
    assert before.ok
    with dba(url) as sql:
        sql.execute(text("DELETE FROM audit_tenants WHERE tenant = 'hr' AND seq = 6"))
    assert service.audit.verify().ok  # the log itself is intact
    bundle = service.audit.bundle(tenant_actor("hr"))
    assert [e.seq for e in bundle.entries] == [2, 10, 14]
    verdict = verify_bundle(bundle, public_key=SIGNER.public_key())
    assert Problem.VIEW_INCOMPLETE in _problems(verdict)
    assert verdict.first_bad_seq == 10
    service.close()


def test_another_tenants_entry_slipped_into_a_view_is_refused(store: tuple[str, Path]) -> None:
    """Indexing finance's entry 5 under hr must not hand it to hr: the service refuses."""
    from tests.helpers.audit import tenant_actor

    url, _ = store
    with dba(url) as sql:
        sql.execute(
            text("INSERT INTO audit_tenants (tenant, seq, tenant_seq) VALUES ('hr', 5, 99)")
        )
    service = open_service(url, SIGNER)
    with pytest.raises(AuditIntegrityError, match="index was altered"):
        service.audit.entries(tenant_actor("hr"))
    with pytest.raises(AuditIntegrityError, match="index was altered"):
        service.audit.bundle(tenant_actor("hr"))
    service.close()


def test_a_stored_leaf_hash_of_the_wrong_size_is_named_alone(store: tuple[str, Path]) -> None:
    """A 5-byte leaf hash must not shift the hashes after it: only entry 7 is named."""
    url, witness = store
    with dba(url) as sql:
        sql.execute(text("UPDATE audit_entries SET leaf_hash = :h WHERE seq = 7"), {"h": b"short"})
    verdict = _verify(url, witness)
    altered = [f.seq for f in verdict.findings if f.problem is Problem.ENTRY_ALTERED]
    assert altered == [7], verdict.findings
    assert verdict.first_bad_seq == 7


def test_entries_moved_within_the_table_still_verify(store: tuple[str, Path]) -> None:
    """The legitimate flow behind the scan's fallback: a row deleted and put back as it was
    (stored after the others now, as a VACUUM or a restore may leave it) is read in seq order."""
    url, witness = store
    with dba(url) as sql:
        row = sql.execute(text("SELECT * FROM audit_entries WHERE seq = 7")).mappings().one()
        sql.execute(text("DELETE FROM audit_entries WHERE seq = 7"))
        sql.execute(
            text(
                "INSERT INTO audit_entries (seq, time, body, leaf_hash) "
                "VALUES (:seq, :time, :body, :leaf_hash)"
            ),
            dict(row),
        )
    verdict = _verify(url, witness)
    assert verdict.ok, verdict.findings
    assert verdict.size == 15
