"""One router per resource; ``ROUTERS`` is the order they are mounted in."""

from tenantry.api.routes import (
    approvals,
    audit,
    auth,
    credentials,
    data,
    directories,
    grants,
    health,
    objects,
    roles,
    specs,
    users,
)

ROUTERS = (
    health.router,
    auth.router,
    users.router,
    roles.router,
    credentials.router,
    approvals.router,
    grants.router,
    directories.router,
    audit.router,
    specs.router,
    data.router,
    objects.router,
)
"""Literal paths first: the per-kind routes come last."""

__all__ = ["ROUTERS"]
