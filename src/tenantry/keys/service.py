"""The key service: tenant KEK life cycle, per-disk data keys, release and header signing.

Every operation goes to the HSM for the cryptography, to ``KeyRecords`` for what must be
remembered (never a plaintext key) and to ``KeyAudit`` for the trail; every refusal is
audited too. Who may ask for what (tenant or provider) is decided one layer up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tenantry.errors import (
    ConflictError,
    CryptoError,
    KeyMaterialError,
    KeyRevokedError,
    NotFoundError,
)
from tenantry.keys.disk import (
    DEFAULT_BLOCK_SIZE,
    DiskHeader,
    DiskIdentity,
    allocate_image,
    empty_header,
    new_disk_id,
)
from tenantry.keys.envelope import WrappedKey, WrappingKey
from tenantry.keys.material import fingerprint
from tenantry.keys.records import (
    DiskKeyRecord,
    DiskKeyState,
    KekRecord,
    KekState,
    KeyAudit,
    KeyEvent,
    KeyRecords,
    SigningKeyRecord,
    TenantKeyStatus,
)
from tenantry.keys.release import (
    DenyAllHosts,
    HostTrust,
    RefusalReason,
    ReleasedKey,
    ReleaseRefusal,
    ReleaseRequest,
    SealRequest,
    check_release,
    check_seal,
)
from tenantry.keys.vault import KeyVault
from tenantry.model import Estate, Ref

__all__ = ["KeyService"]


class KeyService:
    """Tenant keys in an HSM, their records, and the release rule."""

    def __init__(
        self,
        vault: KeyVault,
        records: KeyRecords,
        audit: KeyAudit,
        estate: Callable[[], Estate],
        *,
        host_trust: HostTrust | None = None,
    ) -> None:
        self.vault = vault
        self._records = records
        self._audit = audit
        self._estate = estate
        self._trust: HostTrust = host_trust or DenyAllHosts()

    # ------------------------------------------------------------------ reads

    def wrapping_key(self) -> WrappingKey:
        """The HSM's public wrapping key, for tenants to wrap their keys to."""
        return self.vault.wrapping_key()

    def status(self, tenant: str) -> TenantKeyStatus:
        """The tenant's KEK versions, signing key and disk keys."""
        return TenantKeyStatus(
            tenant,
            tuple(sorted(self._records.keks(tenant), key=lambda k: k.version)),
            self._records.signing_key(tenant),
            tuple(self._records.disk_keys(tenant)),
        )

    def signing_key(self, tenant: str) -> bytes:
        """The tenant's Ed25519 public key that signs its disk headers."""
        record = self._records.signing_key(tenant)
        if record is None:
            raise NotFoundError(f"tenant {tenant} has no signing key (import a key first)")
        return record.public_key

    # ------------------------------------------------------------------ KEK life cycle

    def import_key(self, tenant: str, wrapped: WrappedKey, *, actor: str) -> KekRecord:
        """Import the tenant's first KEK (or its first after a revocation)."""
        self._require_tenant(tenant)
        status = self.status(tenant)
        if status.active is not None:
            raise ConflictError(
                f"tenant {tenant} already has an active key (v{status.active.version})",
                hint="Use `tenantry keys rotate` to replace it.",
            )
        record = self._import(tenant, status, wrapped)
        signing = self._ensure_signing(tenant, status.signing)
        self._records.save(keks=[record], signing=signing)
        self._event("keys.import", actor, (tenant,), version=record.version)
        return record

    def rotate_key(self, tenant: str, wrapped: WrappedKey, *, actor: str) -> KekRecord:
        """Import a new KEK version, re-wrap every data key under it, destroy the old one."""
        self._require_tenant(tenant)
        status = self.status(tenant)
        old = status.active
        if old is None:
            raise NotFoundError(f"tenant {tenant} has no active key to rotate")
        new = self._import(tenant, status, wrapped)
        now = _now()
        try:
            disks = [
                replace(
                    disk,
                    kek_version=new.version,
                    wrapped_dek=self.vault.rewrap_data_key(
                        tenant, disk.kek_version, new.version, disk.wrapped_dek
                    ),
                    changed_at=now,
                )
                for disk in status.disks
                if disk.state is DiskKeyState.ACTIVE
            ]
            retired = replace(old, state=KekState.RETIRED, changed_at=now)
            self._records.save(keks=[retired, new], disks=disks)
        except BaseException:
            self.vault.destroy_kek(tenant, new.version)
            raise
        # Only now does nothing refer to the old KEK any more.
        self.vault.destroy_kek(tenant, old.version)
        self._event(
            "keys.rotate", actor, (tenant,), old=old.version, new=new.version, disks=len(disks)
        )
        return new

    def revoke_keys(self, tenant: str, *, actor: str) -> int:
        """Crypto-shred: destroy every KEK version and the signing key in the HSM."""
        status = self.status(tenant)
        if status.active is None:
            raise NotFoundError(f"tenant {tenant} has no active key to revoke")
        now = _now()
        destroyed = [k.version for k in status.keks if self.vault.destroy_kek(tenant, k.version)]
        self.vault.destroy_signing_key(tenant)
        keks = [
            replace(k, state=KekState.REVOKED, changed_at=now)
            for k in status.keks
            if k.state is not KekState.REVOKED
        ]
        disks = [
            replace(d, state=DiskKeyState.SHREDDED, wrapped_dek=b"", changed_at=now)
            for d in status.disks
            if d.state is DiskKeyState.ACTIVE
        ]
        signing = replace(status.signing, active=False, changed_at=now) if status.signing else None
        self._records.save(keks=keks, disks=disks, signing=signing)
        self._event("keys.revoke", actor, (tenant,), destroyed=destroyed, disks=len(disks))
        return len(disks)

    # ------------------------------------------------------------------ disks

    def create_disk(
        self,
        guest: Ref,
        disk: str,
        path: Path,
        *,
        actor: str,
        size: int | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        preallocate: bool = False,
    ) -> DiskHeader:
        """Allocate the image of one of a guest's disks, with a fresh data key for it."""
        tenant = guest.owner
        found = self._estate().guests.get(guest)
        spec = None if found is None else next((d for d in found.disks if d.name == disk), None)
        if spec is None:
            raise NotFoundError(f"guest {guest} has no disk {disk}")
        status = self.status(tenant)
        if status.active is None:
            if status.revoked:
                raise KeyRevokedError(f"tenant {tenant} revoked its keys; import a new one first")
            raise NotFoundError(
                f"tenant {tenant} has no key yet", hint="Run `tenantry keys import`."
            )
        if any(
            d.guest == guest.name and d.disk == disk and d.state is DiskKeyState.ACTIVE
            for d in status.disks
        ):
            raise ConflictError(f"disk {disk} of guest {guest} already has an image and a key")
        signing = self.signing_key(tenant)
        identity = DiskIdentity(tenant, guest.name, disk, new_disk_id())
        header = empty_header(
            identity,
            size=size if size is not None else int(spec.size),
            block_size=block_size,
            signer=fingerprint(signing),
        )
        wrapped = self.vault.new_data_key(tenant, status.active.version)
        header = header.model_copy(
            update={"signature": self.vault.sign(tenant, header.signed_message()).hex()}
        )
        allocate_image(path, header, preallocate=preallocate)
        now = _now()
        record = DiskKeyRecord(
            disk_id=identity.disk_id,
            tenant=tenant,
            guest=guest.name,
            disk=disk,
            block_size=header.block_size,
            block_count=header.block_count,
            kek_version=status.active.version,
            wrapped_dek=wrapped,
            state=DiskKeyState.ACTIVE,
            generation=0,
            created_at=now,
            changed_at=now,
        )
        try:
            self._records.save(disks=[record])
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        self._event(
            "disk.create",
            actor,
            (tenant,),
            targets=(f"disk {guest}/{disk}",),
            disk_id=identity.disk_id,
        )
        return header

    # ------------------------------------------------------------------ release

    def release_key(self, request: ReleaseRequest) -> ReleasedKey | ReleaseRefusal:
        """The disk's data key wrapped to the request's recipient key, or why not."""
        record = self._records.disk_key(request.disk_id)
        trust = self._trust.assess(request.host, request.recipient_fingerprint)
        refusal = check_release(request, self._estate(), record, trust)
        released: ReleasedKey | None = None
        if refusal is None and record is not None:
            try:
                # The KEK is chosen by the *guest's* tenant: another tenant's data key does not
                # unwrap under it, whatever the records say.
                wrapped, oaep_hash = self.vault.release_data_key(
                    request.guest.owner, record.kek_version, record.wrapped_dek, request.recipient
                )
                released = ReleasedKey(
                    disk_id=record.disk_id,
                    tenant=record.tenant,
                    guest=record.guest,
                    disk=record.disk,
                    wrapped=wrapped,
                    oaep_hash=oaep_hash,
                    recipient=request.recipient_fingerprint,
                    generation=record.generation,
                    signing_key=self.signing_key(record.tenant),
                )
            except (CryptoError, NotFoundError, KeyMaterialError) as exc:
                refusal = ReleaseRefusal(RefusalReason.CRYPTO, exc.message)
        self._release_event(
            "keys.release", request, record, trust.evidence or trust.reason, refusal
        )
        return released if released is not None and refusal is None else _refused(refusal)

    def seal_disk(self, request: SealRequest) -> bytes:
        """Sign a new header generation for a guest that may hold the disk's key."""
        header = request.header
        as_release = ReleaseRequest(
            header.disk_id, request.guest, request.host, request.recipient, request.requester
        )
        record = self._records.disk_key(header.disk_id)
        trust = self._trust.assess(request.host, as_release.recipient_fingerprint)
        refusal = check_release(as_release, self._estate(), record, trust)
        if refusal is None and record is not None:
            refusal = check_seal(header, record, self._records.signing_key(record.tenant))
        if refusal is not None or record is None:
            self._release_event("disk.seal", as_release, record, trust.reason, refusal)
            raise _refused(refusal).to_error()
        signature = self.vault.sign(record.tenant, header.signed_message())
        self._records.save(disks=[replace(record, generation=header.generation, changed_at=_now())])
        self._release_event("disk.seal", as_release, record, trust.evidence, None)
        return signature

    # ------------------------------------------------------------------ internals

    def _import(self, tenant: str, status: TenantKeyStatus, wrapped: WrappedKey) -> KekRecord:
        version = max((k.version for k in status.keks), default=0) + 1
        self.vault.import_kek(tenant, version, wrapped)
        now = _now()
        return KekRecord(tenant, version, KekState.ACTIVE, wrapped.wrapping_key, now, now)

    def _ensure_signing(self, tenant: str, current: SigningKeyRecord | None) -> SigningKeyRecord:
        if current is not None and current.active:
            return current
        # After a revocation the old pair is gone from the HSM: the vault makes a fresh one.
        now = _now()
        return SigningKeyRecord(tenant, self.vault.signing_key(tenant), True, now, now)

    def _require_tenant(self, tenant: str) -> None:
        if self._estate().tenant(tenant) is None:
            raise NotFoundError(f"tenant {tenant} not found")

    def _event(
        self,
        action: str,
        actor: str,
        tenants: tuple[str, ...],
        *,
        targets: tuple[str, ...] = (),
        **details: object,
    ) -> None:
        self._audit.record(
            KeyEvent(
                action,
                "succeeded",
                tenants,
                actor,
                targets or tuple(f"tenant {t}" for t in tenants),
                details=dict(details),
            )
        )

    def _release_event(
        self,
        action: str,
        request: ReleaseRequest,
        record: DiskKeyRecord | None,
        trust: str,
        refusal: ReleaseRefusal | None,
    ) -> None:
        tenants = {request.guest.owner} | ({record.tenant} if record is not None else set())
        self._audit.record(
            KeyEvent(
                action,
                "refused" if refusal is not None else "succeeded",
                tuple(sorted(tenants)),
                request.requester,
                (f"disk {request.disk_id}", f"guest {request.guest}"),
                reason="" if refusal is None else f"{refusal.reason}: {refusal.message}",
                details={
                    "host": request.host,
                    "recipient": request.recipient_fingerprint,
                    "trust": trust,
                },
            )
        )


def _refused(refusal: ReleaseRefusal | None) -> ReleaseRefusal:
    if refusal is None:  # pragma: no cover - callers pass a refusal whenever nothing was released
        return ReleaseRefusal(RefusalReason.CRYPTO, "nothing was released")
    return refusal


def _now() -> datetime:
    return datetime.now(UTC)
