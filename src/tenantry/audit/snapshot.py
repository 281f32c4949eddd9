"""Binding estate snapshots to the log: applied entries carry a digest of each object written.

Replaying the digests of the applied entries up to a generation gives exactly the objects
the estate held then; a snapshot that differs was not the one the log describes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from tenantry.audit.record import AuditRecord, Outcome
from tenantry.audit.verdict import Finding, Problem

__all__ = ["object_digest", "object_key", "replay_objects", "snapshot_findings"]

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def object_key(kind: str, ref: str) -> str:
    """How entries and snapshots name an object: ``kind ref`` (``guest finance/web-1``)."""
    return f"{kind} {ref}"


def object_digest(body: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the object's canonical JSON body."""
    return hashlib.sha256(_CANONICAL.encode(dict(body)).encode()).hexdigest()


def replay_objects(
    records: Iterable[tuple[int, AuditRecord]], generation: int
) -> tuple[dict[str, str], list[int]]:
    """Object digests after ``generation`` from the applied entries, and the entries that
    should carry digests but do not."""
    state: dict[str, str | None] = {}
    unbound: list[int] = []
    for seq, record in records:
        if record.outcome is not Outcome.APPLIED:
            continue
        written = record.details.get("generation")
        if not isinstance(written, int) or isinstance(written, bool) or written > generation:
            continue
        objects = record.details.get("objects")
        if not isinstance(objects, dict):
            unbound.append(seq)
            continue
        for key, digest in objects.items():
            state[str(key)] = digest if isinstance(digest, str) else None
    return {k: d for k, d in state.items() if d is not None}, unbound


def snapshot_findings(
    expected: Mapping[str, str], snapshot: Mapping[str, Mapping[str, Any]], unbound: list[int]
) -> list[Finding]:
    """Where a snapshot (key to body) departs from the digests replayed from the log."""
    findings = [
        Finding(
            Problem.SNAPSHOT_MISMATCH,
            f"entry {seq} applied changes but carries no object digests: the snapshot cannot "
            "be bound to it",
            seq,
        )
        for seq in unbound[:1]
    ]
    actual = {key: object_digest(body) for key, body in snapshot.items()}
    for key in sorted(set(expected) | set(actual)):
        if key not in actual:
            problem = "is missing from the snapshot"
        elif key not in expected:
            problem = "is in the snapshot but the log never wrote it"
        elif actual[key] != expected[key]:
            problem = "differs from what the log recorded"
        else:
            continue
        findings.append(Finding(Problem.SNAPSHOT_MISMATCH, f"{key} {problem}"))
    return findings
