"""Permissions (a role granted to a user or group on a node) and the authority they add up to.

Resolution follows the inventory model of the white papers: for a node, the closest node at
or above it that carries a permission for the subject decides (a permission on the node itself
always applies; one on an ancestor only if it propagates). At that node a permission naming
the user overrides those naming its groups; group permissions add up. So ``no-access`` on a
child hides it even under an administrator permission on the root.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tenantry.errors import InputError
from tenantry.governance.privileges import Privilege
from tenantry.governance.roles import domain_name
from tenantry.governance.scopes import ROOT, Scope

__all__ = ["Authority", "Entitlement", "Permission", "Principal"]


@dataclass(frozen=True)
class Principal:
    """Whom a permission names: a user or a group, inside one credential domain."""

    type: str
    name: str

    @classmethod
    def parse(cls, text: str) -> Principal:
        """``user:NAME`` or ``group:NAME``."""
        kind, sep, name = text.partition(":")
        if not sep or kind not in ("user", "group") or not name or len(name) > 200:
            raise InputError(f"principal {text!r} must be user:NAME or group:NAME")
        return cls(kind, name)

    def __str__(self) -> str:
        return f"{self.type}:{self.name}"


@dataclass(frozen=True)
class Permission:
    """A role granted to a principal on a node of the inventory."""

    id: str
    tenant: str | None
    principal: Principal
    role: str
    scope: Scope
    propagate: bool = True
    created_by: str = ""

    def to_json(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {
            "id": self.id,
            "domain": domain_name(self.tenant),
            "principal": str(self.principal),
            "role": self.role,
            "scope": str(self.scope),
            "propagate": self.propagate,
            "created_by": self.created_by,
        }


@dataclass(frozen=True)
class Entitlement:
    """Privileges that hold on a node (and below it, if they propagate)."""

    privileges: frozenset[Privilege]
    scope: Scope
    propagate: bool = True
    direct: bool = True
    """Granted to the user itself (True) or through one of its groups."""


@dataclass(frozen=True)
class Authority:
    """Everything an actor may do, resolved from its permissions (and its token's ceiling)."""

    entitlements: tuple[Entitlement, ...] = ()
    ceiling: frozenset[Privilege] | None = None
    """An API token's scopes: privileges outside it are refused whatever the roles say."""
    _by_scope: dict[Scope, tuple[Entitlement, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        index: dict[Scope, list[Entitlement]] = {}
        for entitlement in self.entitlements:
            index.setdefault(entitlement.scope, []).append(entitlement)
        self._by_scope.update({scope: tuple(found) for scope, found in index.items()})

    @classmethod
    def everywhere(cls, privileges: Iterable[Privilege], root: Scope = ROOT) -> Authority:
        """Privileges on ``root`` and everything below it."""
        return cls((Entitlement(frozenset(privileges), root),))

    def limited_to(self, ceiling: Iterable[Privilege] | None) -> Authority:
        """The same authority under a token's ceiling of privileges."""
        if ceiling is None:
            return self
        return Authority(self.entitlements, frozenset(ceiling))

    def privileges_at(self, scope: Scope) -> frozenset[Privilege]:
        """The privileges that hold on one node."""
        for node in scope.lineage():
            found = [e for e in self._by_scope.get(node, ()) if node == scope or e.propagate]
            if not found:
                continue
            direct = [e for e in found if e.direct]
            deciding = direct or found
            held = frozenset().union(*(e.privileges for e in deciding))
            return held if self.ceiling is None else held & self.ceiling
        return frozenset()

    def allows(self, privilege: Privilege, scope: Scope) -> bool:
        """Whether ``privilege`` holds on ``scope``."""
        return privilege in self.privileges_at(scope)

    def allows_somewhere(self, privilege: Privilege) -> bool:
        """Whether ``privilege`` holds on at least one node (for listing and menus)."""
        if self.ceiling is not None and privilege not in self.ceiling:
            return False
        return any(privilege in e.privileges for e in self.entitlements)
