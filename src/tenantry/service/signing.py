"""The audit signing key: a 0600 PEM file outside the store, created on first use.

The key signs every tree head, so whoever holds it could sign a rewritten history: it lives
with the service's settings, never in the database, and a file readable by others is refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tenantry.audit import Ed25519Signer
from tenantry.errors import KeyMaterialError

__all__ = ["load_signing_key"]


def load_signing_key(path: Path, *, create: bool = True) -> Ed25519Signer:
    """The signer whose key is in ``path``; a new key is written there if it does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise KeyMaterialError(f"no audit signing key at {path}") from None
        return _create(path)
    except OSError as exc:
        raise KeyMaterialError(f"cannot read the audit signing key {path}: {exc.strerror}") from exc
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyMaterialError(
            f"the audit signing key {path} is accessible to other users (mode {mode & 0o777:o})",
            hint=f"Restrict it: chmod 600 {path}",
        )
    return Ed25519Signer.from_pem(data)


def _create(path: Path) -> Ed25519Signer:
    try:
        return _write_new(path)
    except OSError as exc:
        raise KeyMaterialError(
            f"cannot create the audit signing key {path}: {exc.strerror}",
            hint="Set TENANTRY_AUDIT_KEY (or TENANTRY_HOME) to a writable, private place.",
        ) from exc


def _write_new(path: Path) -> Ed25519Signer:
    signer = Ed25519Signer.generate()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # O_EXCL and 0600 from the first byte; the rename makes the key appear whole or not at all.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(signer.to_pem())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            # Another process created it first: use that one, so every process signs alike.
            return load_signing_key(path, create=False)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return signer
