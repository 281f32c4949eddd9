"""Role-based checks: does an actor hold a privilege on a node of the inventory?

Three rules no permission can lift: a tenant actor acts only inside its own tenant; a
provider actor (the local system operator included) never holds a tenant-data privilege
(it reaches tenant data only through a grant, checked by the service); the local system
operator holds every other privilege.
"""

from __future__ import annotations

from tenantry.errors import PermissionDeniedError
from tenantry.governance.actor import Actor
from tenantry.governance.privileges import TENANT_DATA_PRIVILEGES, Privilege
from tenantry.governance.scopes import Scope
from tenantry.model import Kind, Ref

__all__ = ["authorize", "may", "scope_of"]


def scope_of(kind: Kind, ref: Ref) -> Scope:
    """The inventory node of an object (a tenant object is its tenant's root)."""
    if kind is Kind.TENANT:
        return Scope.tenant_root(ref.name)
    return Scope.of(kind, ref)


def may(actor: Actor, privilege: Privilege, scope: Scope) -> bool:
    """Whether the actor holds ``privilege`` on ``scope``."""
    if actor.is_provider:
        if privilege in TENANT_DATA_PRIVILEGES:
            return False
        if actor.system:
            return True
    elif scope.tenant != actor.tenant:
        return False
    return actor.effective_authority().allows(privilege, scope)


def authorize(actor: Actor, privilege: Privilege, scope: Scope) -> None:
    """Raise PermissionDeniedError unless the actor holds ``privilege`` on ``scope``."""
    if not may(actor, privilege, scope):
        raise PermissionDeniedError(f"{actor} lacks {privilege} on {scope}")
