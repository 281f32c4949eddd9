"""Users, their credentials (sessions, API tokens), login throttles and directory settings.

Every write can carry audit records, appended in the same transaction as the write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tenantry.audit import AuditRecord
from tenantry.errors import ConflictError
from tenantry.governance import (
    Credential,
    CredentialKind,
    DirectoryConfig,
    FailureCount,
    Privilege,
    User,
    UserSource,
)
from tenantry.store.governance_tables import (
    CredentialRow,
    DirectoryRow,
    LoginFailureRow,
    UserRow,
)

if TYPE_CHECKING:
    from tenantry.store.store import Store

__all__ = ["IdentityStore", "UserSecrets", "aware", "purge_identities"]


_USER_COLUMNS = [column.label(f"u_{column.key}") for column in UserRow.__table__.columns]


def aware(value: datetime) -> datetime:
    """A datetime with its zone (SQLite hands back naive UTC datetimes)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class UserSecrets:
    """What is checked at login; never leaves the service layer."""

    password_hash: str | None
    totp_secret: str | None
    totp_pending: str | None
    totp_last_step: int | None


class IdentityStore:
    """Users, credentials, throttles and directories in the store's database."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # ------------------------------------------------------------------ users

    def add_user(
        self, user: User, password_hash: str | None, audit: Sequence[AuditRecord] = ()
    ) -> None:
        """Insert a user; ConflictError if the domain already has one by that name."""
        try:
            with self._store._connect(write=True) as connection:
                connection.execute(
                    insert(UserRow).values(
                        id=user.id,
                        domain=user.domain,
                        name=user.name,
                        source=str(user.source),
                        password_hash=password_hash,
                        disabled=user.disabled,
                        groups=list(user.groups),
                        created_at=user.created_at or datetime.now(UTC),
                        created_by=user.created_by,
                    )
                )
                self._store._append(connection, audit)
        except IntegrityError as exc:
            raise ConflictError(f"user {user} already exists") from exc

    def user(self, domain: str, name: str) -> tuple[User, UserSecrets] | None:
        """A user by domain and name, with its secrets."""
        with self._store._connect(write=False) as connection:
            row = connection.execute(
                select(UserRow).where(UserRow.domain == domain, UserRow.name == name)
            ).first()
        return None if row is None else (_user(row), _secrets(row))

    def user_by_id(self, user_id: str) -> tuple[User, UserSecrets] | None:
        """A user by id, with its secrets."""
        with self._store._connect(write=False) as connection:
            row = connection.execute(select(UserRow).where(UserRow.id == user_id)).first()
        return None if row is None else (_user(row), _secrets(row))

    def users(self, domain: str | None = None) -> list[User]:
        """The users of a domain (every user if None), by name."""
        query = select(UserRow).order_by(UserRow.domain, UserRow.name)
        if domain is not None:
            query = query.where(UserRow.domain == domain)
        with self._store._connect(write=False) as connection:
            return [_user(row) for row in connection.execute(query)]

    def update_user(self, user_id: str, audit: Sequence[AuditRecord] = (), **values: Any) -> None:
        """Set columns of a user (disabled, password_hash, totp_*, groups)."""
        with self._store._connect(write=True) as connection:
            connection.execute(update(UserRow).where(UserRow.id == user_id).values(**values))
            self._store._append(connection, audit)

    def disable_user(
        self, user_id: str, now: datetime, reason: str, audit: Sequence[AuditRecord] = ()
    ) -> int:
        """Disable a user and end all its sessions and tokens in one transaction; returns how
        many credentials ended."""
        with self._store._connect(write=True) as connection:
            connection.execute(update(UserRow).where(UserRow.id == user_id).values(disabled=True))
            ended = _end(connection, CredentialRow.user_id == user_id, now, reason)
            self._store._append(connection, audit)
        return ended

    # ------------------------------------------------------------------ credentials

    def add_credential(
        self, credential: Credential, digest: str, audit: Sequence[AuditRecord] = ()
    ) -> None:
        """Store a new session or token under the digest of its secret."""
        with self._store._connect(write=True) as connection:
            connection.execute(
                insert(CredentialRow).values(
                    id=credential.id,
                    digest=digest,
                    user_id=credential.user_id,
                    kind=str(credential.kind),
                    name=credential.name,
                    privileges=None
                    if credential.privileges is None
                    else sorted(str(p) for p in credential.privileges),
                    groups=list(credential.groups),
                    source=credential.source,
                    created_at=credential.created_at,
                    expires_at=credential.expires_at,
                    last_used_at=credential.last_used_at,
                    last_source=credential.last_source,
                    end_reason="",
                )
            )
            self._store._append(connection, audit)

    def credential_by_digest(self, digest: str) -> tuple[Credential, str, User] | None:
        """The credential stored under ``digest``, the digest as stored, and its user."""
        with self._store._connect(write=False) as connection:
            row = connection.execute(_CREDENTIALS.where(CredentialRow.digest == digest)).first()
        if row is None:
            return None
        return _credential(row), str(row.digest), _user(row, "u_")

    def credential(self, credential_id: str) -> Credential | None:
        """A credential by id."""
        with self._store._connect(write=False) as connection:
            row = connection.execute(_CREDENTIALS.where(CredentialRow.id == credential_id)).first()
        return None if row is None else _credential(row)

    def credentials(
        self,
        *,
        user_id: str | None = None,
        domain: str | None = None,
        kind: CredentialKind | None = None,
        active_at: datetime | None = None,
    ) -> list[Credential]:
        """Credentials of a user or a domain, newest first; only live ones if ``active_at``."""
        query = _CREDENTIALS
        if user_id is not None:
            query = query.where(CredentialRow.user_id == user_id)
        if domain is not None:
            query = query.where(UserRow.domain == domain)
        if kind is not None:
            query = query.where(CredentialRow.kind == str(kind))
        if active_at is not None:
            query = query.where(
                CredentialRow.ended_at.is_(None), CredentialRow.expires_at > active_at
            )
        with self._store._connect(write=False) as connection:
            rows = connection.execute(query.order_by(CredentialRow.created_at.desc())).all()
        return [_credential(row) for row in rows]

    def touch_credential(self, credential_id: str, now: datetime, source: str) -> None:
        """Record a use of a credential (for idle timeouts and session listings)."""
        with self._store._connect(write=True) as connection:
            connection.execute(
                update(CredentialRow)
                .where(CredentialRow.id == credential_id)
                .values(last_used_at=now, last_source=source)
            )

    def end_credentials(
        self,
        now: datetime,
        reason: str,
        *,
        credential_id: str | None = None,
        user_id: str | None = None,
        audit: Sequence[AuditRecord] = (),
    ) -> int:
        """End one credential, or all of a user's; returns how many were still live."""
        if credential_id is not None:
            where = CredentialRow.id == credential_id
        elif user_id is not None:
            where = CredentialRow.user_id == user_id
        else:  # pragma: no cover - a programming error
            raise ValueError("name a credential or a user")
        with self._store._connect(write=True) as connection:
            ended = _end(connection, where, now, reason)
            self._store._append(connection, audit)
        return ended

    # ------------------------------------------------------------------ throttles

    def failure(self, key: str) -> FailureCount:
        """The failure count of a throttle key."""
        with self._store._connect(write=False) as connection:
            row = connection.execute(
                select(LoginFailureRow.count, LoginFailureRow.locked_until).where(
                    LoginFailureRow.key == key
                )
            ).first()
        if row is None:
            return FailureCount(key)
        count, locked_until = row
        return FailureCount(key, int(count), aware(locked_until) if locked_until else None)

    def save_failures(
        self, counts: Sequence[FailureCount], audit: Sequence[AuditRecord] = ()
    ) -> None:
        """Store failure counts (a count of 0 clears the key)."""
        with self._store._connect(write=True) as connection:
            for count in counts:
                connection.execute(delete(LoginFailureRow).where(LoginFailureRow.key == count.key))
                if count.count or count.locked_until is not None:
                    connection.execute(
                        insert(LoginFailureRow).values(
                            key=count.key, count=count.count, locked_until=count.locked_until
                        )
                    )
            self._store._append(connection, audit)

    # ------------------------------------------------------------------ directories

    def directory(self, domain: str) -> DirectoryConfig | None:
        """The directory configured for a domain."""
        with self._store._connect(write=False) as connection:
            row = connection.execute(
                select(DirectoryRow.config).where(DirectoryRow.domain == domain)
            ).first()
        return None if row is None else DirectoryConfig.from_json(dict(row.config))

    def put_directory(
        self, domain: str, config: DirectoryConfig | None, audit: Sequence[AuditRecord] = ()
    ) -> None:
        """Set (or with None remove) a domain's directory."""
        with self._store._connect(write=True) as connection:
            connection.execute(delete(DirectoryRow).where(DirectoryRow.domain == domain))
            if config is not None:
                connection.execute(
                    insert(DirectoryRow).values(domain=domain, config=config.to_json())
                )
            self._store._append(connection, audit)


