"""Disk images for unit tests: a software Ed25519 signer stands in for the tenant's HSM key."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tenantry.keys import DataKey, fingerprint
from tenantry.keys.disk import (
    DiskHeader,
    DiskIdentity,
    EncryptedDisk,
    allocate_image,
    empty_header,
    new_disk_id,
)

__all__ = ["SampleDisk", "SoftSigner", "make_disk"]


class SoftSigner:
    """An Ed25519 key in memory that signs headers (what the HSM does in production)."""

    def __init__(self) -> None:
        self._private = Ed25519PrivateKey.generate()
        self.public = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.signed: list[DiskHeader] = []

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    def sign_header(self, header: DiskHeader) -> bytes:
        self.signed.append(header)
        return self._private.sign(header.signed_message())


@dataclass
class SampleDisk:
    """An allocated image with everything needed to open it."""

    path: Path
    identity: DiskIdentity
    key: DataKey
    signer: SoftSigner
    mapped: bool | None = None
    """Force memory-mapped (True) or pread/pwrite (False) block I/O; None lets the disk pick."""

    def open(self, *, writable: bool = True, min_generation: int = 0) -> EncryptedDisk:
        return EncryptedDisk.open(
            self.path,
            key=self.key,
            identity=self.identity,
            signing_key=self.signer.public,
            min_generation=min_generation,
            signer=self.signer if writable else None,
            mapped=self.mapped,
        )


def make_disk(
    directory: Path,
    name: str = "root",
    *,
    size: int = 1 << 20,
    block_size: int = 4096,
    tenant: str = "acme",
    guest: str = "web",
    signer: SoftSigner | None = None,
    key: DataKey | None = None,
) -> SampleDisk:
    """Allocate an empty image under ``directory``, signed by ``signer`` (a new one by default)."""
    signer = signer or SoftSigner()
    identity = DiskIdentity(tenant, guest, name, new_disk_id())
    header = empty_header(identity, size=size, block_size=block_size, signer=signer.fingerprint)
    header = header.model_copy(update={"signature": signer.sign_header(header).hex()})
    path = directory / f"{tenant}-{guest}-{name}.tdisk"
    allocate_image(path, header)
    return SampleDisk(path, identity, key or DataKey(os.urandom(32)), signer)
