"""Reading a tenant's disk through the API: authorized and audited by ``DataAccess``, then
decrypted under the key-release rule like any host agent's read.

The reader holds one recipient key for its lifetime. A disk's key is released to it only when
the guest is a running guest of the disk's tenant on a host that the host-trust signal
trusts *for that recipient key*; with the default ``DenyAllHosts`` nothing is released, so an
authorized read is still refused (and both steps are in the tenant's audit view).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenantry.errors import ConflictError, InputError, NotFoundError
from tenantry.governance import Actor, Privilege
from tenantry.keys import HostTrust, HsmSettings, RecipientKey, UnsafeStaticHostTrust
from tenantry.keys.disk import EncryptedDisk
from tenantry.model import Guest, Kind, Ref
from tenantry.service.keys import TenantKeys, image_path, open_guest_disk
from tenantry.service.service import Service

__all__ = ["MAX_DISK_READ", "DiskRead", "GuestDiskReader", "open_disk_reader"]

MAX_DISK_READ = 1 << 20
"""The largest range one read returns (bigger: export, which streams)."""

EXPORT_CHUNK = 1 << 20


@dataclass(frozen=True)
class DiskRead:
    """What an authorized read returns: the use's metadata and the plaintext."""

    access: dict[str, Any]
    offset: int
    data: bytes


class GuestDiskReader:
    """Plaintext of a guest's disk for an actor who holds ``disk.read`` or ``disk.export``."""

    def __init__(
        self, service: Service, keys: TenantKeys, datastores: Path, recipient: RecipientKey
    ) -> None:
        self._service = service
        self._keys = keys
        self._datastores = datastores
        self._recipient = recipient
        self._release = threading.Lock()  # one HSM session, shared by the request threads

    @property
    def recipient_fingerprint(self) -> str:
        """The fingerprint a host-trust signal must bind for releases to this reader."""
        return self._recipient.fingerprint

    def close(self) -> None:
        """Release the HSM session."""
        self._keys.close()

    def read(self, actor: Actor, guest: Ref, disk: str, offset: int, length: int) -> DiskRead:
        """``length`` bytes of plaintext from ``offset`` (at most MAX_DISK_READ)."""
        if offset < 0 or not 0 < length <= MAX_DISK_READ:
            raise InputError(f"read 1 to {MAX_DISK_READ} bytes from an offset of 0 or more")
        access = self._service.data_access.use(actor, Privilege.DISK_READ, guest, disk=disk)
        opened = self._open(actor, Privilege.DISK_READ, guest, disk)
        try:
            if offset + length > opened.size:
                raise InputError(
                    f"disk {disk} of guest {guest} holds {opened.size} bytes; "
                    f"{offset}+{length} is past its end"
                )
            return DiskRead(access, offset, opened.read(offset, length))
        finally:
            opened.close()

    def export(self, actor: Actor, guest: Ref, disk: str) -> tuple[dict[str, Any], Iterator[bytes]]:
        """The whole disk's plaintext, as chunks; the key is released before the first one."""
        access = self._service.data_access.use(actor, Privilege.DISK_EXPORT, guest, disk=disk)
        opened = self._open(actor, Privilege.DISK_EXPORT, guest, disk)
        access = {**access, "size": opened.size}
        return access, _chunks(opened)

    def _open(self, actor: Actor, privilege: Privilege, guest: Ref, disk: str) -> EncryptedDisk:
        found = self._service.snapshot().estate.get(Kind.GUEST, guest)
        spec = None
        if isinstance(found, Guest):
            spec = next((d for d in found.disks if d.name == disk), None)
        if not isinstance(found, Guest) or spec is None:
            raise NotFoundError(f"disk {disk} of guest {guest} not found")
        if found.host is None:
            raise ConflictError(f"guest {guest} is not placed on a host; its key stays sealed")
        image = image_path(self._datastores, spec.datastore, guest, disk)
        if not image.exists():
            raise NotFoundError(f"disk {disk} of guest {guest} has no image allocated")
        with self._release:
            return open_guest_disk(
                self._keys,
                image,
                guest,
                found.host,
                self._recipient,
                writable=False,
                requester=f"{actor} via api {privilege}",
            )


def _chunks(opened: EncryptedDisk) -> Iterator[bytes]:
    try:
        for offset in range(0, opened.size, EXPORT_CHUNK):
            yield opened.read(offset, min(EXPORT_CHUNK, opened.size - offset))
    finally:
        opened.close()


def open_disk_reader(
    service: Service,
    hsm: HsmSettings,
    datastores: Path,
    *,
    unsafe_trusted_hosts: tuple[str, ...] = (),
) -> GuestDiskReader:
    """A reader over the HSM in ``hsm``; ``unsafe_trusted_hosts`` binds this reader's key to
    those hosts without attestation (tests and labs; logged), otherwise nothing is trusted."""
    # Imported here: the PKCS#11 library is needed only where an HSM is configured.
    from tenantry.keys.pkcs11 import Pkcs11Vault  # noqa: PLC0415

    recipient = RecipientKey.generate()
    trust: HostTrust | None = None
    if unsafe_trusted_hosts:
        trust = UnsafeStaticHostTrust({h: {recipient.fingerprint} for h in unsafe_trusted_hosts})
    vault = Pkcs11Vault(hsm.module_path(), hsm.token, hsm.user_pin())
    return GuestDiskReader(
        service, TenantKeys(service, vault, host_trust=trust), datastores, recipient
    )
