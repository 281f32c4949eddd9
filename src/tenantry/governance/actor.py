"""Who is acting: a provider operator, a tenant user, or the local system operator."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

from tenantry.governance.permissions import Authority
from tenantry.governance.privileges import Privilege, privileges_for
from tenantry.governance.roles import system_role
from tenantry.governance.scopes import ROOT, Scope

__all__ = ["Actor"]

_ESTATE_WRITES = frozenset(
    {
        Privilege.INVENTORY_READ,
        Privilege.INFRASTRUCTURE_WRITE,
        Privilege.TENANT_WRITE,
        Privilege.RESOURCE_POOL_WRITE,
        Privilege.NETWORK_WRITE,
        Privilege.ROUTER_WRITE,
        Privilege.GUEST_WRITE,
        Privilege.POLICY_WRITE,
    }
)


@dataclass(frozen=True)
class Actor:
    """The subject of a request, as authorization and audit see it."""

    name: str
    tenant: str | None = None
    """The tenant whose credential domain the actor belongs to; None for the provider side."""
    roles: frozenset[str] = field(default_factory=frozenset)
    source: str = "local"
    system: bool = False
    """The local operator with direct access to the store (bootstrap, break-glass): every
    change is allowed and audited under this name; tenant data stays encrypted regardless."""
    authority: Authority | None = None
    """Resolved permissions (API actors); None: the ``roles`` apply at the domain's root."""
    user_id: str | None = None
    session_id: str | None = None

    @property
    def is_provider(self) -> bool:
        """Whether the actor acts for the provider (not inside a tenant)."""
        return self.tenant is None

    @property
    def domain_root(self) -> Scope:
        """The root of the actor's credential domain."""
        return ROOT if self.tenant is None else Scope.tenant_root(self.tenant)

    def effective_authority(self) -> Authority:
        """The resolved authority, or one built from ``roles`` on the domain's root."""
        if self.authority is not None:
            return self.authority
        privileges: set[Privilege] = set()
        allowed = privileges_for(self.tenant)
        for name in self.roles:
            role = system_role(name, self.tenant)
            if role is not None:
                privileges |= role.privileges
            elif name == "operator":
                privileges |= _ESTATE_WRITES & allowed
        return Authority.everywhere(privileges, self.domain_root)

    @classmethod
    def local_operator(cls) -> Actor:
        """The person running the CLI against a local store."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls(name=f"local:{user}", roles=frozenset({"administrator"}), system=True)

    def __str__(self) -> str:
        return self.name if self.tenant is None else f"{self.tenant}:{self.name}"
