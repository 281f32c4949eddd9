"""Reading the audit trail through the service: all of it, or one tenant's view."""

from __future__ import annotations

from tenantry.governance import ROOT, Actor, Privilege, Scope, authorize, may
from tenantry.store import Store, StoredAuditEntry

__all__ = ["read_trail"]


def read_trail(
    store: Store, actor: Actor, *, start: int, limit: int
) -> tuple[list[StoredAuditEntry], int | None]:
    """Entries from ``start``: every one with audit.read on the root, else the actor's
    tenant's (a tenant never sees another's); and where the next page starts."""
    tenant: str | None = None
    if not (actor.system or (actor.is_provider and may(actor, Privilege.AUDIT_READ, ROOT))):
        if actor.tenant is None:
            authorize(actor, Privilege.AUDIT_READ, ROOT)
        tenant = actor.tenant
        authorize(actor, Privilege.AUDIT_READ, Scope.tenant_root(str(tenant)))
    found = store.audit_entries(start=start, tenant=tenant)
    page = found[:limit]
    more = len(found) > limit
    return page, (found[limit].seq if more else None)
