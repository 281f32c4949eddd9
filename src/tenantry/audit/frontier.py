"""The right edge of a growing Merkle tree: enough to append leaves and compute the root.

For a tree of ``size`` leaves the frontier holds the roots of the perfect subtrees of its
binary decomposition, largest first (at most 64 hashes). Appending a leaf merges equal-sized
subtrees, so appends cost one hash per leaf on average and never read old leaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import sha256

from tenantry.audit.merkle import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = ["Frontier"]


class Frontier:
    """The perfect-subtree roots on the right edge of a tree of ``size`` leaves."""

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if size < 0 or len(self.hashes) != size.bit_count():
            raise ValueError(f"a frontier of size {size} has {size.bit_count()} hashes")

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        """The frontier stored as its hashes end to end."""
        if len(data) != HASH_SIZE * size.bit_count():
            raise ValueError(f"stored frontier of size {size} has {len(data)} bytes")
        return cls(size, [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)])

    def to_bytes(self) -> bytes:
        """The hashes end to end."""
        return b"".join(self.hashes)

    def append(
        self, leaf_hashes: Iterable[bytes], *, keep_every: int = 0
    ) -> list[tuple[int, int, bytes]]:
        """Add leaves; returns the completed subtrees ``(level, index, hash)`` whose level is a
        positive multiple of ``keep_every`` (the tiles a store keeps), or none if it is 0."""
        stack = self.hashes
        size = self.size
        kept: list[tuple[int, int, bytes]] = []
        for leaf in leaf_hashes:
            size += 1
            if size & 1:
                # An odd size completes no subtree: half of all appends stop here.
                stack.append(leaf)
                continue
            node = sha256(b"\x01" + stack.pop() + leaf).digest()
            level, rest = 1, size >> 1
            while True:
                if keep_every and level % keep_every == 0:
                    kept.append((level, (size >> level) - 1, node))
                if rest & 1:
                    break
                node = sha256(b"\x01" + stack.pop() + node).digest()
                level += 1
                rest >>= 1
            stack.append(node)
        self.size = size
        return kept

    def root(self) -> bytes:
        """The tree's root (RFC 9162 MTH)."""
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            result = node_hash(left, result)
        return result
