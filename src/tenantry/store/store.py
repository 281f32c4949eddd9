"""The store: load the estate, commit a change set with its audit entries in one transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from tenantry.audit import AuditRecord, SignedTreeHead
from tenantry.errors import (
    AuditUnavailableError,
    DataIntegrityError,
    StaleRevisionError,
    StoreUnavailableError,
)
from tenantry.model import KIND_INFO, ChangeSet, Estate, Kind, Model, Op, Ref
from tenantry.store.audit_log import HeadSigner, append_entries
from tenantry.store.audit_reads import AuditReads
from tenantry.store.audit_tables import EstateCommitRow, EstateHistoryRow
from tenantry.store.authority import AuthorityStore, purge_authority
from tenantry.store.engine import create_store_engine, describe, migrate, redact_url
from tenantry.store.identities import IdentityStore, purge_identities
from tenantry.store.tables import EstateRow, ObjectRow

__all__ = ["Snapshot", "Store"]


@dataclass(frozen=True)
class Snapshot:
    """The estate as stored, its generation, and each object's revision."""

    estate: Estate
    generation: int
    revisions: dict[tuple[Kind, Ref], int]


class Store(AuditReads):
    """Persistence of the estate and the audit log (SQLite file or PostgreSQL)."""

    def __init__(self, engine: Engine, url: str) -> None:
        self._engine = engine
        self.url = redact_url(url)
        self._is_postgres = engine.dialect.name == "postgresql"
        self._io_failed: str | None = None
        self.head_signer: HeadSigner | None = None
        """Signs the tree head of appends that name no signer (the service sets it)."""
        self.identities = IdentityStore(self)
        """Users, sessions and tokens, login throttles, directories."""
        self.authority = AuthorityStore(self)
        """Custom roles, permissions, approvals, data-access grants."""

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store:
        """Open (and by default create or migrate) the store at ``url``."""
        engine = create_store_engine(url)
        store = cls(engine, url)
        try:
            if create:
                migrate(engine)
            with engine.begin() as connection:
                if connection.execute(select(EstateRow.id)).first() is None:
                    connection.execute(
                        insert(EstateRow).values(id=1, generation=0, updated_at=_now())
                    )
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreUnavailableError(
                f"cannot open the store {store.url}: {describe(exc)}"
            ) from exc
        return store

    def close(self) -> None:
        """Release every connection."""
        self._engine.dispose()

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[Connection]:
        if write and self._io_failed is not None:
            raise StoreUnavailableError(
                f"store {self.url} failed to make a write durable earlier "
                f"({self._io_failed}); refusing every write until tenantry restarts",
                hint="Check the disk (dmesg, SMART), then restart; the log will verify.",
            )
        try:
            with (
                self._engine.connect().execution_options(tenantry_write=write) as connection,
                connection.begin(),
            ):
                yield connection
        except OperationalError as exc:
            if write and _is_storage_full(exc):
                # Every write carries its audit entries: when they cannot be stored, nothing
                # is (fail closed, THREATS row 41).
                raise AuditUnavailableError(
                    f"store {self.url} is full: the change and its audit entry were not committed"
                ) from exc
            if write and _is_io_error(exc):
                # After a failed fsync the page cache no longer says what is on disk: never
                # acknowledge another write from this process (THREATS row 49).
                self._io_failed = describe(exc)
            raise StoreUnavailableError(f"store {self.url} failed: {describe(exc)}") from exc

    def generation(self) -> int:
        """The current generation (bumped by every committed change set)."""
        with self._connect(write=False) as connection:
            return int(connection.execute(select(EstateRow.generation)).scalar_one())

    def load(self) -> Snapshot:
        """The whole estate, consistent with one generation."""
        with self._connect(write=False) as connection:
            generation = int(connection.execute(select(EstateRow.generation)).scalar_one())
            rows = connection.execute(
                select(
                    ObjectRow.kind,
                    ObjectRow.owner,
                    ObjectRow.name,
                    ObjectRow.body,
                    ObjectRow.revision,
                )
            ).all()
        items: list[tuple[Kind, Ref, Model]] = []
        revisions: dict[tuple[Kind, Ref], int] = {}
        for kind_name, owner, name, body, revision in rows:
            kind = Kind(kind_name)
            ref = Ref(owner, name)
            try:
                obj = KIND_INFO[kind].model.model_validate(body)
            except ValidationError as exc:
                raise DataIntegrityError(
                    f"stored {kind} {ref} no longer validates: {exc.error_count()} errors"
                ) from exc
            items.append((kind, ref, obj))
            revisions[(kind, ref)] = int(revision)
        return Snapshot(Estate.build(items), generation, revisions)

    def commit(
        self,
        changes: ChangeSet,
        *,
        expected_generation: int,
        audit: Sequence[AuditRecord],
        sign: HeadSigner | None = None,
    ) -> int:
        """Write the changes, their history and their audit entries (with a signed head, given
        ``sign``) atomically; returns the new generation.

        Raises StaleRevisionError if another writer committed since ``expected_generation``.
        """
        now = _now()
        generation = expected_generation + 1
        try:
            with self._connect(write=True) as connection:
                bumped = connection.execute(
                    update(EstateRow)
                    .where(EstateRow.id == 1, EstateRow.generation == expected_generation)
                    .values(generation=EstateRow.generation + 1, updated_at=now)
                )
                if bumped.rowcount != 1:
                    raise StaleRevisionError(
                        f"the estate changed since generation {expected_generation}"
                    )
                for change in changes:
                    _write(connection, change.op, change.kind, change.ref, change.after, now=now)
                    _remember(connection, change.kind, change.ref, change.after, generation)
                    if change.kind is Kind.TENANT and change.op is Op.DELETE:
                        # A tenant recreated under this name must not inherit its accounts.
                        purge_identities(connection, change.ref.name)
                        purge_authority(connection, change.ref.name)
                size, _ = append_entries(connection, audit, sign or self.head_signer)
                connection.execute(
                    insert(EstateCommitRow).values(
                        generation=generation, log_size=size, committed_at=now
                    )
                )
                return generation
        except IntegrityError as exc:
            raise StaleRevisionError(
                f"a concurrent writer got there first: {describe(exc)}"
            ) from exc

    def append_audit(
        self, records: Sequence[AuditRecord], *, sign: HeadSigner | None = None
    ) -> SignedTreeHead | None:
        """Append audit entries on their own (a refusal, a login), with their signed head."""
        with self._connect(write=True) as connection:
            return append_entries(connection, records, sign or self.head_signer)[1]

    def _append(self, connection: Connection, records: Sequence[AuditRecord]) -> None:
        """Append audit entries inside a caller's transaction (identities, authority)."""
        append_entries(connection, records, self.head_signer)


