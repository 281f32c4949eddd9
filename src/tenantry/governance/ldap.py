"""LDAP / Active Directory: check a password by binding as the user, then read its groups.

The only module that imports ``ldap3``. A user's name is escaped before it goes into a DN or a
filter, and an empty password is refused before any bind (an LDAP simple bind with an empty
password is an *unauthenticated* bind, which many servers accept).
"""

from __future__ import annotations

import math
import ssl
from contextlib import suppress

from ldap3 import NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from tenantry.errors import DirectoryUnavailableError
from tenantry.governance.directory import DirectoryConfig, DirectoryUser

__all__ = ["authenticate_directory_user"]


def authenticate_directory_user(
    config: DirectoryConfig, username: str, password: str
) -> DirectoryUser | None:
    """Bind as the user; its groups on success, None on wrong credentials."""
    if not password:
        return None
    bind_name = config.user_dn_template.format(username=escape_rdn(username))
    tls = None
    if config.url.startswith("ldaps://") or config.start_tls:
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=config.ca_file)
    server = Server(config.url, get_info=NONE, tls=tls, connect_timeout=config.timeout)
    connection = Connection(
        server,
        user=bind_name,
        password=password,
        # ldap3 packs this into a C struct of whole seconds.
        receive_timeout=max(1, math.ceil(config.timeout)),
        raise_exceptions=False,
        read_only=True,
    )
    try:
        if config.start_tls and not connection.start_tls():
            raise DirectoryUnavailableError(f"{config.url}: StartTLS was refused")
        if not connection.bind():
            return None
        dn = _own_dn(connection, bind_name)
        groups = _groups(connection, config, dn)
    except LDAPException as exc:
        raise DirectoryUnavailableError(
            f"directory {config.url} failed: {type(exc).__name__}"
        ) from exc
    finally:
        # Unbinding closes the socket after a refused bind; after a failed connect ldap3
        # leaves its socket behind, so it is closed here too.
        with suppress(LDAPException):
            connection.unbind()
        leftover = getattr(connection, "socket", None)
        if leftover is not None:
            with suppress(OSError):
                leftover.close()
    return DirectoryUser(dn, groups)


def _own_dn(connection: Connection, bind_name: str) -> str:
    # AD binds by user principal name; "Who am I?" (RFC 4532) gives the DN behind it.
    if "=" in bind_name:
        return bind_name
    identity = connection.extend.standard.who_am_i()
    if isinstance(identity, str) and identity.startswith("dn:"):
        return identity[3:]
    return bind_name


def _groups(connection: Connection, config: DirectoryConfig, dn: str) -> tuple[str, ...]:
    search_filter = config.group_filter.format(user_dn=escape_filter_chars(dn))
    found = connection.search(
        config.group_base,
        search_filter,
        search_scope=SUBTREE,
        attributes=[config.group_name_attribute],
        size_limit=1000,
    )
    if not found:
        return ()
    names: set[str] = set()
    for entry in connection.response or []:
        values = entry.get("attributes", {}).get(config.group_name_attribute)
        if isinstance(values, list):
            names.update(str(v) for v in values)
        elif values:
            names.add(str(values))
    return tuple(sorted(names))
