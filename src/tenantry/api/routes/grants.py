"""``/v1/grants``: a tenant lets a named provider operator reach one guest's data, for a while."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path

from tenantry.api.deps import ActorDep, ServiceDep
from tenantry.api.schemas import GrantIn, GrantOut
from tenantry.errors import InputError
from tenantry.model import Ref

__all__ = ["router"]

router = APIRouter(tags=["grants"])


@router.get("/v1/grants", response_model=list[GrantOut], operation_id="list_grants")
def list_grants(service: ServiceDep, actor: ActorDep) -> Any:
    """Your tenant's grants; on the provider side the ones naming you (all for deciders)."""
    now = service.clock()
    return [g.to_json(now) for g in service.data_access.grants(actor)]


@router.post("/v1/grants", status_code=202, operation_id="create_grant")
def create_grant(body: GrantIn, service: ServiceDep, actor: ActorDep) -> None:
    """Grant access (always 202: a second provider person, never the grantee, approves)."""
    owner, sep, name = body.guest.partition("/")
    if not sep or not owner or not name:
        raise InputError("guest is written OWNER/NAME")
    service.data_access.request_grant(
        actor,
        grantee=body.grantee,
        guest=Ref(owner, name),
        privilege=body.privilege,
        lifetime=timedelta(seconds=body.expires_in),
    )


@router.delete("/v1/grants/{grant_id}", response_model=GrantOut, operation_id="revoke_grant")
def revoke_grant(
    grant_id: Annotated[str, Path(min_length=1, max_length=64)],
    service: ServiceDep,
    actor: ActorDep,
) -> Any:
    """End a grant at once."""
    return service.data_access.revoke(actor, grant_id).to_json(service.clock())