def purge_identities(connection: Any, domain: str) -> None:
    """Forget a deleted tenant's credential domain (in the deleting transaction): its users,
    their sessions and tokens, its directory, its login throttles. A tenant created later
    under the same name starts with an empty domain, not the old one's accounts."""
    users = select(UserRow.id).where(UserRow.domain == domain)
    connection.execute(delete(CredentialRow).where(CredentialRow.user_id.in_(users)))
    connection.execute(delete(UserRow).where(UserRow.domain == domain))
    connection.execute(delete(DirectoryRow).where(DirectoryRow.domain == domain))
    connection.execute(
        delete(LoginFailureRow).where(LoginFailureRow.key.startswith(f"user:{domain}/"))
    )


def _end(connection: Any, where: Any, now: datetime, reason: str) -> int:
    result = connection.execute(
        update(CredentialRow)
        .where(where, CredentialRow.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(result.rowcount)


def _user(row: Row[Any], prefix: str = "") -> User:
    def column(name: str) -> Any:
        return getattr(row, prefix + name)

    domain = str(column("domain"))
    return User(
        id=str(column("id")),
        tenant=None if domain == "provider" else domain,
        name=str(column("name")),
        source=UserSource(column("source")),
        disabled=bool(column("disabled")),
        mfa_enabled=column("totp_secret") is not None,
        groups=tuple(column("groups") or ()),
        created_at=aware(column("created_at")),
        created_by=str(column("created_by")),
    )


def totp_place(user_id: str, column: str) -> str:
    """What a user's sealed TOTP value is bound to (the associated data of its sealing)."""
    return f"users/{user_id}/{column}"


def _secrets(row: Row[Any]) -> UserSecrets:
    return UserSecrets(
        row.password_hash,
        row.totp_secret,
        row.totp_pending,
        None if row.totp_last_step is None else int(row.totp_last_step),
    )


def _credential(row: Row[Any]) -> Credential:
    privileges = row.privileges
    return Credential(
        id=str(row.id),
        kind=CredentialKind(row.kind),
        user_id=str(row.user_id),
        user=f"{row.u_domain}/{row.u_name}",
        name=str(row.name),
        source=str(row.source),
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at),
        last_used_at=aware(row.last_used_at),
        last_source=str(row.last_source),
        privileges=None if privileges is None else frozenset(Privilege(p) for p in privileges),
        groups=tuple(row.groups or ()),
        ended_at=aware(row.ended_at) if row.ended_at is not None else None,
        end_reason=str(row.end_reason),
    )


_CREDENTIALS = select(CredentialRow.__table__, *_USER_COLUMNS).join(
    UserRow.__table__, UserRow.id == CredentialRow.user_id
)
