"""The Merkle tree over a disk's block table, authenticated lazily against the signed root.

Leaves are the 36-byte table entries (write sequence, nonce, GCM tag) bound to their block
number; a never-written block has the constant leaf ``UNWRITTEN``, so an empty disk of any
size has a root computed in ``height`` hashes. Nodes are read from the file only when a block
in their subtree is first touched, and are trusted only once they hash up to a node that is
already trusted (the signed root at first): a disk of terabytes opens in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from tenantry.errors import DataIntegrityError
from tenantry.keys.disk.layout import ENTRY_SIZE, Geometry

__all__ = ["EMPTY_ENTRY", "UNWRITTEN", "BlockTree", "default_nodes", "leaf_hash", "node_hash"]

EMPTY_ENTRY = bytes(ENTRY_SIZE)
UNWRITTEN = hashlib.sha256(b"\x02tenantry unwritten block").digest()
ZERO_NODE = bytes(32)


def leaf_hash(block: int, entry: bytes) -> bytes:
    """The leaf of a table entry: UNWRITTEN for an empty entry, else bound to the block number."""
    if entry == EMPTY_ENTRY:
        return UNWRITTEN
    return hashlib.sha256(b"\x00" + block.to_bytes(8, "big") + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An inner node (RFC 6962 domain separation: 0x01 for nodes, 0x00 for leaves)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def default_nodes(height: int) -> list[bytes]:
    """The hash of an all-unwritten subtree, per level 0..height."""
    nodes = [UNWRITTEN]
    for _ in range(height):
        nodes.append(node_hash(nodes[-1], nodes[-1]))
    return nodes


def subtree_root(level: int, leaves: list[bytes]) -> list[list[bytes]]:
    """Every level of the subtree over ``leaves`` (2**level of them), leaves first."""
    levels = [leaves]
    for _ in range(level):
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below), 2)])
    return levels


class BlockTree:
    """Authenticated table entries and tree nodes of one open disk.

    ``read_entries(first, count)`` returns ``count`` table entries (zeros past the last block);
    ``read_node(level, index)`` returns a stored node (zeros when untouched).
    """

    def __init__(
        self,
        geometry: Geometry,
        root: bytes,
        read_entries: Callable[[int, int], bytes],
        read_node: Callable[[int, int], bytes],
    ) -> None:
        self._geometry = geometry
        self._height = geometry.height
        self._chunk = geometry.chunk_level
        self._defaults = default_nodes(self._height)
        self._read_entries = read_entries
        self._read_node = read_node
        self._entries: dict[int, bytes] = {}
        self._nodes: dict[tuple[int, int], bytes] = {(self._height, 0): root}
        self._pending: set[int] = set()
        self._dirty_leaves: set[int] = set()
        self._dirty_nodes: set[tuple[int, int]] = set()

    # ------------------------------------------------------------------ reads

    def entry(self, block: int) -> bytes:
        """The authenticated table entry of ``block``."""
        entry = self._entries.get(block)
        if entry is None:
            self._authenticate(block >> self._chunk)
            entry = self._entries[block]
        return entry

    def root(self) -> bytes:
        """The root over every entry, including writes not yet flushed."""
        self._recompute()
        return self._nodes[(self._height, 0)]

    # ------------------------------------------------------------------ writes

    def set_entry(self, block: int, entry: bytes) -> None:
        """Record a new entry for ``block`` (its chunk is authenticated first)."""
        self.entry(block)
        self._entries[block] = entry
        self._pending.add(block)
        self._dirty_leaves.add(block)

    def take_dirty(self) -> tuple[dict[int, bytes], dict[tuple[int, int], bytes]]:
        """Entries and stored-level nodes changed since the last call, for writing back."""
        self._recompute()
        entries = {b: self._entries[b] for b in self._dirty_leaves}
        nodes = {
            key: self._nodes[key]
            for key in self._dirty_nodes
            if key[0] in self._geometry.stored_levels
        }
        self._dirty_leaves.clear()
        self._dirty_nodes.clear()
        return entries, nodes

    # ------------------------------------------------------------------ internals

    def _authenticate(self, chunk: int) -> None:
        # Pending writes change cached nodes; settle them so that comparisons see one state.
        self._recompute()
        size = 1 << self._chunk
        first = chunk * size
        raw = self._read_entries(first, size)
        entries = [raw[i * ENTRY_SIZE : (i + 1) * ENTRY_SIZE] for i in range(size)]
        levels = subtree_root(self._chunk, [leaf_hash(first + i, e) for i, e in enumerate(entries)])
        found: dict[tuple[int, int], bytes] = {}
        for level, nodes in enumerate(levels):
            base = first >> level
            for offset, value in enumerate(nodes):
                found[(level, base + offset)] = value
        # Climb until a trusted node is reached, taking untrusted siblings from the file.
        level, index, value = self._chunk, chunk, levels[-1][0]
        while (level, index) not in self._nodes:
            sibling = index ^ 1
            other = self._nodes.get((level, sibling))
            if other is None:
                other = self._stored(level, sibling)
                found[(level, sibling)] = other
            value = node_hash(value, other) if index % 2 == 0 else node_hash(other, value)
            level, index = level + 1, index >> 1
            found[(level, index)] = value
        if not hmac.compare_digest(self._nodes[(level, index)], value):
            last = min(first + size, self._geometry.block_count) - 1
            raise DataIntegrityError(
                f"blocks {first}-{last}: the block table does not match the signed root "
                "(tampered, replayed or moved blocks)"
            )
        self._nodes.update(found)
        for i, entry in enumerate(entries):
            if first + i < self._geometry.block_count:
                self._entries[first + i] = entry

    def _stored(self, level: int, index: int) -> bytes:
        value = self._read_node(level, index)
        return self._defaults[level] if value == ZERO_NODE else value

    def _recompute(self) -> None:
        # Parents are recomputed once per batch of writes, not once per write: a run of
        # sequential writes costs about two hashes per block instead of ``height``.
        if not self._pending:
            return
        for block in self._pending:
            self._nodes[(0, block)] = leaf_hash(block, self._entries[block])
        changed = {b >> 1 for b in self._pending}
        self._pending.clear()
        for level in range(1, self._height + 1):
            for index in changed:
                left = self._nodes[(level - 1, 2 * index)]
                right = self._nodes[(level - 1, 2 * index + 1)]
                self._nodes[(level, index)] = node_hash(left, right)
                self._dirty_nodes.add((level, index))
            changed = {i >> 1 for i in changed}
