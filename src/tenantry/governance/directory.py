"""A credential domain's directory (LDAP / Active Directory): where it is, how to find users."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tenantry.errors import DirectoryHostRefusedError, InputError

__all__ = ["DirectoryConfig", "DirectoryUser", "check_directory_host", "directory_address"]


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


def directory_address(url: str) -> tuple[str, int]:
    """The host (lower case, IPv6 without brackets) and port an LDAP URL connects to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"directory URL {url!r} is malformed: {exc}") from exc
    if not parts.hostname:
        raise InputError(f"directory URL {url!r} names no host")
    return parts.hostname.lower(), port or (636 if parts.scheme == "ldaps" else 389)


def check_directory_host(url: str, allowed: Collection[str]) -> None:
    """Refuse a directory outside ``allowed`` (entries ``host``, ``host:port``, ``[v6]:port``).

    Names are compared as written, never resolved: the provider lists the names it trusts.
    """
    host, port = directory_address(url)
    for entry in allowed:
        want_host, want_port = _allowed_entry(entry)
        if want_host == host and want_port in (None, port):
            return
    shown = ", ".join(sorted(allowed)) or "none"
    raise DirectoryHostRefusedError(
        f"directory host {host}:{port} is not in the provider's allow-list (allowed: {shown})"
    )


def _allowed_entry(entry: str) -> tuple[str, int | None]:
    text = entry.strip().lower()
    if text.startswith("["):
        inside, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
        return inside, int(port) if port.isdigit() else None
    if text.count(":") == 1:
        name, _, port = text.partition(":")
        if port.isdigit():
            return name, int(port)
    return text, None
