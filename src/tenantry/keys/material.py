"""Raw key material: the tenant's own key file, released data keys, fingerprints.

Nothing here talks to an HSM or a store: these are the values a tenant handles on its own
machine and a guest handles after a key is released to it.
"""

from __future__ import annotations

import hashlib
import os
import string
from enum import StrEnum

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tenantry.errors import KeyMaterialError

__all__ = [
    "TENANT_KEY_BYTES",
    "DataKey",
    "OaepHash",
    "fingerprint",
    "generate_tenant_key",
    "read_signing_key_pem",
    "read_tenant_key",
    "signing_key_pem",
]

TENANT_KEY_BYTES = 32
"""Tenant keys and data keys are AES-256 keys."""

_HEX = frozenset(string.hexdigits.encode())


class OaepHash(StrEnum):
    """The hash (and MGF1 hash) of RSA-OAEP when a key is wrapped to an RSA public key."""

    SHA256 = "sha256"
    SHA1 = "sha1"


def fingerprint(data: bytes) -> str:
    """``sha256:<hex>`` of public key bytes: how people compare keys out of band."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def generate_tenant_key() -> bytes:
    """A fresh AES-256 key from the operating system's CSPRNG."""
    return os.urandom(TENANT_KEY_BYTES)


def read_tenant_key(data: bytes, *, source: str = "tenant key") -> bytes:
    """The 32 key bytes of a key file: raw bytes, or 64 hex digits (whitespace ignored)."""
    if len(data) == TENANT_KEY_BYTES:
        return bytes(data)
    text = bytes(data).strip()
    if text and all(c in _HEX for c in text):
        if len(text) == 2 * TENANT_KEY_BYTES:
            return bytes.fromhex(text.decode())
        raise KeyMaterialError(
            f"{source}: {len(text)} hex digits; an AES-256 key is {2 * TENANT_KEY_BYTES}"
        )
    raise KeyMaterialError(
        f"{source}: {len(data)} bytes; an AES-256 key is {TENANT_KEY_BYTES} raw bytes "
        f"or {2 * TENANT_KEY_BYTES} hex digits",
        hint="Create one with `tenantry keys generate --out FILE`.",
    )


def signing_key_pem(public_key: bytes) -> str:
    """A tenant's raw Ed25519 public key as a PEM SubjectPublicKeyInfo."""
    return (
        Ed25519PublicKey.from_public_bytes(public_key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def read_signing_key_pem(text: bytes, *, source: str = "signing key") -> bytes:
    """The raw 32-byte Ed25519 public key from a PEM; KeyMaterialError otherwise."""
    try:
        key = serialization.load_pem_public_key(text)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyMaterialError(f"{source}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyMaterialError(f"{source}: a {type(key).__name__}, expected an Ed25519 key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class DataKey:
    """A disk's data-encryption key after release to its guest; its repr never shows the key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != TENANT_KEY_BYTES:
            raise KeyMaterialError(
                f"a released data key has {len(key)} bytes, expected {TENANT_KEY_BYTES}"
            )
        self._key = bytes(key)

    def secret_bytes(self) -> bytes:
        """The key bytes, for the cipher that uses them (never for logs or messages)."""
        return self._key

    def __repr__(self) -> str:
        return "DataKey(<redacted>)"
