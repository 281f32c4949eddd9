"""Places in the inventory a permission can be attached to: the root, a tenant, one object.

The inventory is a tree: the provider's root holds the provider's objects and the tenants;
a tenant holds the objects it owns. A permission on a node applies to the node and, when it
propagates, to everything below it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tenantry.errors import InputError
from tenantry.model import KIND_INFO, PROVIDER, Kind, Ref

__all__ = ["ROOT", "Scope"]


@dataclass(frozen=True)
class Scope:
    """A node of the inventory: the root (no kind), a tenant, or one object."""

    kind: Kind | None = None
    ref: Ref | None = None

    @classmethod
    def of(cls, kind: Kind, ref: Ref) -> Scope:
        """The node of one object."""
        return cls(kind, ref)

    @classmethod
    def tenant_root(cls, tenant: str) -> Scope:
        """The node of a tenant (the root of its credential domain)."""
        return cls(Kind.TENANT, Ref(PROVIDER, tenant))

    @classmethod
    def parse(cls, text: str) -> Scope:
        """``/``, ``tenant/acme``, ``guest/acme/web-1`` or ``host/esx-1``."""
        text = text.strip()
        if text in ("", "/"):
            return ROOT
        kind_name, sep, rest = text.partition("/")
        try:
            kind = Kind(kind_name)
        except ValueError as exc:
            raise InputError(
                f"scope {text!r}: {kind_name!r} is not an object kind",
                hint="Write a scope as '/', 'tenant/NAME', 'KIND/OWNER/NAME' or 'KIND/NAME'.",
            ) from exc
        if not sep or not rest:
            raise InputError(f"scope {text!r} names a kind but no object")
        if kind is Kind.TENANT or not KIND_INFO[kind].owned:
            if "/" in rest:
                raise InputError(f"scope {text!r}: a {kind} has no owner part")
            return cls(kind, Ref(PROVIDER, rest))
        owner, sep, name = rest.partition("/")
        if not sep or not owner or not name or "/" in name:
            raise InputError(f"scope {text!r}: a {kind} is written {kind}/OWNER/NAME")
        return cls(kind, Ref(owner, name))

    @property
    def is_root(self) -> bool:
        return self.kind is None

    @property
    def tenant(self) -> str | None:
        """The tenant this node lies in (None for the root and provider objects)."""
        if self.kind is None or self.ref is None:
            return None
        if self.kind is Kind.TENANT:
            return self.ref.name
        if KIND_INFO[self.kind].owned and self.ref.owner != PROVIDER:
            return self.ref.owner
        return None

    def parent(self) -> Scope | None:
        """The node above (None above the root)."""
        if self.kind is None:
            return None
        if self.kind is not Kind.TENANT and self.tenant is not None:
            return Scope.tenant_root(self.tenant)
        return ROOT

    def lineage(self) -> Iterator[Scope]:
        """This node, then each node above it up to the root."""
        node: Scope | None = self
        while node is not None:
            yield node
            node = node.parent()

    def __str__(self) -> str:
        if self.kind is None or self.ref is None:
            return "/"
        if self.kind is Kind.TENANT or not KIND_INFO[self.kind].owned:
            return f"{self.kind}/{self.ref.name}"
        return f"{self.kind}/{self.ref.owner}/{self.ref.name}"


ROOT = Scope()
"""The root of the inventory (the provider's domain)."""
