"""Out-of-band import, the tenant's half: wrap a tenant key to the HSM's public wrapping key.

Runs on the tenant's machine with only ``cryptography``: the provider publishes its HSM's RSA
wrapping key (PEM, compared by fingerprint out of band), the tenant wraps its own AES-256 key
with RSA-OAEP, and uploads only the wrapped blob. Only the HSM can unwrap it, into a key
object that never leaves the HSM.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from tenantry.errors import KeyMaterialError
from tenantry.keys._armor import armor, dearmor
from tenantry.keys.material import TENANT_KEY_BYTES, OaepHash, fingerprint, read_tenant_key

__all__ = [
    "MIN_RSA_BITS",
    "WrappedKey",
    "WrappingKey",
    "oaep_padding",
    "wrap_tenant_key",
]

MIN_RSA_BITS = 2048
_WRAPPED_LABEL = "TENANTRY WRAPPED KEY"
_MAGIC = b"TWK1"
_HASH_IDS = {OaepHash.SHA1: 1, OaepHash.SHA256: 2}
_FINGERPRINT_BYTES = 32


def oaep_padding(oaep_hash: OaepHash) -> padding.OAEP:
    """RSA-OAEP with ``oaep_hash`` for both the label hash and MGF1, and no label."""
    algorithm: hashes.HashAlgorithm = (
        hashes.SHA256() if oaep_hash is OaepHash.SHA256 else hashes.SHA1()  # noqa: S303 - OAEP, not a signature
    )
    return padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)


@dataclass(frozen=True)
class WrappingKey:
    """The HSM's public RSA wrapping key and the OAEP hash the HSM unwraps with."""

    public_key: RSAPublicKey
    oaep_hash: OaepHash = OaepHash.SHA256

    @property
    def der(self) -> bytes:
        """SubjectPublicKeyInfo DER."""
        return self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def fingerprint(self) -> str:
        """``sha256:`` of the DER: compare it with the provider's out-of-band copy."""
        return fingerprint(self.der)

    def to_pem(self) -> str:
        """PEM with ``Fingerprint`` and ``OAEP-Hash`` lines before the block."""
        headers = {"Fingerprint": self.fingerprint, "OAEP-Hash": str(self.oaep_hash)}
        return armor("PUBLIC KEY", self.der, headers)

    @classmethod
    def from_der(
        cls, der: bytes, oaep_hash: OaepHash, *, source: str = "wrapping key"
    ) -> WrappingKey:
        """A wrapping key from SubjectPublicKeyInfo DER; must be RSA of at least 2048 bits."""
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyMaterialError(f"{source}: not a DER SubjectPublicKeyInfo") from exc
        if not isinstance(key, RSAPublicKey):
            raise KeyMaterialError(f"{source}: a {type(key).__name__}, expected an RSA key")
        if key.key_size < MIN_RSA_BITS:
            raise KeyMaterialError(
                f"{source}: RSA-{key.key_size} is too small; at least RSA-{MIN_RSA_BITS}"
            )
        return cls(key, oaep_hash)

    @classmethod
    def from_pem(cls, text: bytes | str, *, source: str = "wrapping key") -> WrappingKey:
        """Read ``to_pem`` output (header lines optional; OAEP-Hash defaults to sha256)."""
        headers, der = dearmor(text, "PUBLIC KEY", source=source)
        name = headers.get("OAEP-Hash", str(OaepHash.SHA256)).lower()
        try:
            oaep_hash = OaepHash(name)
        except ValueError:
            raise KeyMaterialError(
                f"{source}: OAEP-Hash {name!r} is not one of {', '.join(str(h) for h in OaepHash)}"
            ) from None
        key = cls.from_der(der, oaep_hash, source=source)
        claimed = headers.get("Fingerprint")
        if claimed is not None and claimed != key.fingerprint:
            raise KeyMaterialError(
                f"{source}: the Fingerprint line says {claimed} but the key is {key.fingerprint}"
            )
        return key


@dataclass(frozen=True)
class WrappedKey:
    """A tenant key encrypted to one wrapping key: only that HSM can unwrap it."""

    wrapping_key: str
    """Fingerprint (``sha256:...``) of the wrapping key it was encrypted to."""
    oaep_hash: OaepHash
    ciphertext: bytes

    def to_bytes(self) -> bytes:
        """``TWK1`` | hash id | 32-byte fingerprint | RSA-OAEP ciphertext."""
        digest = bytes.fromhex(self.wrapping_key.removeprefix("sha256:"))
        return _MAGIC + struct.pack(">B", _HASH_IDS[self.oaep_hash]) + digest + self.ciphertext

    def to_pem(self) -> str:
        """The blob as text, safe to mail or paste."""
        headers = {"Wrapping-Key": self.wrapping_key, "OAEP-Hash": str(self.oaep_hash)}
        return armor(_WRAPPED_LABEL, self.to_bytes(), headers)

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "wrapped key") -> WrappedKey:
        """Parse ``to_bytes`` output, saying which part is wrong."""
        head = len(_MAGIC) + 1 + _FINGERPRINT_BYTES
        if len(data) < head:
            raise KeyMaterialError(f"{source}: {len(data)} bytes is shorter than the header")
        if data[: len(_MAGIC)] != _MAGIC:
            raise KeyMaterialError(f"{source}: does not start with {_MAGIC!r}; not a wrapped key")
        hash_id = data[len(_MAGIC)]
        by_id = {v: k for k, v in _HASH_IDS.items()}
        if hash_id not in by_id:
            raise KeyMaterialError(f"{source}: unknown OAEP hash id {hash_id}")
        ciphertext = data[head:]
        if not MIN_RSA_BITS // 8 <= len(ciphertext) <= 2048 or len(ciphertext) % 8:
            raise KeyMaterialError(
                f"{source}: the ciphertext has {len(ciphertext)} bytes, which is not the size "
                "of an RSA modulus (truncated or corrupt?)"
            )
        digest = data[len(_MAGIC) + 1 : head].hex()
        return cls(f"sha256:{digest}", by_id[hash_id], bytes(ciphertext))

    @classmethod
    def from_pem(cls, text: bytes | str, *, source: str = "wrapped key") -> WrappedKey:
        """Parse ``to_pem`` output; the header lines must agree with the blob."""
        headers, data = dearmor(text, _WRAPPED_LABEL, source=source)
        wrapped = cls.from_bytes(data, source=source)
        claimed = headers.get("Wrapping-Key")
        if claimed is not None and claimed != wrapped.wrapping_key:
            raise KeyMaterialError(
                f"{source}: the Wrapping-Key line says {claimed} but the blob says "
                f"{wrapped.wrapping_key}"
            )
        return wrapped


def wrap_tenant_key(
    wrapping_key: WrappingKey, tenant_key: bytes, *, oaep_hash: OaepHash | None = None
) -> WrappedKey:
    """Encrypt ``tenant_key`` (32 bytes) to ``wrapping_key`` with RSA-OAEP."""
    key = read_tenant_key(tenant_key)
    if len(key) != TENANT_KEY_BYTES:  # pragma: no cover - read_tenant_key guarantees it
        raise KeyMaterialError("tenant key has the wrong size")
    chosen = oaep_hash or wrapping_key.oaep_hash
    ciphertext = wrapping_key.public_key.encrypt(key, oaep_padding(chosen))
    return WrappedKey(wrapping_key.fingerprint, chosen, ciphertext)
