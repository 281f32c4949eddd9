"""Tenant-data operations on a guest: console, memory dump, snapshot and disk export, disk read,
traffic mirror and capture. Every call is authorized (tenant role, or a provider operator's
active grant) and audited for the tenant. Disk read and export return the disk's plaintext,
decrypted under the key-release rule (``GuestDiskReader``); the others return metadata only."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from tenantry.api.deps import ActorDep, ServiceDep
from tenantry.api.schemas import AccessOut, DiskReadOut
from tenantry.errors import HsmUnavailableError
from tenantry.governance import Actor, Privilege
from tenantry.model import Ref
from tenantry.service import MAX_DISK_READ, GuestDiskReader, Service

__all__ = ["router"]

router = APIRouter(tags=["tenant data"])

Owner = Annotated[str, Path(min_length=1, max_length=63)]
Name = Annotated[str, Path(min_length=1, max_length=63)]
Part = Annotated[str, Path(min_length=1, max_length=63)]
GUEST = "/v1/guest/{owner}/{name}"


def _guest_route(suffix: str, privilege: Privilege) -> None:
    def operate(owner: Owner, name: Name, service: ServiceDep, actor: ActorDep) -> Any:
        return service.data_access.use(actor, privilege, Ref(owner, name))

    router.add_api_route(
        f"{GUEST}/{suffix}",
        operate,
        methods=["POST"],
        response_model=AccessOut,
        operation_id=str(privilege).replace(".", "_").replace("-", "_"),
        summary=f"{privilege} (tenant data)",
    )


def _part_route(part: str, suffix: str, privilege: Privilege) -> None:
    def operate(owner: Owner, name: Name, item: Part, service: ServiceDep, actor: ActorDep) -> Any:
        where = {"disk": item} if part == "disks" else {"vnic": item}
        return service.data_access.use(actor, privilege, Ref(owner, name), **where)

    router.add_api_route(
        f"{GUEST}/{part}/{{item}}/{suffix}",
        operate,
        methods=["POST"],
        response_model=AccessOut,
        operation_id=str(privilege).replace(".", "_").replace("-", "_"),
        summary=f"{privilege} (tenant data)",
    )


_guest_route("console", Privilege.GUEST_CONSOLE)
_guest_route("memory-dump", Privilege.MEMORY_DUMP)
_guest_route("snapshot-export", Privilege.SNAPSHOT_EXPORT)


def _reader(
    *, request: Request, service: Service, actor: Actor, privilege: Privilege, guest: Ref, disk: str
) -> GuestDiskReader:
    reader: GuestDiskReader | None = request.app.state.disks
    if reader is None:
        # Authorized and audited first, so that a refusal looks the same on every server.
        service.data_access.use(actor, privilege, guest, disk=disk)
        raise HsmUnavailableError(
            "this server has no HSM configured: no disk key can be released, so no plaintext"
        )
    return reader


@router.post(
    f"{GUEST}/disks/{{item}}/read",
    response_model=DiskReadOut,
    operation_id="disk_read",
    summary="disk.read (tenant data): plaintext of a byte range, base64",
)
def disk_read(
    *,
    owner: Owner,
    name: Name,
    item: Part,
    request: Request,
    service: ServiceDep,
    actor: ActorDep,
    offset: Annotated[int, Query(ge=0, le=1 << 62)] = 0,
    length: Annotated[int, Query(ge=1, le=MAX_DISK_READ)] = 4096,
) -> Any:
    """Authorize and audit, have the disk's key released, and decrypt ``length`` bytes."""
    guest = Ref(owner, name)
    reader = _reader(
        request=request,
        service=service,
        actor=actor,
        privilege=Privilege.DISK_READ,
        guest=guest,
        disk=item,
    )
    read = reader.read(actor, guest, item, offset, length)
    encoded = base64.b64encode(read.data).decode("ascii")
    return {**read.access, "offset": read.offset, "length": len(read.data), "data": encoded}


@router.post(
    f"{GUEST}/disks/{{item}}/export",
    response_class=StreamingResponse,
    operation_id="disk_export",
    summary="disk.export (tenant data): the whole disk's plaintext",
    responses={
        200: {
            "description": "The plaintext, block after block; the grant or role used is in "
            "the Tenantry-Access-Via header.",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
def disk_export(
    *, owner: Owner, name: Name, item: Part, request: Request, service: ServiceDep, actor: ActorDep
) -> StreamingResponse:
    """Authorize and audit, have the disk's key released, and stream the plaintext."""
    guest = Ref(owner, name)
    reader = _reader(
        request=request,
        service=service,
        actor=actor,
        privilege=Privilege.DISK_EXPORT,
        guest=guest,
        disk=item,
    )
    access, chunks = reader.export(actor, guest, item)
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={
            "Content-Length": str(access["size"]),
            "Tenantry-Access-Via": str(access["via"]),
            "Content-Disposition": f'attachment; filename="{owner}-{name}-{item}.raw"',
        },
    )


_part_route("vnics", "mirror", Privilege.TRAFFIC_MIRROR)
_part_route("vnics", "capture", Privilege.TRAFFIC_CAPTURE)
