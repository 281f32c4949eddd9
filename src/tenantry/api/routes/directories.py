"""``/v1/directories/{domain}``: a domain's LDAP / Active Directory settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from tenantry.api.deps import ActorDep, ServiceDep, tenant_of_domain
from tenantry.api.schemas import DirectoryIn, DirectoryOut
from tenantry.errors import NotFoundError
from tenantry.governance import DirectoryConfig

__all__ = ["router"]

router = APIRouter(tags=["directories"])

Domain = Annotated[str, Path(min_length=1, max_length=63)]


@router.get("/v1/directories/{domain}", response_model=DirectoryOut, operation_id="get_directory")
def get_directory(domain: Domain, service: ServiceDep, actor: ActorDep) -> Any:
    """The directory users of the domain log in against."""
    found = service.accounts.directory(actor, tenant_of_domain(domain, actor))
    if found is None:
        raise NotFoundError(f"domain {domain} has no directory")
    return found.to_json()


@router.put("/v1/directories/{domain}", response_model=DirectoryOut, operation_id="set_directory")
def set_directory(domain: Domain, body: DirectoryIn, service: ServiceDep, actor: ActorDep) -> Any:
    """Set the domain's directory (its own administrators only)."""
    config = DirectoryConfig(**body.model_dump())
    service.accounts.set_directory(actor, tenant_of_domain(domain, actor), config)
    return config.to_json()


@router.delete("/v1/directories/{domain}", status_code=204, operation_id="remove_directory")
def remove_directory(domain: Domain, service: ServiceDep, actor: ActorDep) -> Response:
    """Stop logging in against a directory."""
    service.accounts.set_directory(actor, tenant_of_domain(domain, actor), None)
    return Response(status_code=204)
