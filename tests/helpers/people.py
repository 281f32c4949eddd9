"""Users with roles, created through the service as the local operator (bootstrap)."""

from __future__ import annotations

from collections.abc import Sequence

from tenantry.governance import Actor
from tenantry.service import Service

__all__ = ["PASSWORD", "add_person", "log_in"]

PASSWORD = "correct horse battery staple"
OPERATOR = Actor.local_operator()


def add_person(
    service: Service,
    name: str,
    *,
    tenant: str | None = None,
    role: str | None = "administrator",
    scope: str = "/",
    privileges: Sequence[str] | None = None,
) -> None:
    """A user of ``tenant`` (provider if None) holding ``role`` (or a custom role made of
    ``privileges``) on ``scope``."""
    service.accounts.create_user(OPERATOR, tenant, name, password=PASSWORD)
    if privileges is not None:
        role = f"r-{name}"
        service.access.create_role(OPERATOR, tenant, role, privileges)
    if role is not None:
        service.access.grant(OPERATOR, tenant, f"user:{name}", role, scope)


def log_in(
    service: Service, name: str, *, tenant: str | None = None, source: str = "10.0.0.1"
) -> Actor:
    """The actor of a fresh session of ``name``."""
    issued = service.sessions.login(tenant, name, PASSWORD, source=source)
    return service.sessions.authenticate(issued.secret, source)
