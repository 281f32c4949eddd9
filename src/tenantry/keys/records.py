"""What the key service remembers (never a plaintext key) and what it reports to the audit.

``KeyRecords`` and ``KeyAudit`` are implemented by the layers above (the store, the audit
log) and wired by the service layer, so this package never imports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

__all__ = [
    "DiskKeyRecord",
    "DiskKeyState",
    "KekRecord",
    "KekState",
    "KeyAudit",
    "KeyEvent",
    "KeyRecords",
    "SigningKeyRecord",
    "TenantKeyStatus",
]


class KekState(StrEnum):
    """Life cycle of one version of a tenant's key-encryption key."""

    ACTIVE = "active"
    RETIRED = "retired"
    """Replaced by a newer version; destroyed in the HSM after every data key was re-wrapped."""
    REVOKED = "revoked"
    """Destroyed in the HSM at the tenant's request (crypto-shredding)."""


@dataclass(frozen=True)
class KekRecord:
    """One version of a tenant's KEK; the key itself lives only in the HSM."""

    tenant: str
    version: int
    state: KekState
    wrapping_key: str
    """Fingerprint of the HSM wrapping key the tenant wrapped it to."""
    created_at: datetime
    changed_at: datetime


class DiskKeyState(StrEnum):
    """Whether a disk's data key can still be unwrapped."""

    ACTIVE = "active"
    SHREDDED = "shredded"


@dataclass(frozen=True)
class DiskKeyRecord:
    """A virtual disk's identity, geometry and data key wrapped under its tenant's KEK."""

    disk_id: str
    tenant: str
    guest: str
    disk: str
    block_size: int
    block_count: int
    kek_version: int
    wrapped_dek: bytes
    """The DEK under AES key wrap (RFC 3394) with the KEK; empty once shredded."""
    state: DiskKeyState
    generation: int
    """The newest header generation the key service signed (rollback detection)."""
    created_at: datetime
    changed_at: datetime

    def __repr__(self) -> str:
        return (
            f"DiskKeyRecord({self.tenant}/{self.guest}/{self.disk}, id={self.disk_id}, "
            f"kek=v{self.kek_version}, {self.state}, generation={self.generation})"
        )


@dataclass(frozen=True)
class SigningKeyRecord:
    """A tenant's Ed25519 header-signing key: the public half (the private half is in the HSM)."""

    tenant: str
    public_key: bytes
    active: bool
    created_at: datetime
    changed_at: datetime


@dataclass(frozen=True)
class TenantKeyStatus:
    """A tenant's keys as the records show them."""

    tenant: str
    keks: tuple[KekRecord, ...]
    signing: SigningKeyRecord | None
    disks: tuple[DiskKeyRecord, ...]

    @property
    def active(self) -> KekRecord | None:
        return next((k for k in self.keks if k.state is KekState.ACTIVE), None)

    @property
    def revoked(self) -> bool:
        return bool(self.keks) and all(k.state is not KekState.ACTIVE for k in self.keks)


class KeyRecords(Protocol):
    """Persistence of key records; ``save`` writes everything it is given in one transaction."""

    def keks(self, tenant: str) -> list[KekRecord]: ...

    def signing_key(self, tenant: str) -> SigningKeyRecord | None: ...

    def disk_key(self, disk_id: str) -> DiskKeyRecord | None: ...

    def disk_keys(self, tenant: str) -> list[DiskKeyRecord]: ...

    def save(
        self,
        *,
        keks: Sequence[KekRecord] = (),
        disks: Sequence[DiskKeyRecord] = (),
        signing: SigningKeyRecord | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class KeyEvent:
    """One key operation or refusal, for the audit trail (visible to the tenant concerned)."""

    action: str
    """``keys.import``, ``keys.rotate``, ``keys.revoke``, ``disk.create``, ``keys.release``…"""
    outcome: str
    """``succeeded`` or ``refused``."""
    tenants: tuple[str, ...]
    """Every tenant concerned: each sees the event in its view of the audit trail."""
    actor: str
    targets: tuple[str, ...] = ()
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class KeyAudit(Protocol):
    """Where key events go (the service layer appends them to the audit log)."""

    def record(self, event: KeyEvent) -> None: ...
