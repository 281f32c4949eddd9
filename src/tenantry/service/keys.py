"""Tenant keys behind the service's door: who may do what, and every event in the audit log.

Only the tenant (or the local operator acting for it) imports, rotates and revokes its keys;
no provider role can, and a refused attempt is recorded where that tenant sees it. Nothing
here returns a plaintext key: releases are wrapped to the guest's recipient key.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn, Self

from tenantry.audit import Outcome
from tenantry.errors import NotFoundError, PermissionDeniedError
from tenantry.governance import Actor
from tenantry.keys import (
    DataKey,
    HostTrust,
    KekRecord,
    KeyEvent,
    KeyService,
    KeyVault,
    ReleasedKey,
    ReleaseRefusal,
    ReleaseRequest,
    SealRequest,
    TenantKeyStatus,
    WrappedKey,
    WrappingKey,
)
from tenantry.keys.disk import (
    DEFAULT_BLOCK_SIZE,
    DiskHeader,
    DiskIdentity,
    EncryptedDisk,
    read_header,
)
from tenantry.keys.recipient import RecipientKey
from tenantry.model import Ref
from tenantry.service.service import Service
from tenantry.store import StoreKeyRecords

__all__ = [
    "GuestDiskSealer",
    "TenantKeys",
    "image_path",
    "open_guest_disk",
    "release_for_image",
]

IMAGE_SUFFIX = ".tdisk"


def image_path(datastores: Path, datastore: str, guest: Ref, disk: str) -> Path:
    """Where a disk image lives: ``<datastores>/<datastore>/<tenant>/<guest>/<disk>.tdisk``."""
    return datastores / datastore / guest.owner / guest.name / f"{disk}{IMAGE_SUFFIX}"


class _StoreKeyAudit:
    """Key events written to the signed audit log, one entry per tenant concerned."""

    def __init__(self, service: Service) -> None:
        self._service = service

    def record(self, event: KeyEvent) -> None:
        self._service.record(
            Actor(name=event.actor, source="keys"),
            event.action,
            Outcome.REFUSED if event.outcome == "refused" else Outcome.SUCCEEDED,
            targets=event.targets,
            tenants=event.tenants,
            reason=event.reason,
            details=event.details,
        )


class TenantKeys:
    """The key service for actors: authorization here, cryptography in ``KeyService``."""

    def __init__(
        self, service: Service, vault: KeyVault, *, host_trust: HostTrust | None = None
    ) -> None:
        self._service = service
        self._audit = _StoreKeyAudit(service)
        self.keys = KeyService(
            vault,
            StoreKeyRecords(service.store),
            self._audit,
            lambda: service.store.load().estate,
            host_trust=host_trust,
        )

    def close(self) -> None:
        """Release the HSM session."""
        self.keys.vault.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------ public reads

    def wrapping_key(self) -> WrappingKey:
        """The HSM's public wrapping key (public: anyone may fetch it)."""
        return self.keys.wrapping_key()

    def signing_key(self, actor: Actor, tenant: str) -> bytes:
        """A tenant's public header-signing key (for the tenant and the provider)."""
        self._visible(actor, tenant)
        return self.keys.signing_key(tenant)

    def status(self, actor: Actor, tenant: str) -> TenantKeyStatus:
        """Key versions and disk keys of a tenant (states only, no key material)."""
        self._visible(actor, tenant)
        return self.keys.status(tenant)

    # ------------------------------------------------------------------ the tenant's own

    def import_key(self, actor: Actor, tenant: str, wrapped: WrappedKey) -> KekRecord:
        """Import the tenant's wrapped key (the tenant, or the local operator for it)."""
        self._tenant_controls(actor, tenant, "keys.import")
        return self.keys.import_key(tenant, wrapped, actor=str(actor))

    def rotate_key(self, actor: Actor, tenant: str, wrapped: WrappedKey) -> KekRecord:
        """Replace the tenant's KEK; data keys are re-wrapped, data is not re-encrypted."""
        self._tenant_controls(actor, tenant, "keys.rotate")
        return self.keys.rotate_key(tenant, wrapped, actor=str(actor))

    def revoke_keys(self, actor: Actor, tenant: str) -> int:
        """Crypto-shred every disk of the tenant; returns how many disk keys were shredded."""
        self._tenant_controls(actor, tenant, "keys.revoke")
        return self.keys.revoke_keys(tenant, actor=str(actor))

    # ------------------------------------------------------------------ disks

    def create_disk(
        self,
        actor: Actor,
        guest: Ref,
        disk: str,
        datastores: Path,
        *,
        size: int | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        preallocate: bool = False,
    ) -> tuple[Path, DiskHeader]:
        """Allocate a guest's disk on its datastore (provider operators or the tenant)."""
        if not actor.system and not (
            actor.tenant == guest.owner
            or (actor.is_provider and actor.roles & {"administrator", "operator"})
        ):
            self._refuse(actor, guest.owner, "disk.create", "no role that allocates disks")
        found = self._service.store.load().estate.guests.get(guest)
        spec = None if found is None else next((d for d in found.disks if d.name == disk), None)
        if spec is None:
            raise NotFoundError(f"guest {guest} has no disk {disk}")
        path = image_path(datastores, spec.datastore, guest, disk)
        header = self.keys.create_disk(
            guest,
            disk,
            path,
            actor=str(actor),
            size=size,
            block_size=block_size,
            preallocate=preallocate,
        )
        return path, header

    def release_key(self, request: ReleaseRequest) -> ReleasedKey | ReleaseRefusal:
        """Release a disk's key to a running guest of its tenant on a trusted host."""
        return self.keys.release_key(request)

    def seal_disk(self, request: SealRequest) -> bytes:
        """Sign a new header generation, under the same conditions as a release."""
        return self.keys.seal_disk(request)

    # ------------------------------------------------------------------ internals

    def _visible(self, actor: Actor, tenant: str) -> None:
        if not actor.is_provider and actor.tenant != tenant:
            raise NotFoundError(f"tenant {tenant} not found")

    def _tenant_controls(self, actor: Actor, tenant: str, action: str) -> None:
        if actor.system or actor.tenant == tenant:
            return
        self._refuse(actor, tenant, action, "only the tenant controls its keys")

    def _refuse(self, actor: Actor, tenant: str, action: str, why: str) -> NoReturn:
        error = PermissionDeniedError(f"{actor} may not {action} for tenant {tenant}: {why}")
        self._audit.record(
            KeyEvent(
                action,
                "refused",
                (tenant,),
                str(actor),
                (f"tenant {tenant}",),
                reason=f"{error.code}: {error}",
            )
        )
        raise error


