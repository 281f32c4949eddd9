"""Sessions (from a login) and API tokens: bearer credentials of one user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tenantry.governance.privileges import Privilege

__all__ = ["Credential", "CredentialKind", "EndReason"]


class CredentialKind(StrEnum):
    """A session (interactive login, idle and absolute timeouts) or an API token."""

    SESSION = "session"
    TOKEN = "token"  # noqa: S105 - a kind of credential, not a secret


class EndReason(StrEnum):
    """Why a credential stopped working."""

    LOGOUT = "logout"
    TERMINATED = "terminated"
    IDLE = "idle-timeout"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USER_DISABLED = "user-disabled"


@dataclass(frozen=True)
class Credential:
    """A session or token as listed (never with its secret)."""

    id: str
    kind: CredentialKind
    user_id: str
    user: str
    """``domain/name`` of the owner, for listings."""
    name: str
    source: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime
    last_source: str
    privileges: frozenset[Privilege] | None = None
    groups: tuple[str, ...] = ()
    ended_at: datetime | None = None
    end_reason: str = ""

    def to_json(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {
            "id": self.id,
            "kind": str(self.kind),
            "user": self.user,
            "name": self.name,
            "source": self.source,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat(),
            "last_source": self.last_source,
            "privileges": None
            if self.privileges is None
            else sorted(str(p) for p in self.privileges),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "end_reason": self.end_reason,
        }
