"""Logins, sessions and API tokens, and turning a bearer secret back into an actor.

Every failure answers the same AuthenticationError, whatever went wrong (unknown user, wrong
password or code, disabled account, ended or idle session), so the answer is no oracle; the
audit trail records the real reason with the source address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tenantry.audit import AuditRecord, Outcome
from tenantry.errors import (
    AuthenticationError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from tenantry.governance import (
    TOKEN_PREFIX,
    Actor,
    Credential,
    CredentialKind,
    EndReason,
    Privilege,
    User,
    digest_secret,
    domain_name,
    matches_digest,
    may,
    new_id,
    new_secret,
)
from tenantry.service.access import domain_root
from tenantry.service.logins import check_login
from tenantry.store import IdentityStore

if TYPE_CHECKING:
    from tenantry.service.service import Service

__all__ = ["Issued", "Sessions"]

_INVALID = "the credential is invalid, expired or ended"


@dataclass(frozen=True)
class Issued:
    """A new session or token: its secret, shown once, and how it is listed."""

    secret: str
    credential: Credential


class Sessions:
    """Logins, sessions, API tokens, and authentication of bearer secrets."""

    def __init__(self, service: Service) -> None:
        self._service = service

    @property
    def _store(self) -> IdentityStore:
        return self._service.store.identities

    # ------------------------------------------------------------------ login

    def login(
        self,
        tenant: str | None,
        name: str,
        password: str,
        *,
        code: str | None = None,
        source: str = "local",
    ) -> Issued:
        """Check a password (and second factor) and open a session; throttled per account
        and per source address."""
        user, cleared = check_login(self._service, tenant, name, password, code=code, source=source)
        issued = self._issue(
            user,
            CredentialKind.SESSION,
            name="login",
            lifetime=self._service.rules.session_absolute,
            source=source,
            groups=user.groups,
        )
        record = self._service.audit_record(
            user.principal,
            "login",
            Outcome.SUCCEEDED,
            source=source,
            targets=[f"session {issued.credential.id}"],
            tenants=[tenant or ""],
        )
        self._store.save_failures(cleared, record)
        return issued

    # ------------------------------------------------------------------ bearer secrets

    def authenticate(
        self,
        secret: str,
        source: str,
        *,
        admit: Callable[[str | None], None] | None = None,
    ) -> Actor:
        """The actor behind a session or token secret; AuthenticationError if it is not live.

        ``admit`` sees the credential domain (None: the provider) as soon as it is known, and
        may refuse (rate limits) before any further work is spent on the request.
        """
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
            raise AuthenticationError(_INVALID)
        found = self._store.credential_by_digest(digest_secret(secret))
        if found is None or not matches_digest(secret, found[1]):
            raise AuthenticationError(_INVALID)
        credential, _, user = found
        now = self._service.clock()
        ended = self._why_ended(credential, user, now)
        if ended is not None:
            if credential.ended_at is None:
                self._end(user, credential, ended, now, source)
            raise AuthenticationError(_INVALID)
        if admit is not None:
            admit(user.tenant)
        rules = self._service.rules
        if (
            now - credential.last_used_at >= rules.touch_interval
            or source != credential.last_source
        ):
            self._store.touch_credential(credential.id, now, source)
        authority, roles = self._service.access.authority_for(
            user, credential.groups, credential.privileges
        )
        return Actor(
            name=user.name,
            tenant=user.tenant,
            roles=roles,
            source=source,
            authority=authority,
            user_id=user.id,
            session_id=credential.id,
        )

    def actor_for(
        self, user_id: str, *, source: str, ceiling: frozenset[Privilege] | None = None
    ) -> Actor:
        """The actor of a user as it is now (to replay an approved request as its requester)."""
        found = self._store.user_by_id(user_id)
        if found is None or found[0].disabled:
            raise AuthenticationError("the requester no longer exists or is disabled")
        user = found[0]
        authority, roles = self._service.access.authority_for(user, (), ceiling)
        return Actor(
            name=user.name,
            tenant=user.tenant,
            roles=roles,
            source=source,
            authority=authority,
            user_id=user.id,
        )

    def _why_ended(self, credential: Credential, user: User, now: datetime) -> EndReason | None:
        if credential.ended_at is not None:
            return EndReason(credential.end_reason) if credential.end_reason else EndReason.REVOKED
        if user.disabled:
            return EndReason.USER_DISABLED
        if now >= credential.expires_at:
            return EndReason.EXPIRED
        idle = now - credential.last_used_at
        if credential.kind is CredentialKind.SESSION and idle > self._service.rules.session_idle:
            return EndReason.IDLE
        return None

    def _end(
        self, user: User, credential: Credential, reason: EndReason, now: datetime, source: str
    ) -> None:
        record = self._service.audit_record(
            user.principal,
            f"{credential.kind}.end",
            Outcome.APPLIED,
            reason=str(reason),
            source=source,
            targets=[f"{credential.kind} {credential.id}"],
            tenants=[user.tenant or ""],
        )
        self._store.end_credentials(now, str(reason), credential_id=credential.id, audit=record)

    # ------------------------------------------------------------------ tokens

    def create_token(
        self,
        actor: Actor,
        name: str,
        *,
        lifetime: timedelta,
        privileges: Iterable[str] | None = None,
    ) -> Issued:
        """An API token for the actor itself: expiring, optionally limited to some privileges."""
        if actor.user_id is None:
            raise InputError("only a logged-in user can create API tokens")
        if not timedelta(0) < lifetime <= self._service.rules.token_max_lifetime:
            raise InputError(
                f"a token lives between 1 s and {self._service.rules.token_max_lifetime}"
            )
        if not name or len(name) > 200:
            raise InputError("a token needs a name of 1-200 characters")
        ceiling: frozenset[Privilege] | None = None
        if privileges is not None:
            try:
                ceiling = frozenset(Privilege(p) for p in privileges)
            except ValueError as exc:
                raise InputError(f"unknown privilege: {exc}") from exc
        if actor.authority is not None and actor.authority.ceiling is not None:
            # A token minted with a token never outgrows the one it was minted with.
            ceiling = actor.authority.ceiling & (ceiling or actor.authority.ceiling)
        found = self._store.user_by_id(actor.user_id)
        if found is None:  # pragma: no cover - the actor was just authenticated
            raise AuthenticationError(_INVALID)
        return self._issue(
            found[0],
            CredentialKind.TOKEN,
            name=name,
            lifetime=lifetime,
            source=actor.source,
            privileges=ceiling,
            audit_actor=actor,
        )

    def _issue(
        self,
        user: User,
        kind: CredentialKind,
        *,
        name: str,
        lifetime: timedelta,
        source: str,
        groups: Iterable[str] = (),
        privileges: frozenset[Privilege] | None = None,
        audit_actor: Actor | None = None,
    ) -> Issued:
        now = self._service.clock()
        secret = new_secret()
        credential = Credential(
            id=new_id(),
            kind=kind,
            user_id=user.id,
            user=f"{user.domain}/{user.name}",
            name=name,
            source=source,
            created_at=now,
            expires_at=now + lifetime,
            last_used_at=now,
            last_source=source,
            privileges=privileges,
            groups=tuple(groups),
        )
        records: list[AuditRecord] = []
        if audit_actor is not None:
            records.extend(
                self._service.audit_record(
                    audit_actor,
                    f"{kind}.create",
                    Outcome.APPLIED,
                    targets=[f"{kind} {credential.id}"],
                    tenants=[user.tenant or ""],
                    details={"expires_at": credential.expires_at.isoformat()},
                )
            )
        self._store.add_credential(credential, digest_secret(secret), records)
        return Issued(secret, credential)

    # ------------------------------------------------------------------ listing and ending

    def credentials(
        self,
        actor: Actor,
        *,
        kind: CredentialKind | None = None,
        tenant: str | None = None,
        user: str | None = None,
        everyone: bool = False,
    ) -> list[Credential]:
        """Live sessions or tokens: the actor's own, or (with sessions.manage) its domain's."""
        now = self._service.clock()
        if not everyone and user is None:
            if actor.user_id is None:
                return []
            return self._store.credentials(user_id=actor.user_id, kind=kind, active_at=now)
        self._service.access.check_domain(actor, tenant, Privilege.SESSIONS_MANAGE)
        user_id = None
        if user is not None:
            found = self._store.user(domain_name(tenant), user)
            if found is None:
                raise NotFoundError(f"user {domain_name(tenant)}/{user} not found")
            user_id = found[0].id
        return self._store.credentials(
            user_id=user_id, domain=domain_name(tenant), kind=kind, active_at=now
        )

    def end(self, actor: Actor, credential_id: str) -> None:
        """End one session or token: one's own, or any in a domain with sessions.manage."""
        credential = self._store.credential(credential_id)
        if credential is None:
            raise NotFoundError(f"credential {credential_id} not found")
        if credential.user_id != actor.user_id:
            owner = self._store.user_by_id(credential.user_id)
            tenant = owner[0].tenant if owner else None
            if actor.system:
                pass
            elif actor.tenant != tenant:
                # Another domain's credential: indistinguishable from a missing one.
                raise NotFoundError(f"credential {credential_id} not found")
            elif not may(actor, Privilege.SESSIONS_MANAGE, domain_root(tenant)):
                raise PermissionDeniedError(f"{actor} lacks {Privilege.SESSIONS_MANAGE}")
        reason = EndReason.LOGOUT if credential.id == actor.session_id else EndReason.TERMINATED
        record = self._service.audit_record(
            actor,
            f"{credential.kind}.end",
            Outcome.APPLIED,
            reason=str(reason),
            targets=[f"{credential.kind} {credential.id}"],
            tenants=[actor.tenant or ""],
        )
        self._store.end_credentials(
            self._service.clock(), str(reason), credential_id=credential.id, audit=record
        )

    def end_all(self, actor: Actor, tenant: str | None, name: str) -> int:
        """End every session and token of a user; returns how many were live."""
        found = self._store.user(domain_name(tenant), name)
        if found is None or found[0].id != actor.user_id:
            self._service.access.check_domain(actor, tenant, Privilege.SESSIONS_MANAGE)
        if found is None:
            raise NotFoundError(f"user {domain_name(tenant)}/{name} not found")
        record = self._service.audit_record(
            actor,
            "sessions.end-all",
            Outcome.APPLIED,
            reason=str(EndReason.TERMINATED),
            targets=[f"user {found[0]}"],
            tenants=[tenant or ""],
        )
        return self._store.end_credentials(
            self._service.clock(), str(EndReason.TERMINATED), user_id=found[0].id, audit=record
        )