def _write(
    connection: Connection, op: Op, kind: Kind, ref: Ref, after: Model | None, *, now: datetime
) -> None:
    where = (ObjectRow.kind == str(kind), ObjectRow.owner == ref.owner, ObjectRow.name == ref.name)
    if op is Op.DELETE:
        connection.execute(delete(ObjectRow).where(*where))
        return
    if after is None:  # pragma: no cover - a ChangeSet never builds this
        raise ValueError(f"{op} of {kind} {ref} without a body")
    body: dict[str, Any] = after.model_dump(mode="json")
    if op is Op.CREATE:
        connection.execute(
            insert(ObjectRow).values(
                kind=str(kind),
                owner=ref.owner,
                name=ref.name,
                body=body,
                revision=1,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        connection.execute(
            update(ObjectRow)
            .where(*where)
            .values(body=body, revision=ObjectRow.revision + 1, updated_at=now)
        )


def _remember(
    connection: Connection, kind: Kind, ref: Ref, after: Model | None, generation: int
) -> None:
    body = None if after is None else after.model_dump(mode="json")
    connection.execute(
        insert(EstateHistoryRow).values(
            kind=str(kind), owner=ref.owner, name=ref.name, generation=generation, body=body
        )
    )


def _is_io_error(exc: OperationalError) -> bool:
    original = getattr(exc, "orig", None)
    code = getattr(original, "sqlite_errorcode", None)
    # SQLITE_IOERR is 10 (its extended codes, such as IOERR_FSYNC, keep it in the low byte);
    # PostgreSQL's class 58 is "system error" (io_error 58030).
    return (code is not None and code & 0xFF == 10) or str(
        getattr(original, "sqlstate", "") or ""
    ).startswith("58")


def _is_storage_full(exc: OperationalError) -> bool:
    original = getattr(exc, "orig", None)
    # SQLITE_FULL is 13; PostgreSQL reports disk_full as SQLSTATE 53100.
    return getattr(original, "sqlite_errorcode", None) == 13 or (
        getattr(original, "sqlstate", None) == "53100"
    )


def _now() -> datetime:
    return datetime.now(UTC)
