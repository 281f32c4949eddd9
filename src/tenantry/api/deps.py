"""Dependencies every route declares: the service, the source address, the acting user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tenantry.errors import AuthenticationError, InputError
from tenantry.governance import Actor
from tenantry.service import Service

__all__ = [
    "ActorDep",
    "ServiceDep",
    "SourceDep",
    "current_actor",
    "get_service",
    "source_address",
    "tenant_of_domain",
]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A session secret from POST /v1/auth/login, or an API token.",
)


def get_service(request: Request) -> Service:
    """The service the application was built over."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def source_address(request: Request) -> str:
    """The peer address of the connection (what audit records as the origin)."""
    return request.client.host if request.client else "unknown"


SourceDep = Annotated[str, Depends(source_address)]


def current_actor(
    request: Request,
    service: ServiceDep,
    source: SourceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The user behind the bearer secret; a tenant's request also spends its rate budget."""
    if credentials is None:
        raise AuthenticationError("this endpoint needs a bearer token (Authorization: Bearer ...)")
    limiter = request.app.state.tenant_limiter

    def admit(tenant: str | None) -> None:
        # Spent before permissions are resolved: a throttled flood costs one lookup each.
        if tenant is not None:
            limiter.take(tenant, f"tenant {tenant}")

    return service.sessions.authenticate(credentials.credentials, source, admit=admit)


ActorDep = Annotated[Actor, Depends(current_actor)]


def tenant_of_domain(domain: str | None, actor: Actor) -> str | None:
    """The tenant a ``domain`` parameter names (None: the provider); default: the actor's."""
    if domain is None:
        return actor.tenant
    if len(domain) > 63:
        raise InputError("a domain name has at most 63 characters")
    return None if domain == "provider" else domain
