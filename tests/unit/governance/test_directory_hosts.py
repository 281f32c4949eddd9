"""The provider's allow-list of directory hosts: names and ports as written, nothing else."""

from __future__ import annotations

import pytest

from tenantry.errors import DirectoryHostRefusedError, InputError
from tenantry.governance import check_directory_host

ALLOWED = ("ldap.example.org", "10.0.0.5:636", "[fd00::5]:389", "fd00::6")


@pytest.mark.parametrize(
    "url",
    [
        "ldap://ldap.example.org",
        "ldaps://LDAP.example.org:3269",
        "ldaps://10.0.0.5",
        "ldap://10.0.0.5:636",
        "ldap://[fd00::5]",
        "ldap://[fd00::6]:1389",
    ],
)
def test_directory_host_on_the_list_is_allowed(url: str) -> None:
    """A listed host (any port, or exactly the listed port) passes."""
    check_directory_host(url, ALLOWED)


@pytest.mark.parametrize(
    "url",
    [
        "ldap://attacker.example",
        "ldap://ldap.example.org.attacker.example",
        "ldap://10.0.0.5",  # default port 389, only 636 is listed
        "ldap://user@10.0.0.6:636",
        "ldap://[fd00::5]:636",
        "ldap://127.0.0.1",
    ],
)
def test_directory_host_off_the_list_is_refused_with_the_reason(url: str) -> None:
    """Anything else is refused, naming the host and the list."""
    with pytest.raises(DirectoryHostRefusedError, match="not in the provider's allow-list"):
        check_directory_host(url, ALLOWED)


def test_empty_allow_list_refuses_every_directory() -> None:
    """Deny by default: no list, no tenant directory."""
    with pytest.raises(DirectoryHostRefusedError, match="allowed: none"):
        check_directory_host("ldap://ldap.example.org", ())


def test_directory_url_without_a_host_is_bad_input() -> None:
    """A URL naming no host or a bad port is an input error, not a crash."""
    for url in ("ldap:///dc=x", "ldap://host:99999"):
        with pytest.raises(InputError):
            check_directory_host(url, ALLOWED)
