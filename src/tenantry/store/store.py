"""The store: load the estate, commit a change set with its audit entries in one transaction."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from tenantry.audit import AuditRecord, SignedTreeHead
from tenantry.errors import (
    AuditUnavailableError,
    DataIntegrityError,
    StaleRevisionError,
    StoreUnavailableError,
)
from tenantry.model import KIND_INFO, ChangeSet, Estate, Kind, Model, Op, Ref
from tenantry.store.audit_log import (
    TILE_HEIGHT,
    HeadSigner,
    append_entries,
    prepare,
    read_heads,
    stored_nodes,
)
from tenantry.store.audit_tables import AuditLogRow, EstateCommitRow, EstateHistoryRow
from tenantry.store.engine import create_store_engine, migrate, redact_url
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
        self._is_postgres = engine.dialect.name == "postgresql"

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
            raise StoreUnavailableError(f"cannot open the store {store.url}: {_why(exc)}") from exc
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
            if write and _is_storage_full(exc):
                # Every write carries its audit entries: when they cannot be stored, nothing
                # is (fail closed, THREATS row 41).
                raise AuditUnavailableError(
                    f"store {self.url} is full: the change and its audit entry were not committed"
                ) from exc
            raise StoreUnavailableError(f"store {self.url} failed: {_why(exc)}") from exc

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
        entries = prepare(audit)
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
                size, _ = append_entries(connection, entries, sign)
                connection.execute(
                    insert(EstateCommitRow).values(
                        generation=generation, log_size=size, committed_at=now
                    )
                )
                return generation
        except IntegrityError as exc:
            raise StaleRevisionError(f"a concurrent writer got there first: {_why(exc)}") from exc

    def append_audit(
        self, records: Sequence[AuditRecord], *, sign: HeadSigner | None = None
    ) -> SignedTreeHead | None:
        """Append audit entries on their own (a refusal, a login), with their signed head."""
        entries = prepare(records)
        with self._connect(write=True) as connection:
            return append_entries(connection, entries, sign)[1]

    # ------------------------------------------------------------------ the audit log

    @property
    def tile_height(self) -> int:
        """Levels of the Merkle tree whose nodes are stored (a NodeSource for proofs)."""
        return TILE_HEIGHT

    def stored_nodes(self, wanted: Mapping[int, Collection[int]]) -> dict[tuple[int, int], bytes]:
        """Stored leaf hashes and tile nodes (a NodeSource for proofs)."""
        with self._connect(write=False) as connection:
            return stored_nodes(connection, wanted)

    def audit_size(self) -> int:
        """How many entries the audit log holds (as its right edge records)."""
        with self._connect(write=False) as connection:
            return int(connection.execute(select(AuditLogRow.size)).scalar_one())

    def audit_heads(self) -> list[SignedTreeHead]:
        """Every stored signed tree head, by size."""
        with self._connect(write=False) as connection:
            return read_heads(connection)

    def latest_audit_head(self) -> SignedTreeHead | None:
        """The signed head of the largest size, if any."""
        with self._connect(write=False) as connection:
            heads = read_heads(connection, largest=True)
        return heads[0] if heads else None

    def audit_head_at(self, size: int) -> SignedTreeHead | None:
        """The stored signed head of exactly ``size`` entries, if any."""
        with self._connect(write=False) as connection:
            heads = read_heads(connection, size=size)
        return heads[0] if heads else None

    def audit_chunks(
        self, chunk: int = 50_000
    ) -> Iterator[tuple[list[int], list[bytes], list[bytes]]]:
        """Every entry in seq order, ``chunk`` at a time, as columns: positions, bodies and
        stored leaf hashes. Rows outside 0..size (inserted by someone) show up too.

        Reads through the driver's cursor (a server-side one on PostgreSQL) in one snapshot:
        verifying 10^6 entries must not spend its time building ORM rows.
        """
        # Bodies come back as bytes: the verifier hashes them, and decoding to text only to
        # encode again costs a tenth of the scan.
        body = "convert_to(body, 'UTF8')" if self._is_postgres else "CAST(body AS BLOB)"
        query = f"SELECT seq, {body}, leaf_hash FROM audit_entries ORDER BY seq"  # noqa: S608
        try:
            with self._engine.connect() as connection:
                driver = connection.connection.driver_connection
                if driver is None:  # pragma: no cover - a pooled connection always has one
                    raise StoreUnavailableError(f"store {self.url} has no driver connection")
                named = {"name": "tenantry_audit_scan"} if self._is_postgres else {}
                cursor = driver.cursor(**named)
                try:
                    cursor.execute(query)
                    while rows := cursor.fetchmany(chunk):
                        seqs, bodies, hashes = zip(*rows, strict=True)
                        yield list(seqs), [bytes(b) for b in bodies], list(hashes)
                finally:
                    cursor.close()
        except SQLAlchemyError as exc:
            raise StoreUnavailableError(f"store {self.url} failed: {_why(exc)}") from exc

    def log_size_at(self, generation: int) -> int | None:
        """How long the audit log was right after ``generation`` was committed."""
        with self._connect(write=False) as connection:
            size = connection.execute(
                select(EstateCommitRow.log_size).where(EstateCommitRow.generation == generation)
            ).scalar_one_or_none()
        return None if size is None else int(size)

    def snapshot_at(self, generation: int) -> list[tuple[Kind, Ref, dict[str, Any]]]:
        """Every object as it was right after ``generation`` was committed (from history)."""
        history = EstateHistoryRow
        latest = (
            select(
                history.kind,
                history.owner,
                history.name,
                func.max(history.generation).label("g"),
            )
            .where(history.generation <= generation)
            .group_by(history.kind, history.owner, history.name)
            .subquery()
        )
        query = (
            select(history.kind, history.owner, history.name, history.body)
            .join(
                latest,
                and_(
                    history.kind == latest.c.kind,
                    history.owner == latest.c.owner,
                    history.name == latest.c.name,
                    history.generation == latest.c.g,
                ),
            )
            .where(history.body.is_not(None))
            .order_by(history.kind, history.owner, history.name)
        )
        with self._connect(write=False) as connection:
            rows = connection.execute(query).all()
        return [(Kind(k), Ref(o, n), dict(b)) for k, o, n, b in rows]

    def audit_entries(
        self,
        *,
        start: int = 0,
        stop: int | None = None,
        tenant: str | None = None,
        last: int | None = None,
    ) -> list[StoredAuditEntry]:
        """Entries with ``start <= seq < stop``, only those concerning ``tenant`` if given, only
        the ``last`` ones if given; in seq order."""
        query = select(AuditEntryRow.seq, AuditEntryRow.body, AuditEntryRow.leaf_hash).where(
            AuditEntryRow.seq >= start
        )
        if stop is not None:
            query = query.where(AuditEntryRow.seq < stop)
        if tenant is not None:
            query = query.join(AuditTenantRow, AuditTenantRow.seq == AuditEntryRow.seq).where(
                AuditTenantRow.tenant == tenant
            )
        if last is not None:
            query = query.order_by(AuditEntryRow.seq.desc()).limit(last)
        else:
            query = query.order_by(AuditEntryRow.seq)
        with self._connect(write=False) as connection:
            rows = connection.execute(query).all()
        entries = [StoredAuditEntry(int(s), b.encode(), bytes(h)) for s, b, h in rows]
        return entries[::-1] if last is not None else entries


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


def _is_storage_full(exc: OperationalError) -> bool:
    original = getattr(exc, "orig", None)
    # SQLITE_FULL is 13; PostgreSQL reports disk_full as SQLSTATE 53100.
    return getattr(original, "sqlite_errorcode", None) == 13 or (
        getattr(original, "sqlstate", None) == "53100"
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _why(exc: SQLAlchemyError) -> str:
    # The driver's first line says what failed without echoing parameters (which may hold secrets).
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).splitlines()
    return text[0][:300] if text else exc.__class__.__name__
