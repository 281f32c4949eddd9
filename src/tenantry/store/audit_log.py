"""Appending to the Merkle log and reading it back, inside the store's transactions.

An append writes, in the caller's transaction: the entries and their tenant index, the
completed tiles, the new right edge, and a tree head signed over the new size. So a batch
is durable with its checkpoint or not at all, and every committed entry is covered by a
signed head.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select, update

from tenantry.audit import AuditRecord, Frontier, SignedTreeHead, TreeHead, leaf_hash
from tenantry.errors import AuditIntegrityError
from tenantry.store.audit_pages import complete_pages
from tenantry.store.audit_tables import AuditHeadRow, AuditLogRow, AuditNodeRow
from tenantry.store.tables import AuditEntryRow, AuditTenantRow

__all__ = [
    "TILE_HEIGHT",
    "HeadSigner",
    "PreparedBatch",
    "append_entries",
    "prepare",
    "read_heads",
    "stored_nodes",
]

TILE_HEIGHT = 4
"""Subtree roots are stored at levels 4, 8, 12, ...: a proof folds at most 8 nodes per step."""

HeadSigner = Callable[[int, bytes], SignedTreeHead]
"""Signs (size, root) into a tree head; the key stays with the service, never in the store."""


@dataclass(frozen=True)
class PreparedBatch:
    """Entries encoded for the inserts, column by column: canonical bodies, leaf hashes,
    times (SQLite text or datetime objects), and (offset, tenant, tenant number) triples."""

    bodies: list[str]
    hashes: list[bytes]
    times: list[datetime | str]
    tenants: list[tuple[int, str, int | None]]

    def __len__(self) -> int:
        return len(self.bodies)


def prepare(
    records: Sequence[AuditRecord], next_numbers: dict[str, int], *, sqlite: bool
) -> PreparedBatch:
    """Number each single-tenant record among its tenant's entries (from ``next_numbers``,
    advanced in place), then encode and hash it. A record naming several tenants (the
    service never writes one) is indexed under each, unnumbered."""
    batch = PreparedBatch([], [], [], [])
    for offset, record in enumerate(records):
        tenants = record.tenants
        number = None
        if len(tenants) == 1:
            number = next_numbers[tenants[0]]
            next_numbers[tenants[0]] = number + 1
            batch.tenants.append((offset, tenants[0], number))
        else:
            batch.tenants.extend((offset, tenant, None) for tenant in sorted(set(tenants)))
        body, iso = record.encode(tenant_seq=number)
        batch.bodies.append(body)
        batch.hashes.append(leaf_hash(body.encode()))
        # SQLAlchemy keeps SQLite datetimes as naive UTC text: 2024-05-01 12:00:00.000000.
        batch.times.append(f"{iso[:10]} {iso[11:26]}" if sqlite else record.time)
    return batch


_LAST_NUMBER = (
    select(AuditTenantRow.tenant_seq)
    .where(AuditTenantRow.tenant == bindparam("tenant"), AuditTenantRow.tenant_seq.is_not(None))
    .order_by(AuditTenantRow.seq.desc())
    .limit(1)
)


def append_entries(
    connection: Connection, records: Sequence[AuditRecord], sign: HeadSigner | None
) -> tuple[int, SignedTreeHead | None]:
    """Append records and their signed head; returns the new size and the head (None without
    a signer or without records)."""
    if not records:
        return int(connection.execute(select(AuditLogRow.size)).scalar_one()), None
    # The log row is the lock that serialises appends (a row lock on PostgreSQL; SQLite holds
    # its write lock from BEGIN IMMEDIATE).
    size, stored_frontier, pinned = connection.execute(
        select(AuditLogRow.size, AuditLogRow.frontier, AuditLogRow.log_id)
        .where(AuditLogRow.id == 1)
        .with_for_update()
    ).one()
    last = connection.execute(select(func.max(AuditEntryRow.seq))).scalar_one()
    if (0 if last is None else int(last) + 1) != size:
        raise AuditIntegrityError(
            f"the audit log records {size} entries but its table ends at {last}: entries were "
            "added or removed outside tenantry; run `tenantry audit verify`",
        )
    # Tenant numbers continue from the last entry of each tenant, so records are encoded
    # under the lock (a batch of 10^4 takes a few tens of milliseconds).
    numbers: dict[str, int] = {}
    for tenant in {r.tenants[0] for r in records if len(r.tenants) == 1}:
        last_number = connection.execute(_LAST_NUMBER, {"tenant": tenant}).scalar()
        numbers[tenant] = 0 if last_number is None else int(last_number) + 1
    entries = prepare(records, numbers, sqlite=connection.dialect.name == "sqlite")
    frontier = Frontier.from_bytes(int(size), bytes(stored_frontier))
    tiles = frontier.append(entries.hashes, keep_every=TILE_HEIGHT)
    _insert_entries(connection, int(size), entries)
    pages = complete_pages(connection, int(size), entries.hashes)
    if pages:
        _insert_many(connection, "audit_leaf_pages", ("page", "hashes"), pages)
    if tiles:
        _insert_many(connection, "audit_nodes", ("level", "idx", "hash"), tiles)
    head = sign(frontier.size, frontier.root()) if sign is not None else None
    if head is not None:
        if pinned is not None and pinned != head.log_id:
            raise AuditIntegrityError(
                f"the audit log is pinned to log {pinned[:16]} but the signing key is log "
                f"{head.log_id[:16]}: the key was swapped or the store belongs to another log",
                hint="Use the signing key this log was started with (TENANTRY_AUDIT_KEY).",
            )
        h = head.head
        _insert_many(
            connection,
            "audit_heads",
            ("size", "root", "timestamp", "log_id", "signature"),
            [(h.size, h.root, h.timestamp, h.log_id, head.signature)],
        )
        pinned = head.log_id
    connection.execute(
        update(AuditLogRow)
        .where(AuditLogRow.id == 1)
        .values(size=frontier.size, frontier=frontier.to_bytes(), log_id=pinned)
    )
    return frontier.size, head


def _insert_entries(connection: Connection, start: int, entries: PreparedBatch) -> None:
    seqs = range(start, start + len(entries))
    _insert_many(
        connection,
        "audit_entries",
        ("seq", "time", "body", "leaf_hash"),
        list(zip(seqs, entries.times, entries.bodies, entries.hashes, strict=True)),
    )
    if entries.tenants:
        _insert_many(
            connection,
            "audit_tenants",
            ("seq", "tenant", "tenant_seq"),
            [(start + offset, tenant, number) for offset, tenant, number in entries.tenants],
        )


def _insert_many(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    # Straight to the driver's executemany: group commits write 10^4-10^5 rows at a time and
    # the ORM-level parameter processing would cost more than the inserts themselves.
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608 - fixed identifiers
    connection.exec_driver_sql(sql, list(rows))


def read_heads(
    connection: Connection, *, largest: bool = False, size: int | None = None
) -> list[SignedTreeHead]:
    """Stored signed heads by size: all, only the largest, or only the one of ``size``."""
    query = select(
        AuditHeadRow.size,
        AuditHeadRow.root,
        AuditHeadRow.timestamp,
        AuditHeadRow.log_id,
        AuditHeadRow.signature,
    ).order_by(AuditHeadRow.size.desc() if largest else AuditHeadRow.size)
    if largest:
        query = query.limit(1)
    if size is not None:
        query = query.where(AuditHeadRow.size == size)
    return [
        SignedTreeHead(TreeHead(int(s), bytes(r), int(t), str(lid)), bytes(sig))
        for s, r, t, lid, sig in connection.execute(query)
    ]


_LEAVES = select(AuditEntryRow.seq, AuditEntryRow.leaf_hash).where(
    AuditEntryRow.seq.in_(bindparam("wanted", expanding=True))
)
_TILES = select(AuditNodeRow.idx, AuditNodeRow.hash).where(
    AuditNodeRow.level == bindparam("level"),
    AuditNodeRow.idx.in_(bindparam("wanted", expanding=True)),
)


def stored_nodes(
    connection: Connection, wanted: Mapping[int, Collection[int]]
) -> dict[tuple[int, int], bytes]:
    """Leaf hashes (level 0) and tile nodes: one query per level, each a cached statement."""
    found: dict[tuple[int, int], bytes] = {}
    for level, indexes in wanted.items():
        if not indexes:
            continue
        statement = _LEAVES if level == 0 else _TILES
        rows = connection.execute(statement, {"level": level, "wanted": list(indexes)})
        found.update(((level, int(index)), bytes(digest)) for index, digest in rows)
    missing = sum(len(v) for v in wanted.values()) - len(found)
    if missing:
        raise AuditIntegrityError(
            f"{missing} stored Merkle node(s) are missing: the log's tables were altered; "
            "run `tenantry audit verify`"
        )
    return found
