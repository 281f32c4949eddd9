"""The audit signing key: a 0600 PEM file outside the store, created on first use.

The key signs every tree head, so whoever holds it could sign a rewritten history: it lives
with the service's settings, never in the database, and a file readable by others is refused.
"""

from __future__ import annotations

from pathlib import Path

from tenantry.audit import Ed25519Signer
from tenantry.keys import read_private_file

__all__ = ["load_signing_key"]


def load_signing_key(path: Path, *, create: bool = True) -> Ed25519Signer:
    """The signer whose key is in ``path``; a new key is written there if it does not exist."""
    data = read_private_file(
        path,
        label="audit signing key",
        generate=lambda: Ed25519Signer.generate().to_pem(),
        create=create,
        hint="Set TENANTRY_AUDIT_KEY (or TENANTRY_HOME) to a writable, private place.",
    )
    return Ed25519Signer.from_pem(data)
