"""Secrets at rest in the store (TOTP seeds): AES-256-GCM under a key kept outside the store.

The key is a 0600 file next to the audit signing key, created on first use; a key file that
others can read is refused. Each sealed value is bound to its row and column by the
associated data, so a value copied to another user or column does not open.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tenantry.errors import DataIntegrityError, KeyMaterialError
from tenantry.keys.private_file import read_private_file

__all__ = ["SEALED_PREFIX", "SecretBox", "is_sealed", "load_secret_box"]

SEALED_PREFIX = "aesgcm1:"
"""Marks a sealed value; plaintext TOTP seeds are base32 and never contain a colon."""

_KEY_BYTES = 32
_NONCE_BYTES = 12


def is_sealed(value: str) -> bool:
    """Whether ``value`` is a sealed secret (rather than a legacy plaintext one)."""
    return value.startswith(SEALED_PREFIX)


class SecretBox:
    """Seals and opens short secrets, each bound to where it is stored."""

    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_BYTES:
            raise KeyMaterialError(f"a secrets key has {_KEY_BYTES} bytes, not {len(key)}")
        self._cipher = AESGCM(key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def seal(self, plaintext: str, where: str) -> str:
        """``plaintext`` encrypted for the place ``where`` (for example ``users/ID/totp``)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._cipher.encrypt(nonce, plaintext.encode(), where.encode())
        return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, value: str, where: str) -> str:
        """The plaintext of a value sealed for ``where``; DataIntegrityError otherwise."""
        if not is_sealed(value):
            raise DataIntegrityError(f"the secret stored at {where} is not sealed")
        try:
            raw = base64.urlsafe_b64decode(value[len(SEALED_PREFIX) :].encode("ascii"))
            plain = self._cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], where.encode())
        except (ValueError, InvalidTag) as exc:
            raise DataIntegrityError(
                f"the secret stored at {where} does not open under the secrets key "
                "(altered, moved, or sealed under another key)"
            ) from exc
        return plain.decode()


def load_secret_box(path: Path, *, create: bool = True) -> SecretBox:
    """The box whose key is in ``path`` (a new random key is written there if missing)."""
    data = read_private_file(
        path,
        label="secrets key",
        generate=lambda: base64.b64encode(AESGCM.generate_key(bit_length=_KEY_BYTES * 8)),
        create=create,
        hint="Set TENANTRY_SECRETS_KEY (or TENANTRY_HOME) to a writable, private place.",
    )
    try:
        return SecretBox(base64.b64decode(data, validate=True))
    except ValueError as exc:
        raise KeyMaterialError(f"the secrets key {path} is not base64") from exc
