"""The HSM as the key service needs it: every plaintext key stays inside.

``tenantry.keys.pkcs11.Pkcs11Vault`` implements it over any PKCS#11 module (SoftHSM2 in
tests). Data keys cross this boundary only wrapped: under a tenant KEK (AES key wrap) for the
store, or under a guest's recipient key (RSA-OAEP) on release.
"""

from __future__ import annotations

from typing import Protocol

from tenantry.keys.envelope import WrappedKey, WrappingKey
from tenantry.keys.material import OaepHash

__all__ = ["KeyVault", "kek_label", "signing_label"]

WRAPPING_LABEL = "tenantry-wrapping"


def kek_label(tenant: str, version: int) -> str:
    """The HSM label of one version of a tenant's KEK."""
    return f"tenantry-kek/{tenant}/v{version}"


def signing_label(tenant: str) -> str:
    """The HSM label of a tenant's header-signing key pair."""
    return f"tenantry-sign/{tenant}"


class KeyVault(Protocol):
    """Key operations inside an HSM; no method returns a plaintext secret key."""

    def wrapping_key(self) -> WrappingKey:
        """The public RSA wrapping key (created on first use)."""
        ...

    def import_kek(self, tenant: str, version: int, wrapped: WrappedKey) -> None:
        """Unwrap a tenant's key into a non-extractable KEK object."""
        ...

    def has_kek(self, tenant: str, version: int) -> bool: ...

    def destroy_kek(self, tenant: str, version: int) -> bool:
        """Destroy the KEK object; False if there was none."""
        ...

    def new_data_key(self, tenant: str, version: int) -> bytes:
        """A fresh AES-256 DEK generated inside the HSM, returned wrapped under the KEK."""
        ...

    def rewrap_data_key(self, tenant: str, old: int, new: int, wrapped: bytes) -> bytes:
        """Unwrap under KEK ``old`` and wrap under KEK ``new``, inside the HSM."""
        ...

    def release_data_key(
        self, tenant: str, version: int, wrapped: bytes, recipient: bytes
    ) -> tuple[bytes, OaepHash]:
        """The DEK re-wrapped to ``recipient`` (RSA SubjectPublicKeyInfo DER), and the OAEP hash."""
        ...

    def signing_key(self, tenant: str) -> bytes:
        """The tenant's Ed25519 public key (32 bytes); the pair is created on first use."""
        ...

    def sign(self, tenant: str, message: bytes) -> bytes:
        """An Ed25519 signature by the tenant's signing key."""
        ...

    def destroy_signing_key(self, tenant: str) -> bool:
        """Destroy the key pair; False if there was none."""
        ...

    def close(self) -> None: ...
