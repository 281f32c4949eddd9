"""Key release: a disk's key goes only to a running guest of its tenant, on a trusted host.

The host-trust signal comes from attestation (``HostTrust``); until a host is attested, the
default ``DenyAllHosts`` refuses everything. ``check_release`` is the whole rule, with no I/O.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from tenantry.errors import CryptoError, KeyRevokedError, NotFoundError, TenantryError
from tenantry.keys.disk.layout import DiskHeader, DiskIdentity
from tenantry.keys.material import OaepHash, fingerprint
from tenantry.keys.records import DiskKeyRecord, DiskKeyState, SigningKeyRecord
from tenantry.model import Estate, PowerState, Ref

__all__ = [
    "DenyAllHosts",
    "HostTrust",
    "HostTrustState",
    "RefusalReason",
    "ReleaseRefusal",
    "ReleaseRequest",
    "ReleasedKey",
    "SealRequest",
    "UnsafeStaticHostTrust",
    "check_release",
    "check_seal",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostTrustState:
    """Whether a host is trusted right now to receive keys bound to one recipient key."""

    host: str
    trusted: bool
    reason: str
    evidence: str = ""
    """What the verdict rests on (an attestation id, a quote digest); recorded in the audit."""


class HostTrust(Protocol):
    """The host-trust signal (implemented by attestation).

    ``recipient`` is the fingerprint of the public key the key would be wrapped to; a trusted
    verdict means the host is attested *and* that key is bound to the attested host (for
    example a TPM-resident key certified by the attestation key).
    """

    def assess(self, host: str, recipient: str) -> HostTrustState: ...


class DenyAllHosts:
    """The default host trust: no host is trusted until attestation says otherwise."""

    def assess(self, host: str, recipient: str) -> HostTrustState:
        """Always untrusted."""
        del recipient
        return HostTrustState(host, False, "no host attestation is configured (deny by default)")


class UnsafeStaticHostTrust:
    """Trusts hosts from a fixed list, without attestation evidence: tests and tools only.

    ``bindings`` maps a host to the recipient-key fingerprints it may receive keys for, or to
    None for any recipient key (weaker still). Constructing one logs a warning.
    """

    def __init__(self, bindings: Mapping[str, Iterable[str] | None]) -> None:
        self._bindings = {
            host: None if keys is None else frozenset(keys) for host, keys in bindings.items()
        }
        log.warning(
            "UnsafeStaticHostTrust in use: hosts %s are trusted without attestation",
            ", ".join(sorted(self._bindings)) or "(none)",
        )

    def assess(self, host: str, recipient: str) -> HostTrustState:
        """Trusted if the host is listed and the recipient key is bound to it."""
        if host not in self._bindings:
            return HostTrustState(host, False, "host is not in the static trust list")
        keys = self._bindings[host]
        if keys is not None and recipient not in keys:
            return HostTrustState(host, False, "recipient key is not bound to this host")
        return HostTrustState(host, True, "listed in a static trust list", "unsafe-static")


@dataclass(frozen=True)
class ReleaseRequest:
    """A guest's request for a disk's key, wrapped to ``recipient`` (SubjectPublicKeyInfo DER)."""

    disk_id: str
    guest: Ref
    host: str
    recipient: bytes
    requester: str = "host-agent"
    """Who asks (for the audit): the host agent acting for the guest."""

    @property
    def recipient_fingerprint(self) -> str:
        return fingerprint(self.recipient)


@dataclass(frozen=True)
class ReleasedKey:
    """A disk's data key wrapped to the requester's recipient key, and what it belongs to."""

    disk_id: str
    tenant: str
    guest: str
    disk: str
    wrapped: bytes
    oaep_hash: OaepHash
    recipient: str
    """Fingerprint of the recipient key the data key is wrapped to."""
    generation: int
    """The newest sealed generation of the disk: an older image is a rollback."""
    signing_key: bytes
    """The tenant's Ed25519 public key that signs the disk's header."""

    def __repr__(self) -> str:
        return (
            f"ReleasedKey(disk={self.tenant}/{self.guest}/{self.disk}, id={self.disk_id}, "
            f"recipient={self.recipient})"
        )


@dataclass(frozen=True)
class SealRequest:
    """A guest's request to sign a new generation of its disk's header."""

    guest: Ref
    host: str
    recipient: bytes
    """The host-bound recipient key that the trust verdict covers (as in ReleaseRequest)."""
    header: DiskHeader
    requester: str = "host-agent"


class RefusalReason(StrEnum):
    """Why a key was not released (stable words for the audit trail)."""

    UNKNOWN_DISK = "unknown-disk"
    UNKNOWN_GUEST = "unknown-guest"
    OTHER_TENANT = "other-tenant"
    NOT_ATTACHED = "not-attached"
    NOT_RUNNING = "not-running"
    WRONG_HOST = "wrong-host"
    UNTRUSTED_HOST = "untrusted-host"
    REVOKED = "revoked"
    CRYPTO = "crypto"


@dataclass(frozen=True)
class ReleaseRefusal:
    """A refused release: the reason word and a sentence (no secrets)."""

    reason: RefusalReason
    message: str

    def to_error(self) -> TenantryError:
        """The error a caller raises for this refusal."""
        if self.reason is RefusalReason.REVOKED:
            return KeyRevokedError(self.message)
        if self.reason is RefusalReason.UNKNOWN_DISK:
            return NotFoundError(self.message, hint="Check the disk id in the image header.")
        return CryptoError(self.message)


def check_release(
    request: ReleaseRequest,
    estate: Estate,
    record: DiskKeyRecord | None,
    trust: HostTrustState,
) -> ReleaseRefusal | None:
    """None if every condition holds; otherwise the first one that does not."""
    who = f"guest {request.guest}"
    if record is None:
        return ReleaseRefusal(RefusalReason.UNKNOWN_DISK, f"no disk key {request.disk_id}")
    if record.state is DiskKeyState.SHREDDED:
        return ReleaseRefusal(
            RefusalReason.REVOKED, f"the key of disk {request.disk_id} was revoked (shredded)"
        )
    guest = estate.guests.get(request.guest)
    if guest is None:
        return ReleaseRefusal(RefusalReason.UNKNOWN_GUEST, f"{who} does not exist")
    if record.tenant != request.guest.owner:
        return ReleaseRefusal(
            RefusalReason.OTHER_TENANT,
            f"disk {request.disk_id} does not belong to the tenant of {who}",
        )
    if record.guest != request.guest.name or record.disk not in {d.name for d in guest.disks}:
        return ReleaseRefusal(
            RefusalReason.NOT_ATTACHED, f"disk {request.disk_id} is not a disk of {who}"
        )
    if guest.power is not PowerState.RUNNING:
        return ReleaseRefusal(RefusalReason.NOT_RUNNING, f"{who} is {guest.power}, not running")
    if guest.host != request.host:
        return ReleaseRefusal(
            RefusalReason.WRONG_HOST, f"{who} runs on {guest.host}, not on {request.host}"
        )
    if trust.host != request.host or not trust.trusted:
        return ReleaseRefusal(
            RefusalReason.UNTRUSTED_HOST, f"host {request.host} is not trusted: {trust.reason}"
        )
    return None


def check_seal(
    header: DiskHeader, record: DiskKeyRecord, signing: SigningKeyRecord | None
) -> ReleaseRefusal | None:
    """None if ``header`` may be signed as the disk's next generation; otherwise why not.

    Checked after ``check_release``: the guest may hold the key, so it may seal, but only the
    disk it names, with its geometry, at a newer generation, for the tenant's own key.
    """
    expected = DiskIdentity(record.tenant, record.guest, record.disk, record.disk_id)
    problem = ""
    if header.identity != expected:
        problem = f"the header names {header.identity}, the record {expected}"
    elif (header.block_size, header.block_count) != (record.block_size, record.block_count):
        problem = "the header's geometry differs from the disk's"
    elif header.generation <= record.generation:
        problem = f"generation {header.generation} is not newer than the sealed {record.generation}"
    elif signing is None or not signing.active:
        problem = f"tenant {record.tenant} has no active signing key"
    elif not hmac.compare_digest(header.signer, fingerprint(signing.public_key)):
        problem = "the header names another signing key"
    return ReleaseRefusal(RefusalReason.CRYPTO, problem) if problem else None
