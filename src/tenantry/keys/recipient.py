"""The guest's side of a release: a recipient key pair, and opening a released data key.

In production the private half is bound to the attested host (a TPM-resident key); here it is
an RSA key held by the process that runs the guest's disk, and never leaves it.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tenantry.errors import CryptoError
from tenantry.keys.envelope import oaep_padding
from tenantry.keys.material import DataKey, fingerprint
from tenantry.keys.release import ReleasedKey

__all__ = ["RecipientKey"]

RECIPIENT_KEY_BITS = 3072


class RecipientKey:
    """An RSA key pair that released data keys are wrapped to."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._private = private_key

    @classmethod
    def generate(cls) -> RecipientKey:
        """A fresh key pair (RSA-3072)."""
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=RECIPIENT_KEY_BITS))

    @property
    def public_der(self) -> bytes:
        """The public half as SubjectPublicKeyInfo DER (what a release request carries)."""
        return self._private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_der)

    def open(self, released: ReleasedKey) -> DataKey:
        """The data key inside ``released``; CryptoError if it was not wrapped to this key."""
        if released.recipient != self.fingerprint:
            raise CryptoError(
                f"the key for disk {released.disk_id} was released to {released.recipient}, "
                f"not to this recipient key ({self.fingerprint})"
            )
        try:
            key = self._private.decrypt(released.wrapped, oaep_padding(released.oaep_hash))
        except ValueError as exc:
            raise CryptoError(
                f"the released key for disk {released.disk_id} does not decrypt"
            ) from exc
        return DataKey(key)

    def __repr__(self) -> str:
        return f"RecipientKey({self.fingerprint})"
