"""Users: members of exactly one credential domain (the provider's, or one tenant's)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tenantry.errors import InputError
from tenantry.governance.roles import domain_name

__all__ = ["User", "UserSource", "check_user_name"]

_USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def check_user_name(name: str) -> str:
    """The name if it is a valid user name (lower-case, digits, '.', '_', '-'), else InputError."""
    if not _USER_NAME.match(name):
        raise InputError(
            f"user name {name!r} is not valid",
            hint="Use 1-63 lower-case letters, digits, '.', '_' or '-', starting alphanumeric.",
        )
    return name


class UserSource(StrEnum):
    """Where a user's password is checked."""

    LOCAL = "local"
    LDAP = "ldap"


@dataclass(frozen=True)
class User:
    """A user account; never carries its password hash or second-factor secret out."""

    id: str
    tenant: str | None
    name: str
    source: UserSource = UserSource.LOCAL
    disabled: bool = False
    mfa_enabled: bool = False
    groups: tuple[str, ...] = ()
    created_at: datetime | None = None
    created_by: str = ""

    @property
    def domain(self) -> str:
        return domain_name(self.tenant)

    @property
    def principal(self) -> str:
        """How audit records and messages name the user (as ``str(Actor)`` does)."""
        return self.name if self.tenant is None else f"{self.tenant}:{self.name}"

    def __str__(self) -> str:
        return f"{self.domain}/{self.name}"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {
            "domain": self.domain,
            "name": self.name,
            "source": str(self.source),
            "disabled": self.disabled,
            "mfa_enabled": self.mfa_enabled,
            "groups": list(self.groups),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "created_by": self.created_by,
        }
