"""Reading the whole audit log fast, for verification: column scans through the driver.

Verifying 10^6 entries must not spend its time building rows: bodies come back one column
per query, and the stored leaf hashes of a range as one value the database concatenates
(``group_concat`` on SQLite, ``string_agg`` on PostgreSQL). Row by row (position, body,
hash) is only the fallback for a log whose numbering is broken or whose hashes have the
wrong size, which the verifier must then see entry by entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection

from tenantry.audit import HASH_SIZE
from tenantry.store.audit_pages import PAGE_BYTES, PAGE_LEAVES, read_pages

__all__ = ["ChunkVisitor", "LogQueries", "scan_entries", "scan_leaf_hashes"]

ChunkVisitor = Callable[[Sequence[int], list[bytes], bytes | list[bytes]], None]
"""Takes entries in seq order: positions, bodies, and the stored leaf hashes (joined end to
end, or one per entry)."""


class LogQueries:
    """The scans, in one database's SQL; ``by_rowid``: SQLite ranges by rowid (see
    ``ALIGNED``), else by seq."""

    ALIGNED = "SELECT count(*) FROM audit_entries WHERE seq != rowid - 1"
    """SQLite keeps ``seq`` in an index beside the table (a BIGINT key is no rowid alias), so
    a scan by seq pays an index lookup per row; appends insert in seq order, so normally
    rowid = seq + 1, and then ranges of rowid read the table straight through."""

    def __init__(self, *, postgres: bool, by_rowid: bool = False) -> None:
        if postgres:
            body = "convert_to(body, 'UTF8')"
            joined = "string_agg(leaf_hash, ''::bytea ORDER BY seq)"
            mark = "%s"
        else:
            # group_concat keeps the order of the sorted subquery it reads (SQLite 3.40 has no
            # ORDER BY inside aggregates); a wrong order could only raise a false alarm.
            body = "CAST(body AS BLOB)"
            joined = "CAST(group_concat(leaf_hash, x'') AS BLOB)"
            mark = "?"
        order = "rowid" if by_rowid else "seq"
        # Ranges [start, stop) of seq; by rowid (= seq + 1) the same rows.
        where = (
            f"WHERE rowid > {mark} AND rowid <= {mark}"
            if by_rowid
            else f"WHERE seq >= {mark} AND seq < {mark}"
        )
        self.numbering = "SELECT count(*), min(seq), max(seq) FROM audit_entries"
        self.bodies = f"SELECT {body} FROM audit_entries {where} ORDER BY {order}"  # noqa: S608
        self.hashes = f"SELECT leaf_hash FROM audit_entries {where} ORDER BY {order}"  # noqa: S608
        self.rows = f"SELECT seq, {body}, leaf_hash FROM audit_entries ORDER BY seq"  # noqa: S608
        if postgres:
            self.joined = f"SELECT {joined} FROM audit_entries {where}"  # noqa: S608
        else:
            self.joined = (
                f"SELECT {joined} FROM "  # noqa: S608
                f"(SELECT leaf_hash FROM audit_entries {where} ORDER BY {order})"
            )

    @classmethod
    def choose(cls, connection: Connection) -> LogQueries:
        """The fastest scans that read this log in seq order."""
        if connection.dialect.name == "postgresql":
            return cls(postgres=True)
        misplaced = connection.exec_driver_sql(cls.ALIGNED).scalar_one()
        return cls(postgres=False, by_rowid=misplaced == 0)


def _cursor(connection: Connection) -> Any:
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a checked-out connection always has one
        raise RuntimeError("no driver connection")
    return driver.cursor()


def _blob(value: bytes | str) -> bytes:
    """A stored hash as bytes (SQLite keeps what an UPDATE wrote, text included)."""
    return value.encode() if isinstance(value, str) else bytes(value)


def _numbering(cursor: Any, sql: LogQueries) -> tuple[int, int, int]:
    cursor.execute(sql.numbering)
    count, low, high = cursor.fetchone()
    return int(count), int(low or 0), int(high if high is not None else -1)


def scan_entries(
    connection: Connection, sql: LogQueries, visit: ChunkVisitor, chunk: int
) -> int | None:
    """Every entry, in seq order, ``chunk`` at a time, to ``visit``; how many there were if
    they are numbered 0, 1, 2, ... without a gap (else None)."""
    cursor = _cursor(connection)
    try:
        count, low, high = _numbering(cursor, sql)
        if low != 0 or high != count - 1:
            # Rows removed or added: positions must be seen one by one.
            cursor.execute(sql.rows)
            while rows := cursor.fetchmany(chunk):
                seqs, blobs, hashes = zip(*rows, strict=True)
                visit(list(seqs), list(blobs), [_blob(h) for h in hashes])
            return None
        for start in range(0, count, chunk):
            stop = min(start + chunk, count)
            cursor.execute(sql.bodies, (start, stop))
            bodies: list[bytes] = [body for (body,) in cursor.fetchall()]
            cursor.execute(sql.joined, (start, stop))
            joined: bytes | list[bytes] = bytes(cursor.fetchone()[0] or b"")
            if len(joined) != HASH_SIZE * (stop - start):
                # A stored hash of the wrong size would shift every later one: compare singly.
                cursor.execute(sql.hashes, (start, stop))
                joined = [_blob(h) for (h,) in cursor.fetchall()]
            visit(range(start, stop), bodies, joined)
        return count
    finally:
        cursor.close()


def scan_leaf_hashes(connection: Connection, chunk: int) -> Iterator[bytes]:
    """Every stored leaf hash in seq order, joined end to end: from the pages where they are
    whole, else ``chunk`` positions at a time from the entries."""
    sql = LogQueries(postgres=connection.dialect.name == "postgresql")
    cursor = _cursor(connection)
    try:
        count, low, high = _numbering(cursor, sql)
        if count and (low != 0 or high != count - 1):
            # Numbering broken: the entries as they are, in seq order (no page can match).
            for start in range(low, high + 1, chunk):
                cursor.execute(sql.joined, (start, start + chunk))
                yield bytes(cursor.fetchone()[0] or b"")
            return
        pages = read_pages(connection, count // PAGE_LEAVES)
        done = 0
        for page in range(count // PAGE_LEAVES):
            data = pages.get(page)
            if data is None or len(data) != PAGE_BYTES:
                continue
            if done < page * PAGE_LEAVES:
                yield from _joined(cursor, sql, done, page * PAGE_LEAVES, chunk)
            yield data
            done = (page + 1) * PAGE_LEAVES
        yield from _joined(cursor, sql, done, count, chunk)
    finally:
        cursor.close()


def _joined(cursor: Any, sql: LogQueries, start: int, stop: int, chunk: int) -> Iterator[bytes]:
    for low in range(start, stop, chunk):
        cursor.execute(sql.joined, (low, min(low + chunk, stop)))
        yield bytes(cursor.fetchone()[0] or b"")
