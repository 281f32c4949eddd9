"""``/v1/tokens`` and ``/v1/sessions``: bearer credentials, listed and ended."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from tenantry.api.deps import ActorDep, ServiceDep, tenant_of_domain
from tenantry.api.schemas import CredentialOut, IssuedOut, TokenIn
from tenantry.governance import CredentialKind

__all__ = ["router"]

router = APIRouter(tags=["credentials"])

CredentialId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/v1/tokens", response_model=list[CredentialOut], operation_id="list_tokens")
def list_tokens(service: ServiceDep, actor: ActorDep) -> Any:
    """Your live API tokens."""
    return [c.to_json() for c in service.sessions.credentials(actor, kind=CredentialKind.TOKEN)]


@router.post("/v1/tokens", response_model=IssuedOut, status_code=201, operation_id="create_token")
def create_token(body: TokenIn, service: ServiceDep, actor: ActorDep) -> Any:
    """A new API token for yourself; the secret is shown once."""
    issued = service.sessions.create_token(
        actor, body.name, lifetime=timedelta(seconds=body.expires_in), privileges=body.privileges
    )
    return {"token": issued.secret, "credential": issued.credential.to_json()}


@router.delete("/v1/tokens/{credential_id}", status_code=204, operation_id="revoke_token")
def revoke_token(credential_id: CredentialId, service: ServiceDep, actor: ActorDep) -> Response:
    """Revoke a token (yours, or any in your domain with sessions.manage)."""
    service.sessions.end(actor, credential_id)
    return Response(status_code=204)


@router.get("/v1/sessions", response_model=list[CredentialOut], operation_id="list_sessions")
def list_sessions(
    service: ServiceDep,
    actor: ActorDep,
    domain: Annotated[str | None, Query(max_length=63)] = None,
    everyone: Annotated[bool, Query(description="every user's (sessions.manage)")] = False,
) -> Any:
    """Live sessions: yours, or with ``everyone`` those of the whole domain."""
    found = service.sessions.credentials(
        actor,
        kind=CredentialKind.SESSION,
        tenant=tenant_of_domain(domain, actor),
        everyone=everyone,
    )
    return [c.to_json() for c in found]


@router.delete("/v1/sessions/{credential_id}", status_code=204, operation_id="end_session")
def end_session(credential_id: CredentialId, service: ServiceDep, actor: ActorDep) -> Response:
    """End a session (yours, or any in your domain with sessions.manage)."""
    service.sessions.end(actor, credential_id)
    return Response(status_code=204)
