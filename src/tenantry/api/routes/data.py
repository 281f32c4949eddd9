"""Tenant-data operations on a guest: console, memory dump, snapshot and disk export, disk read,
traffic mirror and capture. Every call is authorized (tenant role, or a provider operator's
active grant) and audited for the tenant; the body is metadata, never plaintext."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from tenantry.api.deps import ActorDep, ServiceDep
from tenantry.api.schemas import AccessOut
from tenantry.governance import Privilege
from tenantry.model import Ref

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
_part_route("disks", "read", Privilege.DISK_READ)
_part_route("disks", "export", Privilege.DISK_EXPORT)
_part_route("vnics", "mirror", Privilege.TRAFFIC_MIRROR)
_part_route("vnics", "capture", Privilege.TRAFFIC_CAPTURE)