class GuestDiskSealer:
    """Signs a guest's sealed headers through the key service (the host agent's signer)."""

    def __init__(
        self, keys: TenantKeys, guest: Ref, host: str, recipient: RecipientKey, requester: str
    ) -> None:
        self._keys = keys
        self._guest = guest
        self._host = host
        self._recipient = recipient
        self._requester = requester

    def sign_header(self, header: DiskHeader) -> bytes:
        """Ask the key service to sign ``header``."""
        return self._keys.seal_disk(
            SealRequest(
                self._guest, self._host, self._recipient.public_der, header, self._requester
            )
        )


def release_for_image(
    keys: TenantKeys,
    image: Path,
    guest: Ref,
    host: str,
    recipient: RecipientKey,
    *,
    requester: str = "host-agent",
) -> tuple[ReleasedKey, DataKey]:
    """What a host agent does for a guest: ask for the key of the disk in ``image``.

    Raises the refusal's error when the key is not released.
    """
    header = read_header(image)
    request = ReleaseRequest(header.disk_id, guest, host, recipient.public_der, requester)
    released = keys.release_key(request)
    if isinstance(released, ReleaseRefusal):
        raise released.to_error()
    return released, recipient.open(released)


def open_guest_disk(
    keys: TenantKeys,
    image: Path,
    guest: Ref,
    host: str,
    recipient: RecipientKey,
    *,
    writable: bool,
    requester: str = "host-agent",
) -> EncryptedDisk:
    """Get the disk's key released to the guest, then open the image (sealing through the
    key service when ``writable``)."""
    released, key = release_for_image(keys, image, guest, host, recipient, requester=requester)
    identity = DiskIdentity(released.tenant, released.guest, released.disk, released.disk_id)
    signer = GuestDiskSealer(keys, guest, host, recipient, requester) if writable else None
    return EncryptedDisk.open(
        image,
        key=key,
        identity=identity,
        signing_key=released.signing_key,
        min_generation=released.generation,
        signer=signer,
    )
