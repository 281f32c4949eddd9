"""The store: load the estate, commit a change set with its audit entries in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from tenantry.audit import AuditRecord, leaf_hash
from tenantry.errors import DataIntegrityError, StaleRevisionError, StoreUnavailableError
from tenantry.model import KIND_INFO, ChangeSet, Estate, Kind, Model, Op, Ref
from tenantry.store.authority import AuthorityStore, purge_authority
from tenantry.store.engine import create_store_engine, describe, migrate, redact_url
from tenantry.store.identities import IdentityStore, purge_identities
from tenantry.store.tables import AuditEntryRow, AuditTenantRow, EstateRow, ObjectRow

__all__ = ["Snapshot", "Store", "StoredAuditEntry"]


@dataclass(frozen=True)
class Snapshot:
    """The estate as stored, its generation, and each object's revision."""

    estate: Estate
    generation: int
    revisions: dict[tuple[Kind, Ref], int]


@dataclass(frozen=True)
class StoredAuditEntry:
    """An audit entry as stored: its index in the log, its canonical bytes and leaf hash."""

    seq: int
    body: bytes
    leaf_hash: bytes

    def record(self) -> AuditRecord:
        """The decoded record."""
        return AuditRecord.from_json(json.loads(self.body))


class Store:
    """Persistence of the estate and the audit log (SQLite file or PostgreSQL)."""

    def __init__(self, engine: Engine, url: str) -> None:
        self._engine = engine
        self.url = redact_url(url)
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
        try:
            with (
                self._engine.connect().execution_options(tenantry_write=write) as connection,
                connection.begin(),
            ):
                yield connection
        except OperationalError as exc:
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
        self, changes: ChangeSet, *, expected_generation: int, audit: Sequence[AuditRecord]
    ) -> int:
        """Write the changes and their audit entries atomically; returns the new generation.

        Raises StaleRevisionError if another writer committed since ``expected_generation``.
        """
        now = _now()
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
                    if change.kind is Kind.TENANT and change.op is Op.DELETE:
                        purge_identities(connection, change.ref.name)
                        purge_authority(connection, change.ref.name)
                self._append(connection, audit)
                return expected_generation + 1
        except IntegrityError as exc:
            raise StaleRevisionError(
                f"a concurrent writer got there first: {describe(exc)}"
            ) from exc

    def append_audit(self, records: Sequence[AuditRecord]) -> None:
        """Append audit entries on their own (a refusal, a login)."""
        with self._connect(write=True) as connection:
            self._append(connection, records)

    def _append(self, connection: Connection, records: Sequence[AuditRecord]) -> None:
        if not records:
            return
        # The estate row is the log's lock: appends are serialised with commits (PostgreSQL
        # row lock; SQLite holds its write lock from BEGIN IMMEDIATE).
        connection.execute(select(EstateRow.id).where(EstateRow.id == 1).with_for_update())
        last = connection.execute(select(func.max(AuditEntryRow.seq))).scalar_one()
        size = 0 if last is None else int(last) + 1
        for offset, record in enumerate(records):
            seq = size + offset
            body = record.canonical()
            connection.execute(
                insert(AuditEntryRow).values(
                    seq=seq, time=record.time, body=body.decode(), leaf_hash=leaf_hash(body)
                )
            )
            for tenant in sorted(set(record.tenants)):
                connection.execute(insert(AuditTenantRow).values(seq=seq, tenant=tenant))

    def audit_size(self) -> int:
        """How many entries the audit log holds."""
        with self._connect(write=False) as connection:
            last = connection.execute(select(func.max(AuditEntryRow.seq))).scalar_one()
        return 0 if last is None else int(last) + 1

    def audit_entries(
        self, *, start: int = 0, stop: int | None = None, tenant: str | None = None
    ) -> list[StoredAuditEntry]:
        """Entries with ``start <= seq < stop``; only those concerning ``tenant`` if given."""
        query = select(AuditEntryRow.seq, AuditEntryRow.body, AuditEntryRow.leaf_hash).where(
            AuditEntryRow.seq >= start
        )
        if stop is not None:
            query = query.where(AuditEntryRow.seq < stop)
        if tenant is not None:
            query = query.join(AuditTenantRow, AuditTenantRow.seq == AuditEntryRow.seq).where(
                AuditTenantRow.tenant == tenant
            )
        with self._connect(write=False) as connection:
            rows = connection.execute(query.order_by(AuditEntryRow.seq)).all()
        return [StoredAuditEntry(int(s), b.encode(), bytes(h)) for s, b, h in rows]


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


def _now() -> datetime:
    return datetime.now(UTC)
