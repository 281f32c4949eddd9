"""Checkpoints published to a directory that someone else controls (a tenant, a witness).

One JSON file per signed head, named by log and size, never overwritten: the directory keeps
every checkpoint it was given, so a later rollback or a second history shows against it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from tenantry.audit import Finding, Problem, SignedTreeHead, prove_consistency, verify_consistency
from tenantry.errors import InputError, StoreUnavailableError
from tenantry.store import Store

__all__ = ["checkpoint_path", "read_checkpoints", "witness_findings", "write_checkpoint"]


def checkpoint_path(directory: Path, head: SignedTreeHead) -> Path:
    """Where a head is kept: ``<log id prefix>-<size>-<root prefix>.json``."""
    return directory / f"{head.log_id[:16]}-{head.size:015d}-{head.root.hex()[:16]}.json"


def read_checkpoints(directory: Path, *, log_id: str | None = None) -> list[SignedTreeHead]:
    """Every checkpoint in ``directory`` (of one log if ``log_id`` is given), by size."""
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory of checkpoints")
    heads = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise InputError(f"{path}: not a readable JSON checkpoint ({exc})") from exc
        head = SignedTreeHead.from_json(data, where=str(path))
        if log_id is None or head.log_id == log_id:
            heads.append(head)
    return sorted(heads, key=lambda h: h.size)


def write_checkpoint(directory: Path, head: SignedTreeHead) -> Path:
    """Write ``head`` to ``directory`` (created if missing); an existing file is left as is."""
    path = checkpoint_path(directory, head)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return path
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(head.to_json(), indent=1, sort_keys=True) + "\n")
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        temporary.replace(path)
    except OSError as exc:
        raise StoreUnavailableError(
            f"cannot write the checkpoint to {directory}: {exc.strerror}",
            hint="Check that the witness directory exists and is writable.",
        ) from exc
    return path


def witness_findings(
    store: Store, head: SignedTreeHead, key: bytes, checkpoints: Iterable[SignedTreeHead]
) -> list[Finding]:
    """What is wrong between the log (at ``head``) and the checkpoints a witness holds: forged
    ones, two of one size, one larger than the log, or one the log no longer extends."""
    findings: list[Finding] = []
    seen: dict[int, SignedTreeHead] = {}
    for checkpoint in checkpoints:
        size = checkpoint.size
        if not checkpoint.is_signed_by(key):
            findings.append(
                Finding(
                    Problem.HEAD_FORGED, f"the checkpoint of size {size} is not signed by the key"
                )
            )
            continue
        if seen.setdefault(size, checkpoint).root != checkpoint.root:
            findings.append(
                Finding(Problem.FORK, f"the witness holds two signed heads of size {size}: a fork")
            )
        if size > head.size:
            findings.append(
                Finding(
                    Problem.TRUNCATED,
                    f"the witness holds a head of size {size} but the log has {head.size} "
                    "entries: it was truncated or rolled back",
                    head.size,
                )
            )
            continue
        proof = prove_consistency(store, size, head.size)
        if not verify_consistency(size, head.size, checkpoint.root, head.root, proof.path):
            findings.append(
                Finding(
                    Problem.FORK,
                    f"the log no longer extends the witness's checkpoint of size {size}: its "
                    "history was rewritten (a fork, or a rollback then new entries)",
                )
            )
    return findings
