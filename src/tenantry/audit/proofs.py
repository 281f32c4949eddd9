"""Building inclusion and consistency proofs from stored subtree hashes (tiles).

A log stores its leaf hashes and, every ``tile_height`` levels, the roots of the complete
subtrees at that level. Any other node is folded from at most ``2**(tile_height - 1)`` stored
nodes of the level below, so a proof costs one batched read and a few dozen hashes,
whatever the size of the log.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from tenantry.audit.merkle import (
    EMPTY_ROOT,
    TreeLevels,
    node_hash,
    perfect_cover,
    split_point,
)

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "MemoryNodes",
    "NodeSource",
    "consistency_ranges",
    "inclusion_ranges",
    "prove_consistency",
    "prove_inclusion",
    "range_hashes",
]

Node = tuple[int, int]
"""A perfect subtree (level, index): the ``2**level`` leaves from ``index * 2**level`` on."""


class NodeSource(Protocol):
    """Where stored subtree hashes come from (the store, or memory)."""

    @property
    def tile_height(self) -> int:
        """Levels 0, h, 2h, ... are stored; others are folded from the stored level below."""
        ...

    def stored_nodes(self, wanted: Mapping[int, Collection[int]]) -> Mapping[Node, bytes]:
        """The stored hashes of the nodes ``{level: indexes}``; every one must be present."""
        ...


@dataclass(frozen=True)
class InclusionProof:
    """An audit path showing that leaf ``index`` is in the tree of ``size`` leaves."""

    index: int
    size: int
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, object]:
        return {"index": self.index, "size": self.size, "path": [p.hex() for p in self.path]}


@dataclass(frozen=True)
class ConsistencyProof:
    """Nodes showing that the tree of ``new_size`` leaves extends the one of ``old_size``."""

    old_size: int
    new_size: int
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "path": [p.hex() for p in self.path],
        }


class MemoryNodes:
    """A node source over TreeLevels held in memory (every level is stored)."""

    tile_height = 1

    def __init__(self, levels: TreeLevels) -> None:
        self.levels = levels

    def stored_nodes(self, wanted: Mapping[int, Collection[int]]) -> Mapping[Node, bytes]:
        return {
            (level, index): self.levels.node(level, index)
            for level, indexes in wanted.items()
            for index in indexes
        }


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs make the audit path of ``index`` (RFC 9162 PATH), bottom up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    outer: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            outer.append((lo + k, hi))
            hi = lo + k
        else:
            outer.append((lo, lo + k))
            lo += k
    return outer[::-1]


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs make the consistency proof (RFC 9162 SUBPROOF), bottom up."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    outer: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                outer.append((lo, hi))
            break
        k = split_point(n)
        if m <= k:
            outer.append((lo + k, hi))
            hi = lo + k
        else:
            outer.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    return outer[::-1]


def range_hashes(source: NodeSource, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """MTH of each leaf range, reading every stored node needed in one batch."""
    height = source.tile_height
    covers = [perfect_cover(start, end) for start, end in ranges]
    wanted: dict[int, set[int]] = {}
    for cover in covers:
        for level, index in cover:
            base = level - level % height
            span = 1 << (level - base)
            wanted.setdefault(base, set()).update(range(index * span, (index + 1) * span))
    stored = source.stored_nodes(wanted)

    def perfect(level: int, index: int) -> bytes:
        base = level - level % height
        span = 1 << (level - base)
        row = [stored[(base, i)] for i in range(index * span, (index + 1) * span)]
        while len(row) > 1:
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        return row[0]

    hashes = []
    for cover in covers:
        if not cover:
            hashes.append(EMPTY_ROOT)
            continue
        result = perfect(*cover[-1])
        for level, index in reversed(cover[:-1]):
            result = node_hash(perfect(level, index), result)
        hashes.append(result)
    return hashes


def prove_inclusion(source: NodeSource, index: int, size: int) -> InclusionProof:
    """The inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    path = range_hashes(source, inclusion_ranges(index, size))
    return InclusionProof(index, size, tuple(path))


def prove_consistency(source: NodeSource, old_size: int, new_size: int) -> ConsistencyProof:
    """The consistency proof from the tree of ``old_size`` leaves to the one of ``new_size``."""
    path = range_hashes(source, consistency_ranges(old_size, new_size))
    return ConsistencyProof(old_size, new_size, tuple(path))
