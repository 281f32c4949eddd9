"""The governance commands work the same on a local store and through a server.

``Gateway`` is what they call; ``tenantry.client.Client`` implements it over HTTPS, and
``LocalGateway`` over the service as the local operator (bootstrap and break-glass).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from tenantry.errors import InputError
from tenantry.governance import Actor, CredentialKind, UserSource
from tenantry.model import Ref
from tenantry.service import Service

__all__ = ["Gateway", "LocalGateway", "domain_tenant"]


def domain_tenant(domain: str) -> str | None:
    """The tenant a domain names (None: the provider)."""
    return None if domain == "provider" else domain


class Gateway(Protocol):
    """Governance operations the CLI needs."""

    def users(self, domain: str | None = None) -> list[dict[str, Any]]: ...

    def create_user(
        self,
        domain: str,
        name: str,
        *,
        password: str | None = None,
        source: str = "local",
        groups: Sequence[str] = (),
    ) -> dict[str, Any]: ...

    def user_action(self, domain: str, name: str, action: str) -> None: ...

    def disable_mfa(self, domain: str, name: str) -> None: ...

    def grant_role(
        self, domain: str, principal: str, role: str, scope: str = "/", *, propagate: bool = True
    ) -> dict[str, Any]: ...

    def permissions(self, domain: str | None = None) -> list[dict[str, Any]]: ...

    def revoke_permission(self, permission_id: str) -> None: ...

    def tokens(self) -> list[dict[str, Any]]: ...

    def create_token(
        self, name: str, expires_in: int, privileges: Sequence[str] | None = None
    ) -> dict[str, Any]: ...

    def revoke_token(self, token_id: str) -> None: ...

    def sessions(
        self, *, everyone: bool = False, domain: str | None = None
    ) -> list[dict[str, Any]]: ...

    def end_session(self, session_id: str) -> None: ...

    def end_user_sessions(self, domain: str, name: str) -> None: ...

    def approvals(self) -> list[dict[str, Any]]: ...

    def approve(self, approval_id: str) -> dict[str, Any]: ...

    def reject(self, approval_id: str) -> dict[str, Any]: ...

    def grants(self) -> list[dict[str, Any]]: ...

    def create_grant(self, grantee: str, guest: str, privilege: str, expires_in: int) -> None: ...

    def revoke_grant(self, grant_id: str) -> dict[str, Any]: ...


class LocalGateway:
    """The gateway over the local store, acting as the local operator."""

    def __init__(self, service: Service, actor: Actor) -> None:
        self._service = service
        self._actor = actor

    def users(self, domain: str | None = None) -> list[dict[str, Any]]:
        tenant = domain_tenant(domain or "provider")
        return [u.to_json() for u in self._service.accounts.users(self._actor, tenant)]

    def create_user(
        self,
        domain: str,
        name: str,
        *,
        password: str | None = None,
        source: str = "local",
        groups: Sequence[str] = (),
    ) -> dict[str, Any]:
        user = self._service.accounts.create_user(
            self._actor,
            domain_tenant(domain),
            name,
            password=password,
            groups=groups,
            source=UserSource(source),
        )
        return user.to_json()

    def user_action(self, domain: str, name: str, action: str) -> None:
        accounts = self._service.accounts
        actions = {
            "disable": accounts.disable_user,
            "enable": accounts.enable_user,
            "unlock": accounts.unlock_user,
        }
        if action not in actions:
            raise InputError(f"unknown user action {action!r}")
        actions[action](self._actor, domain_tenant(domain), name)

    def disable_mfa(self, domain: str, name: str) -> None:
        self._service.accounts.disable_mfa(self._actor, domain_tenant(domain), name)

    def grant_role(
        self, domain: str, principal: str, role: str, scope: str = "/", *, propagate: bool = True
    ) -> dict[str, Any]:
        permission = self._service.access.grant(
            self._actor, domain_tenant(domain), principal, role, scope, propagate=propagate
        )
        return permission.to_json()

    def permissions(self, domain: str | None = None) -> list[dict[str, Any]]:
        tenant = domain_tenant(domain or "provider")
        return [p.to_json() for p in self._service.access.permissions(self._actor, tenant)]

    def revoke_permission(self, permission_id: str) -> None:
        self._service.access.revoke(self._actor, permission_id)

    def tokens(self) -> list[dict[str, Any]]:
        raise InputError("API tokens belong to users: log in to a server to manage yours")

    def create_token(
        self, name: str, expires_in: int, privileges: Sequence[str] | None = None
    ) -> dict[str, Any]:
        del name, expires_in, privileges
        raise InputError("API tokens belong to users: log in to a server to create one")

    def revoke_token(self, token_id: str) -> None:
        self._service.sessions.end(self._actor, token_id)

    def sessions(
        self, *, everyone: bool = False, domain: str | None = None
    ) -> list[dict[str, Any]]:
        # The local operator sees every session of the domain, asked or not.
        del everyone
        tenant = domain_tenant(domain or "provider")
        found = self._service.sessions.credentials(
            self._actor, kind=CredentialKind.SESSION, tenant=tenant, everyone=True
        )
        return [c.to_json() for c in found]

    def end_session(self, session_id: str) -> None:
        self._service.sessions.end(self._actor, session_id)

    def end_user_sessions(self, domain: str, name: str) -> None:
        self._service.sessions.end_all(self._actor, domain_tenant(domain), name)

    def approvals(self) -> list[dict[str, Any]]:
        now = self._service.clock()
        return [a.to_json(now) for a in self._service.approvals.list(self._actor)]

    def approve(self, approval_id: str) -> dict[str, Any]:
        return self._service.approvals.approve(self._actor, approval_id).to_json(
            self._service.clock()
        )

    def reject(self, approval_id: str) -> dict[str, Any]:
        return self._service.approvals.reject(self._actor, approval_id).to_json(
            self._service.clock()
        )

    def grants(self) -> list[dict[str, Any]]:
        now = self._service.clock()
        return [g.to_json(now) for g in self._service.data_access.grants(self._actor)]

    def create_grant(self, grantee: str, guest: str, privilege: str, expires_in: int) -> None:
        self._service.data_access.request_grant(
            self._actor,
            grantee=grantee,
            guest=Ref.parse(guest),
            privilege=privilege,
            lifetime=timedelta(seconds=expires_in),
        )

    def revoke_grant(self, grant_id: str) -> dict[str, Any]:
        grant = self._service.data_access.revoke(self._actor, grant_id)
        return grant.to_json(self._service.clock())
