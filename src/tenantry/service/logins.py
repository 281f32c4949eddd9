"""Checking a login: throttles per account and per address, the password (locally or by the
domain's directory), the second factor; and recording each failure and lockout."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tenantry.audit import AuditRecord, Outcome
from tenantry.errors import (
    AuthenticationError,
    DirectoryHostRefusedError,
    InputError,
    ThrottledError,
)
from tenantry.governance import (
    FailureCount,
    GovernanceRules,
    User,
    UserSource,
    account_key,
    address_key,
    check_directory_host,
    domain_name,
    new_id,
    verify_password,
    verify_totp,
)
from tenantry.store import IdentityStore, UserSecrets, totp_place

if TYPE_CHECKING:
    from tenantry.service.service import Service

__all__ = ["REFUSED", "check_login"]

REFUSED = "wrong user name, password or one-time code"


def check_login(
    service: Service,
    tenant: str | None,
    name: str,
    password: str,
    *,
    code: str | None,
    source: str,
) -> tuple[User, list[FailureCount]]:
    """The user whose credentials these are, and the cleared throttle counts to store with
    the session; ThrottledError while locked, AuthenticationError (always the same) if wrong."""
    return _LoginCheck(service).run(tenant, name, password, code=code, source=source)


class _LoginCheck:
    def __init__(self, service: Service) -> None:
        self._service = service
        self._store: IdentityStore = service.store.identities

    def run(
        self, tenant: str | None, name: str, password: str, *, code: str | None, source: str
    ) -> tuple[User, list[FailureCount]]:
        now = self._service.clock()
        domain = domain_name(tenant)
        who = name if tenant is None else f"{tenant}:{name}"
        counts = [
            self._store.failure(account_key(domain, name)),
            self._store.failure(address_key(source)),
        ]
        for count in counts:
            if count.is_locked(now):
                until = count.locked_until or now
                self._service.record(
                    who,
                    "login",
                    Outcome.REFUSED,
                    reason="locked",
                    source=source,
                    targets=[f"user {who}"],
                    tenants=[tenant or ""],
                )
                raise ThrottledError(
                    f"too many failed logins for {who} or from {source}",
                    retry_after=(until - now).total_seconds(),
                )
        user, why = self._check(tenant, name, password, code, now)
        if user is None:
            self._failed(who=who, tenant=tenant, source=source, counts=counts, now=now, why=why)
            raise AuthenticationError(REFUSED)
        return user, [FailureCount(c.key) for c in counts]

    def _check(
        self, tenant: str | None, name: str, password: str, code: str | None, now: datetime
    ) -> tuple[User | None, str]:
        domain = domain_name(tenant)
        found = self._store.user(domain, name)
        user: User | None = None
        secrets: UserSecrets | None = None
        if found is not None and found[0].source is UserSource.LOCAL:
            user, secrets = found
            if not verify_password(secrets.password_hash, password):
                return None, "password"
        else:
            directory = self._store.directory(domain)
            if directory is None:
                verify_password(None, password)  # the same time as a wrong password
                return None, "unknown user"
            if tenant is not None and not _allowed(directory.url, self._service.rules):
                # Set before the allow-list shrank: never bind a tenant's password there.
                verify_password(None, password)
                return None, "directory host not allowed"
            from tenantry.governance.ldap import authenticate_directory_user  # noqa: PLC0415

            vouched = authenticate_directory_user(directory, name, password)
            if vouched is None:
                return None, "directory refused the password"
            user, secrets = self._directory_user(tenant, name, vouched.groups, found)
        if user.disabled:
            return None, "user disabled"
        if secrets.totp_secret is not None:
            seed = self._service.secrets().open(
                secrets.totp_secret, totp_place(user.id, "totp_secret")
            )
            step = verify_totp(seed, code or "", now, secrets.totp_last_step)
            if step is None:
                return None, "one-time code"
            self._store.update_user(user.id, totp_last_step=step)
        return user, ""

    def _directory_user(
        self,
        tenant: str | None,
        name: str,
        groups: tuple[str, ...],
        found: tuple[User, UserSecrets] | None,
    ) -> tuple[User, UserSecrets]:
        # A directory user gets a local shadow so that permissions, sessions, disabling and
        # second factors work the same; its groups are refreshed at every login.
        if found is None:
            user = User(
                new_id(),
                tenant,
                name,
                UserSource.LDAP,
                groups=groups,
                created_at=self._service.clock(),
                created_by="directory",
            )
            record = self._service.audit_record(
                f"directory:{domain_name(tenant)}",
                "user.create",
                Outcome.APPLIED,
                targets=[f"user {user}"],
                tenants=[tenant or ""],
                details={"source": "ldap"},
            )
            self._store.add_user(user, None, record)
            return user, UserSecrets(None, None, None, None)
        user, secrets = found
        if user.groups != groups:
            self._store.update_user(user.id, groups=list(groups))
            user = User(
                user.id,
                user.tenant,
                user.name,
                user.source,
                user.disabled,
                user.mfa_enabled,
                groups,
                user.created_at,
                user.created_by,
            )
        return user, secrets

    def _failed(
        self,
        *,
        who: str,
        tenant: str | None,
        source: str,
        counts: list[FailureCount],
        now: datetime,
        why: str,
    ) -> None:
        rules = self._service.rules
        updated = [
            counts[0].after_failure(rules.account_throttle, now),
            counts[1].after_failure(rules.address_throttle, now),
        ]
        records: list[AuditRecord] = self._service.audit_record(
            who,
            "login",
            Outcome.REFUSED,
            reason=why,
            source=source,
            targets=[f"user {who}"],
            tenants=[tenant or ""],
        )
        for before, after in zip(counts, updated, strict=True):
            if after.is_locked(now) and not before.is_locked(now):
                records.extend(
                    self._service.audit_record(
                        who,
                        "login.lockout",
                        Outcome.APPLIED,
                        source=source,
                        targets=[after.key],
                        tenants=[tenant or ""],
                        details={
                            "until": after.locked_until.isoformat() if after.locked_until else None
                        },
                    )
                )
        self._store.save_failures(updated, records)


def _allowed(url: str, rules: GovernanceRules) -> bool:
    try:
        check_directory_host(url, rules.directory_hosts)
    except (DirectoryHostRefusedError, InputError):
        return False
    return True
