"""Leaf hashes in fixed pages: 1024 consecutive leaf hashes in one 32 KiB row.

Rebuilding the tree of 10^6 entries (a tenant's bulk proofs, the structural check) reads 977
rows instead of 10^6. A page is written once, by the append that completes it, in the same
transaction; the entries' own ``leaf_hash`` column stays the record. Like the stored subtree
nodes, pages are never trusted: verification compares them with the entries, and a proof
built from a forged page fails against the signed head.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, select

from tenantry.audit import HASH_SIZE
from tenantry.store.audit_tables import AuditLeafPageRow
from tenantry.store.tables import AuditEntryRow

__all__ = ["PAGE_BYTES", "PAGE_LEAVES", "complete_pages", "read_pages"]

PAGE_LEAVES = 1024
PAGE_BYTES = PAGE_LEAVES * HASH_SIZE


def complete_pages(
    connection: Connection, start: int, hashes: Sequence[bytes]
) -> list[tuple[int, bytes]]:
    """The pages that appending ``hashes`` at position ``start`` completes, as (page, bytes);
    stale pages from there on (a log truncated outside tenantry) are dropped first."""
    end = start + len(hashes)
    first = start // PAGE_LEAVES
    if end // PAGE_LEAVES == first:
        return []
    connection.execute(delete(AuditLeafPageRow).where(AuditLeafPageRow.page >= first))
    pages = []
    for page in range(first, end // PAGE_LEAVES):
        low, high = page * PAGE_LEAVES, (page + 1) * PAGE_LEAVES
        earlier = b""
        if low < start:  # only the first page can begin before this batch
            earlier = b"".join(
                bytes(h)
                for h in connection.execute(
                    select(AuditEntryRow.leaf_hash)
                    .where(AuditEntryRow.seq >= low, AuditEntryRow.seq < start)
                    .order_by(AuditEntryRow.seq)
                ).scalars()
            )
        pages.append((page, earlier + b"".join(hashes[max(low - start, 0) : high - start])))
    return pages


def read_pages(connection: Connection, count: int) -> dict[int, bytes]:
    """The stored pages below ``count`` pages, by number (missing ones are absent)."""
    rows = connection.execute(
        select(AuditLeafPageRow.page, AuditLeafPageRow.hashes).where(AuditLeafPageRow.page < count)
    )
    return {int(page): bytes(data) for page, data in rows}
