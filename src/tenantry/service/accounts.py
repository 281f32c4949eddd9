"""Users of each credential domain: creation, disabling, passwords, second factors, directories.

A domain is administered only by its own administrators (or the local system operator):
the provider never creates, resets or re-enables a tenant's users, so no provider account
can become a tenant identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tenantry.audit import AuditRecord, Outcome
from tenantry.errors import (
    AuthenticationError,
    DirectoryHostRefusedError,
    InputError,
    NotFoundError,
)
from tenantry.governance import (
    Actor,
    DirectoryConfig,
    EndReason,
    FailureCount,
    Privilege,
    User,
    UserSource,
    account_key,
    check_directory_host,
    check_password_rules,
    check_user_name,
    domain_name,
    hash_password,
    new_id,
    new_totp_secret,
    provisioning_uri,
    verify_password,
    verify_totp,
)
from tenantry.store import IdentityStore, UserSecrets, totp_place

if TYPE_CHECKING:
    from tenantry.service.service import Service

__all__ = ["Accounts"]


class Accounts:
    """Users, passwords, second factors and directory settings."""

    def __init__(self, service: Service) -> None:
        self._service = service

    @property
    def _store(self) -> IdentityStore:
        return self._service.store.identities

    # ------------------------------------------------------------------ users

    def create_user(
        self,
        actor: Actor,
        tenant: str | None,
        name: str,
        *,
        password: str | None = None,
        groups: Sequence[str] = (),
        source: UserSource = UserSource.LOCAL,
    ) -> User:
        """Add a user to a domain (a local user needs a password that meets the rules)."""
        self._service.access.check_domain(actor, tenant, Privilege.USERS_MANAGE)
        check_user_name(name)
        digest = None
        if source is UserSource.LOCAL:
            if password is None:
                raise InputError("a local user needs a password")
            check_password_rules(password)
            digest = hash_password(password, self._service.rules.password_hashing)
        user = User(
            new_id(),
            tenant,
            name,
            source,
            groups=tuple(groups),
            created_at=self._service.clock(),
            created_by=str(actor),
        )
        record = self._audit(actor, "user.create", user, details={"source": str(source)})
        self._store.add_user(user, digest, record)
        return user

    def users(self, actor: Actor, tenant: str | None) -> list[User]:
        """The users of a domain."""
        self._service.access.check_domain(actor, tenant, Privilege.USERS_MANAGE)
        return self._store.users(domain_name(tenant))

    def user(self, actor: Actor, tenant: str | None, name: str) -> User:
        """One user: the actor itself, or any user of a domain it administers."""
        found = self._store.user(domain_name(tenant), name)
        if found is None or found[0].id != actor.user_id:
            self._service.access.check_domain(actor, tenant, Privilege.USERS_MANAGE)
        if found is None:
            raise NotFoundError(f"user {domain_name(tenant)}/{name} not found")
        return found[0]

    def disable_user(self, actor: Actor, tenant: str | None, name: str) -> int:
        """Disable a user; its sessions and tokens end in the same transaction."""
        user = self._managed(actor, tenant, name)
        now = self._service.clock()
        record = self._audit(actor, "user.disable", user)
        return self._store.disable_user(user.id, now, str(EndReason.USER_DISABLED), record)

    def enable_user(self, actor: Actor, tenant: str | None, name: str) -> None:
        """Enable a disabled user (its old sessions and tokens stay ended)."""
        user = self._managed(actor, tenant, name)
        self._store.update_user(user.id, self._audit(actor, "user.enable", user), disabled=False)

    def unlock_user(self, actor: Actor, tenant: str | None, name: str) -> None:
        """Clear a user's failed-login lockout (audited with the administrator's address)."""
        user = self._managed(actor, tenant, name)
        record = self._audit(actor, "user.unlock", user)
        self._store.save_failures([FailureCount(account_key(user.domain, user.name))], record)

    def set_password(
        self,
        actor: Actor,
        tenant: str | None,
        name: str,
        new_password: str,
        *,
        current_password: str | None = None,
    ) -> None:
        """Change a password: one's own with the current one, or as the domain's administrator
        (which ends all the user's sessions)."""
        found = self._store.user(domain_name(tenant), name)
        own = found is not None and found[0].id == actor.user_id
        if not own:
            self._service.access.check_domain(actor, tenant, Privilege.USERS_MANAGE)
        if found is None:
            raise NotFoundError(f"user {domain_name(tenant)}/{name} not found")
        user, secrets = found
        if user.source is not UserSource.LOCAL:
            raise InputError(f"user {user} is checked by the directory; change it there")
        if own and not verify_password(secrets.password_hash, current_password or ""):
            self._service.record(actor, "user.password", Outcome.REFUSED, targets=[f"user {user}"])
            raise AuthenticationError("the current password is wrong")
        check_password_rules(new_password)
        record = self._audit(actor, "user.password", user)
        self._store.update_user(
            user.id,
            record,
            password_hash=hash_password(new_password, self._service.rules.password_hashing),
        )
        if not own:
            self._store.end_credentials(
                self._service.clock(), str(EndReason.REVOKED), user_id=user.id
            )

    # ------------------------------------------------------------------ second factor

    def begin_mfa(self, actor: Actor) -> tuple[str, str]:
        """Start enrolling the actor's own TOTP: the secret and its otpauth:// URI, shown once."""
        user, _ = self._own(actor)
        secret = new_totp_secret()
        sealed = self._service.secrets().seal(secret, totp_place(user.id, "totp_pending"))
        self._store.update_user(
            user.id, self._audit(actor, "mfa.enroll", user), totp_pending=sealed
        )
        return secret, provisioning_uri(secret, str(user))

    def confirm_mfa(self, actor: Actor, code: str) -> None:
        """Finish enrolling with a code from the authenticator; from then on login needs one."""
        user, secrets = self._own(actor)
        if secrets.totp_pending is None:
            raise InputError("no second factor is being enrolled; start with POST /v1/auth/mfa")
        box = self._service.secrets()
        pending = box.open(secrets.totp_pending, totp_place(user.id, "totp_pending"))
        step = verify_totp(pending, code, self._service.clock(), None)
        if step is None:
            raise AuthenticationError("the code does not match the enrolled secret")
        self._store.update_user(
            user.id,
            self._audit(actor, "mfa.enable", user),
            totp_secret=box.seal(pending, totp_place(user.id, "totp_secret")),
            totp_pending=None,
            totp_last_step=step,
        )

    def disable_mfa(self, actor: Actor, tenant: str | None, name: str) -> None:
        """Remove a user's second factor; on the provider side a second person must approve."""
        user = self._managed(actor, tenant, name)
        if user.tenant is None and not actor.system:
            raise self._service.approvals.request(
                actor,
                action="mfa.disable",
                summary=f"disable the second factor of user {user}",
                operation={"action": "mfa.disable", "user_id": user.id},
                tenants=(),
            )
        self.disable_mfa_now(actor, user.id)

    def disable_mfa_now(self, actor: Actor, user_id: str, approval: str = "") -> None:
        """Remove the second factor (after the approval, if one was needed)."""
        found = self._store.user_by_id(user_id)
        if found is None:
            raise NotFoundError("the user no longer exists")
        user = found[0]
        details = {"approval": approval} if approval else {}
        record = self._audit(actor, "mfa.disable", user, details=details)
        self._store.update_user(
            user.id, record, totp_secret=None, totp_pending=None, totp_last_step=None
        )

    # ------------------------------------------------------------------ directories

    def directory(self, actor: Actor, tenant: str | None) -> DirectoryConfig | None:
        """The domain's LDAP / Active Directory settings."""
        self._service.access.check_domain(actor, tenant, Privilege.USERS_MANAGE)
        return self._store.directory(domain_name(tenant))

    def set_directory(
        self, actor: Actor, tenant: str | None, config: DirectoryConfig | None
    ) -> None:
        """Set (or remove) the domain's directory; only its own administrators may, and a
        tenant's directory only on a host the provider allows."""
        self._service.access.check_domain(actor, tenant, Privilege.USERS_MANAGE)
        if tenant is not None and config is not None:
            try:
                check_directory_host(config.url, self._service.rules.directory_hosts)
            except DirectoryHostRefusedError as exc:
                self._service.record(
                    actor,
                    "directory.set",
                    Outcome.REFUSED,
                    targets=[f"directory {domain_name(tenant)}"],
                    tenants=[tenant],
                    reason=f"{exc.code}: {exc}",
                )
                raise
        record = self._service.audit_record(
            actor,
            "directory.set" if config else "directory.remove",
            Outcome.APPLIED,
            targets=[f"directory {domain_name(tenant)}"],
            tenants=[tenant or ""],
            details={"url": config.url} if config else {},
        )
        self._store.put_directory(domain_name(tenant), config, record)

    # ------------------------------------------------------------------ internals

    def _managed(self, actor: Actor, tenant: str | None, name: str) -> User:
        self._service.access.check_domain(actor, tenant, Privilege.USERS_MANAGE)
        found = self._store.user(domain_name(tenant), name)
        if found is None:
            raise NotFoundError(f"user {domain_name(tenant)}/{name} not found")
        return found[0]

    def _own(self, actor: Actor) -> tuple[User, UserSecrets]:
        found = self._store.user_by_id(actor.user_id) if actor.user_id else None
        if found is None:
            raise InputError("only a logged-in user can enrol its own second factor")
        return found

    def _audit(
        self, actor: Actor, action: str, user: User, details: dict[str, Any] | None = None
    ) -> list[AuditRecord]:
        return self._service.audit_record(
            actor,
            action,
            Outcome.APPLIED,
            targets=[f"user {user}"],
            tenants=[user.tenant or ""],
            details=details,
        )
