"""Checkpoints published to a directory that someone else controls (a tenant, a witness).

One JSON file per signed head, named by log and size, never overwritten: the directory keeps
every checkpoint it was given, so a later rollback or a second history shows against it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tenantry.audit import SignedTreeHead
from tenantry.errors import InputError, StoreUnavailableError

__all__ = ["checkpoint_path", "read_checkpoints", "write_checkpoint"]


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
        except (OSError, ValueError) as exc:
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
