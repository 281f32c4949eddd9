"""``/v1/users``: the users of a credential domain (only its own administrators manage them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from tenantry.api.deps import ActorDep, ServiceDep, tenant_of_domain
from tenantry.api.schemas import CredentialOut, PasswordIn, UserIn, UserOut
from tenantry.governance import UserSource

__all__ = ["router"]

router = APIRouter(tags=["users"])

Domain = Annotated[str, Path(min_length=1, max_length=63)]
Name = Annotated[str, Path(min_length=1, max_length=63)]
DomainQuery = Annotated[str | None, Query(max_length=63, description="default: your own")]


@router.get("/v1/users", response_model=list[UserOut], operation_id="list_users")
def list_users(service: ServiceDep, actor: ActorDep, domain: DomainQuery = None) -> Any:
    """The users of a domain you administer."""
    tenant = tenant_of_domain(domain, actor)
    return [u.to_json() for u in service.accounts.users(actor, tenant)]


@router.post("/v1/users", response_model=UserOut, status_code=201, operation_id="create_user")
def create_user(body: UserIn, service: ServiceDep, actor: ActorDep) -> Any:
    """Add a user to a domain you administer."""
    user = service.accounts.create_user(
        actor,
        tenant_of_domain(body.domain, actor),
        body.name,
        password=body.password,
        groups=body.groups,
        source=UserSource(body.source),
    )
    return user.to_json()


@router.get("/v1/users/{domain}/{name}", response_model=UserOut, operation_id="get_user")
def get_user(domain: Domain, name: Name, service: ServiceDep, actor: ActorDep) -> Any:
    """One user: yourself, or one of a domain you administer."""
    return service.accounts.user(actor, tenant_of_domain(domain, actor), name).to_json()


@router.post("/v1/users/{domain}/{name}/disable", status_code=204, operation_id="disable_user")
def disable_user(domain: Domain, name: Name, service: ServiceDep, actor: ActorDep) -> Response:
    """Disable a user: its sessions and tokens end at once."""
    service.accounts.disable_user(actor, tenant_of_domain(domain, actor), name)
    return Response(status_code=204)


@router.post("/v1/users/{domain}/{name}/enable", status_code=204, operation_id="enable_user")
def enable_user(domain: Domain, name: Name, service: ServiceDep, actor: ActorDep) -> Response:
    """Enable a disabled user."""
    service.accounts.enable_user(actor, tenant_of_domain(domain, actor), name)
    return Response(status_code=204)


@router.post("/v1/users/{domain}/{name}/unlock", status_code=204, operation_id="unlock_user")
def unlock_user(domain: Domain, name: Name, service: ServiceDep, actor: ActorDep) -> Response:
    """Clear a failed-login lockout."""
    service.accounts.unlock_user(actor, tenant_of_domain(domain, actor), name)
    return Response(status_code=204)


@router.put("/v1/users/{domain}/{name}/password", status_code=204, operation_id="reset_password")
def reset_password(
    domain: Domain, name: Name, body: PasswordIn, service: ServiceDep, actor: ActorDep
) -> Response:
    """Set a user's password as its domain's administrator (its sessions end)."""
    service.accounts.set_password(actor, tenant_of_domain(domain, actor), name, body.password)
    return Response(status_code=204)


@router.delete("/v1/users/{domain}/{name}/mfa", status_code=204, operation_id="disable_mfa")
def disable_mfa(domain: Domain, name: Name, service: ServiceDep, actor: ActorDep) -> Response:
    """Remove a user's second factor (202 on the provider side: a second person approves)."""
    service.accounts.disable_mfa(actor, tenant_of_domain(domain, actor), name)
    return Response(status_code=204)


@router.get(
    "/v1/users/{domain}/{name}/sessions",
    response_model=list[CredentialOut],
    operation_id="list_user_sessions",
)
def list_user_sessions(domain: Domain, name: Name, service: ServiceDep, actor: ActorDep) -> Any:
    """A user's live sessions and tokens (who, from where, since when, last use)."""
    found = service.sessions.credentials(actor, tenant=tenant_of_domain(domain, actor), user=name)
    return [c.to_json() for c in found]


@router.delete(
    "/v1/users/{domain}/{name}/sessions", status_code=204, operation_id="end_user_sessions"
)
def end_user_sessions(domain: Domain, name: Name, service: ServiceDep, actor: ActorDep) -> Response:
    """End every session and token of a user."""
    service.sessions.end_all(actor, tenant_of_domain(domain, actor), name)
    return Response(status_code=204)
