"""Who is acting: a provider operator, a tenant user, or the local system operator."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

__all__ = ["Actor"]


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

    @property
    def is_provider(self) -> bool:
        """Whether the actor acts for the provider (not inside a tenant)."""
        return self.tenant is None

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
