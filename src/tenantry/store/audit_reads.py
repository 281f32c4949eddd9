"""Reading the audit log back: entries, heads, tiles for proofs, and the estate's history.

A mixin of Store: every read runs in the store's own read transactions.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from tenantry.audit import AuditRecord, SignedTreeHead
from tenantry.errors import StoreUnavailableError
from tenantry.model import Kind, Ref
from tenantry.store.audit_log import TILE_HEIGHT, read_heads, stored_nodes
from tenantry.store.audit_pages import PAGE_LEAVES, read_pages
from tenantry.store.audit_scan import ChunkVisitor, LogQueries, scan_entries, scan_leaf_hashes
from tenantry.store.audit_tables import AuditLogRow, EstateCommitRow, EstateHistoryRow
from tenantry.store.engine import describe
from tenantry.store.tables import AuditEntryRow, AuditTenantRow

__all__ = ["AuditReads", "LogScan", "StoredAuditEntry"]


@dataclass(frozen=True)
class LogScan:
    """What a verification reads besides the entries: the signed heads, and the stored pages
    of leaf hashes (by number, ``PAGE_LEAVES`` to a page) to check against the entries."""

    heads: list[SignedTreeHead]
    pages: dict[int, bytes]


@dataclass(frozen=True)
class StoredAuditEntry:
    """An audit entry as stored: its index in the log, its canonical bytes and leaf hash."""

    seq: int
    body: bytes
    leaf_hash: bytes

    def record(self) -> AuditRecord:
        """The decoded record."""
        return AuditRecord.from_json(json.loads(self.body))


class AuditReads:
    """The audit-log half of Store (it provides the engine and the read transactions)."""

    _engine: Engine
    _is_postgres: bool
    url: str

    def _connect(self, *, write: bool) -> AbstractContextManager[Connection]:
        raise NotImplementedError  # pragma: no cover - Store implements it

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
        stored leaf hashes. Rows outside 0..size (inserted by someone) show up too."""
        # Bodies come back as bytes: the verifier hashes them, and decoding to text only to
        # encode again costs a tenth of the scan.
        body = "convert_to(body, 'UTF8')" if self._is_postgres else "CAST(body AS BLOB)"
        query = f"SELECT seq, {body}, leaf_hash FROM audit_entries ORDER BY seq"  # noqa: S608
        for rows in self._scan(query, chunk):
            seqs, bodies, hashes = zip(*rows, strict=True)
            yield list(seqs), list(bodies), list(hashes)

    def leaf_hashes(self, chunk: int = 1 << 20) -> bytes:
        """Every stored leaf hash, in seq order, end to end (to build a tree in memory)."""
        with self._snapshot() as connection:
            return b"".join(scan_leaf_hashes(connection, chunk))

    def scan_log(self, visit: ChunkVisitor, chunk: int = 100_000) -> LogScan:
        """Hand every entry to ``visit`` in seq order, ``chunk`` at a time (positions, bodies,
        stored leaf hashes); the signed heads and leaf pages, all read in one snapshot."""
        with self._snapshot() as connection:
            heads = read_heads(connection)
            count = scan_entries(connection, LogQueries.choose(connection), visit, chunk)
            pages = {} if count is None else read_pages(connection, count // PAGE_LEAVES)
        return LogScan(heads, pages)

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """One read transaction that sees one state of the log across several queries."""
        options: dict[str, Any] = (
            {"isolation_level": "REPEATABLE READ"}
            if self._is_postgres
            else {"tenantry_write": False}
        )
        dbapi_error = self._engine.dialect.loaded_dbapi.Error
        try:
            with (
                self._engine.connect().execution_options(**options) as connection,
                connection.begin(),
            ):
                yield connection
        except SQLAlchemyError as exc:
            raise StoreUnavailableError(f"store {self.url} failed: {describe(exc)}") from exc
        except dbapi_error as exc:
            # Driver cursors (the column scans) raise the driver's own errors.
            raise StoreUnavailableError(f"store {self.url} failed: {exc}") from exc

    def _scan(self, query: str, chunk: int) -> Iterator[list[Any]]:
        """Rows of ``query``, ``chunk`` at a time, through the driver's own cursor (a
        server-side one on PostgreSQL), in one snapshot: scanning 10^6 entries must not spend
        its time building ORM rows."""
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
                        yield rows
                finally:
                    cursor.close()
        except SQLAlchemyError as exc:
            raise StoreUnavailableError(f"store {self.url} failed: {describe(exc)}") from exc

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
