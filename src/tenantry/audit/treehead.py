"""Signed tree heads: (size, root, timestamp, log id) signed with Ed25519 through a Signer.

The log id is the SHA-256 of the raw public key, so a head pins the key that must have
signed it; a verifier that trusts one log id accepts no head signed by another key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tenantry.audit._parse import field, hex_bytes, integer, obj, text
from tenantry.audit.merkle import HASH_SIZE
from tenantry.errors import InputError, KeyMaterialError

__all__ = [
    "Ed25519Signer",
    "SignedTreeHead",
    "Signer",
    "TreeHead",
    "load_public_key",
    "log_id_of",
    "public_key_pem",
    "verify_signature",
]

_HEAD_DOMAIN = b"tenantry-tree-head/v1\n"


class Signer(Protocol):
    """Signs tree heads and bundles; an HSM-backed one can stand in for the file key."""

    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        ...

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of ``message``."""
        ...


class Ed25519Signer:
    """A Signer over an Ed25519 private key held in memory."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self._public = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @classmethod
    def generate(cls) -> Ed25519Signer:
        """A signer with a fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes) -> Ed25519Signer:
        """A signer from an unencrypted PKCS#8 PEM private key."""
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyMaterialError("the audit signing key is not a PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyMaterialError("the audit signing key is not an Ed25519 key")
        return cls(key)

    def to_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (for a 0600 file)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_key(self) -> bytes:
        return self._public

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Ed25519Signer(log_id={log_id_of(self._public)[:16]}...)"


def log_id_of(public_key: bytes) -> str:
    """The log identity: hex SHA-256 of the raw public key."""
    return hashlib.sha256(public_key).hexdigest()


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_pem(public_key: bytes) -> str:
    """The raw public key as a PEM SubjectPublicKeyInfo block."""
    return (
        Ed25519PublicKey.from_public_bytes(public_key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def load_public_key(text: str) -> bytes:
    """A raw Ed25519 public key from PEM, or 64 hex digits."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, TypeError) as exc:
            raise KeyMaterialError("the public key is not a valid PEM block") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise KeyMaterialError("the public key is not an Ed25519 key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise KeyMaterialError("the public key is neither PEM nor 64 hex digits") from exc
    if len(raw) != 32:
        raise KeyMaterialError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return raw


@dataclass(frozen=True)
class TreeHead:
    """The state of the log at one size: what a signature commits to."""

    size: int
    root: bytes
    timestamp: int
    """Milliseconds since the Unix epoch, when the head was signed."""
    log_id: str

    def message(self) -> bytes:
        """The exact bytes that are signed (domain-separated, one field per line)."""
        return _HEAD_DOMAIN + (
            f"{self.log_id}\n{self.size}\n{self.root.hex()}\n{self.timestamp}\n".encode()
        )

    def sign(self, signer: Signer) -> SignedTreeHead:
        """This head with ``signer``'s signature."""
        return SignedTreeHead(self, signer.sign(self.message()))


@dataclass(frozen=True)
class SignedTreeHead:
    """A tree head and its Ed25519 signature."""

    head: TreeHead
    signature: bytes

    @property
    def size(self) -> int:
        return self.head.size

    @property
    def root(self) -> bytes:
        return self.head.root

    @property
    def log_id(self) -> str:
        return self.head.log_id

    def is_signed_by(self, public_key: bytes) -> bool:
        """Whether the log id names this key and the signature verifies with it."""
        return self.head.log_id == log_id_of(public_key) and verify_signature(
            public_key, self.signature, self.head.message()
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "log_id": self.head.log_id,
            "size": self.head.size,
            "root": self.head.root.hex(),
            "timestamp": self.head.timestamp,
            "signature": base64.b64encode(self.signature).decode(),
        }

    @classmethod
    def from_json(cls, data: object, *, where: str = "tree head") -> SignedTreeHead:
        """A signed head from its JSON form; InputError naming ``where`` if malformed."""
        fields = obj(data, where)
        size = integer(field(fields, "size", where), f"{where}.size")
        timestamp = integer(field(fields, "timestamp", where), f"{where}.timestamp")
        log_id = text(field(fields, "log_id", where), f"{where}.log_id")
        if len(log_id) != 64:
            raise InputError(f"{where}.log_id: expected 64 hex digits")
        root = hex_bytes(field(fields, "root", where), f"{where}.root", HASH_SIZE)
        signature = text(field(fields, "signature", where), f"{where}.signature")
        try:
            sig = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InputError(f"{where}.signature: not base64") from exc
        return cls(TreeHead(size, root, timestamp, log_id), sig)
