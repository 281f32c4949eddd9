"""``/v1/privileges``, ``/v1/roles`` and ``/v1/permissions``: RBAC of a credential domain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from tenantry.api.deps import ActorDep, ServiceDep, tenant_of_domain
from tenantry.api.schemas import PermissionIn, PermissionOut, PrivilegeOut, RoleIn, RoleOut

__all__ = ["router"]

router = APIRouter(tags=["rbac"])

DomainQuery = Annotated[str | None, Query(max_length=63, description="default: your own")]


@router.get("/v1/privileges", response_model=list[PrivilegeOut], operation_id="list_privileges")
def list_privileges(service: ServiceDep, actor: ActorDep) -> Any:
    """The privilege catalogue (which ones read tenant data, and who may hold each)."""
    del actor
    return [info.to_json() for info in service.access.privileges()]


@router.get("/v1/roles", response_model=list[RoleOut], operation_id="list_roles")
def list_roles(service: ServiceDep, actor: ActorDep, domain: DomainQuery = None) -> Any:
    """System and custom roles of a domain you administer."""
    return [r.to_json() for r in service.access.roles(actor, tenant_of_domain(domain, actor))]


@router.post("/v1/roles", response_model=RoleOut, status_code=201, operation_id="create_role")
def create_role(body: RoleIn, service: ServiceDep, actor: ActorDep) -> Any:
    """Define a custom role (provider roles cannot carry tenant-data privileges)."""
    role = service.access.create_role(
        actor, tenant_of_domain(body.domain, actor), body.name, body.privileges, body.description
    )
    return role.to_json()


@router.delete("/v1/roles/{domain}/{name}", status_code=204, operation_id="delete_role")
def delete_role(
    domain: Annotated[str, Path(max_length=63)],
    name: Annotated[str, Path(max_length=63)],
    service: ServiceDep,
    actor: ActorDep,
) -> Response:
    """Delete a custom role and the permissions granting it."""
    service.access.delete_role(actor, tenant_of_domain(domain, actor), name)
    return Response(status_code=204)


@router.get("/v1/permissions", response_model=list[PermissionOut], operation_id="list_permissions")
def list_permissions(service: ServiceDep, actor: ActorDep, domain: DomainQuery = None) -> Any:
    """The permissions of a domain you administer."""
    found = service.access.permissions(actor, tenant_of_domain(domain, actor))
    return [p.to_json() for p in found]


@router.post(
    "/v1/permissions", response_model=PermissionOut, status_code=201, operation_id="grant_role"
)
def grant_role(body: PermissionIn, service: ServiceDep, actor: ActorDep) -> Any:
    """Give a user or group a role on a node (never across a tenant boundary)."""
    permission = service.access.grant(
        actor,
        tenant_of_domain(body.domain, actor),
        body.principal,
        body.role,
        body.scope,
        propagate=body.propagate,
    )
    return permission.to_json()


@router.delete("/v1/permissions/{permission_id}", status_code=204, operation_id="revoke_role")
def revoke_role(
    permission_id: Annotated[str, Path(max_length=64)], service: ServiceDep, actor: ActorDep
) -> Response:
    """Remove a permission."""
    service.access.revoke(actor, permission_id)
    return Response(status_code=204)
