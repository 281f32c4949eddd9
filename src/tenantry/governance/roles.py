"""Roles: named sets of privileges, defined per credential domain.

Three system roles exist in every domain: ``no-access`` (overrides what a parent grants),
``read-only`` and ``administrator`` (every privilege the domain may hold: a provider
administrator never holds a tenant-data privilege). Custom roles are validated against the
domain: a provider role that names a tenant-data privilege is refused outright.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tenantry.errors import InputError, PermissionDeniedError
from tenantry.governance.privileges import PRIVILEGES, Holder, Privilege, privileges_for

__all__ = [
    "SYSTEM_ROLE_NAMES",
    "Role",
    "custom_role",
    "domain_name",
    "system_role",
]

SYSTEM_ROLE_NAMES = ("no-access", "read-only", "administrator")
_ROLE_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def domain_name(tenant: str | None) -> str:
    """How a credential domain is spelt in the store and the API (``provider`` or the tenant)."""
    return "provider" if tenant is None else tenant


@dataclass(frozen=True)
class Role:
    """A named set of privileges in one credential domain."""

    name: str
    privileges: frozenset[Privilege]
    tenant: str | None = None
    system: bool = False
    description: str = ""

    def to_json(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {
            "name": self.name,
            "domain": domain_name(self.tenant),
            "system": self.system,
            "privileges": sorted(str(p) for p in self.privileges),
            "description": self.description,
        }


def system_role(name: str, tenant: str | None) -> Role | None:
    """The system role ``name`` as it applies in a domain, or None if there is none."""
    if name == "no-access":
        privileges: frozenset[Privilege] = frozenset()
        text = "nothing; overrides what a parent grants"
    elif name == "read-only":
        privileges = frozenset({Privilege.INVENTORY_READ, Privilege.AUDIT_READ})
        text = "see the inventory and the audit trail"
    elif name == "administrator":
        privileges = privileges_for(tenant)
        text = "every privilege the domain may hold"
    else:
        return None
    return Role(name, privileges, tenant, system=True, description=text)


def custom_role(
    name: str, privileges: Iterable[str], tenant: str | None, description: str = ""
) -> Role:
    """A validated custom role of a domain; refuses tenant-data privileges on the provider side."""
    if not _ROLE_NAME.match(name):
        raise InputError(f"role name {name!r} is not a DNS label (a-z, 0-9, '-')")
    if name in SYSTEM_ROLE_NAMES:
        raise InputError(f"role {name!r} is a system role and cannot be redefined")
    chosen: set[Privilege] = set()
    for text in privileges:
        try:
            chosen.add(Privilege(text))
        except ValueError as exc:
            raise InputError(
                f"role {name!r}: {text!r} is not a privilege",
                hint="List the catalogue with `GET /v1/privileges`.",
            ) from exc
    allowed = privileges_for(tenant)
    for privilege in sorted(chosen - allowed):
        info = PRIVILEGES[privilege]
        if info.tenant_data:
            raise PermissionDeniedError(
                f"role {name!r}: {privilege} reads tenant data and exists only inside a tenant",
                hint="A tenant can grant one named operator time-bounded access instead.",
            )
        side = "provider" if info.holder is Holder.PROVIDER else "tenant"
        raise InputError(f"role {name!r}: {privilege} is a {side}-side privilege")
    return Role(name, frozenset(chosen), tenant, description=description)
