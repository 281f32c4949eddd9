"""A credential domain's directory (LDAP / Active Directory): where it is, how to find users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenantry.errors import InputError

__all__ = ["DirectoryConfig", "DirectoryUser"]


@dataclass(frozen=True)
class DirectoryConfig:
    """Where a credential domain's directory is and how users and groups are found in it."""

    url: str
    user_dn_template: str
    """``uid={username},ou=people,dc=example,dc=org``, or ``{username}@example.org`` for AD."""
    group_base: str
    group_filter: str = "(&(objectClass=groupOfNames)(member={user_dn}))"
    group_name_attribute: str = "cn"
    start_tls: bool = False
    ca_file: str | None = None
    timeout: float = 5.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("ldap://", "ldaps://")):
            raise InputError(f"directory URL {self.url!r} must start with ldap:// or ldaps://")
        if "{username}" not in self.user_dn_template:
            raise InputError("user_dn_template must contain {username}")
        if "{user_dn}" not in self.group_filter:
            raise InputError("group_filter must contain {user_dn}")

    def to_json(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {
            "url": self.url,
            "user_dn_template": self.user_dn_template,
            "group_base": self.group_base,
            "group_filter": self.group_filter,
            "group_name_attribute": self.group_name_attribute,
            "start_tls": self.start_tls,
            "ca_file": self.ca_file,
            "timeout": self.timeout,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DirectoryConfig:
        """The configuration back from ``to_json()`` output."""
        return cls(**data)


@dataclass(frozen=True)
class DirectoryUser:
    """A user the directory vouched for: its DN and the names of its groups."""

    dn: str
    groups: tuple[str, ...]
