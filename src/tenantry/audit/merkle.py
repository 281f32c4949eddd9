"""RFC 9162 §2.1 Merkle tree hashing, and verification of inclusion and consistency proofs.

Leaves hash as ``SHA-256(0x00 || entry)``, interior nodes as ``SHA-256(0x01 || left || right)``;
a tree of ``n`` leaves splits at the largest power of two below ``n``. Everything here is pure.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from hashlib import sha256

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "TreeLevels",
    "leaf_hash",
    "node_hash",
    "perfect_cover",
    "root_from_inclusion",
    "split_point",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256 over 0x00 and the entry bytes."""
    return sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256 over 0x01, the left and the right child."""
    return sha256(_NODE + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_cover(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect subtrees, as ``(level, index)``, whose right fold is MTH of leaves [start, end).

    ``start`` must be aligned as in every range an RFC 9162 proof names: a multiple of the
    largest power of two not above ``end - start``.
    """
    cover: list[tuple[int, int]] = []
    while start < end:
        level = (end - start).bit_length() - 1
        cover.append((level, start >> level))
        start += 1 << level
    return cover


def _level_up(level: bytes) -> bytes:
    # Slicing bytes beats a memoryview here: the slice is copied into the concatenation anyway.
    pairs = len(level) // (2 * HASH_SIZE) * 2 * HASH_SIZE
    return b"".join([sha256(_NODE + level[i : i + 64]).digest() for i in range(0, pairs, 64)])


class TreeLevels:
    """Every perfect subtree hash of a list of leaves, level by level, computed in one pass.

    ``levels[0]`` holds the leaf hashes end to end; ``levels[l]`` the roots of the complete
    subtrees of ``2**l`` leaves. Any root or proof over a prefix is then a few lookups.
    """

    def __init__(self, leaf_hashes: bytes) -> None:
        if len(leaf_hashes) % HASH_SIZE:
            raise ValueError("leaf hashes must be a multiple of 32 bytes")
        self.levels: list[bytes] = [bytes(leaf_hashes)]
        while len(self.levels[-1]) >= 2 * HASH_SIZE:
            self.levels.append(_level_up(self.levels[-1]))

    @classmethod
    def of(cls, leaf_hashes: Sequence[bytes]) -> TreeLevels:
        """The levels over a sequence of 32-byte leaf hashes."""
        return cls(b"".join(leaf_hashes))

    @property
    def size(self) -> int:
        """How many leaves."""
        return len(self.levels[0]) // HASH_SIZE

    def node(self, level: int, index: int) -> bytes:
        """The root of the perfect subtree of 2**level leaves from leaf index * 2**level."""
        data = self.levels[level]
        offset = index * HASH_SIZE
        if offset + HASH_SIZE > len(data):
            raise IndexError(f"no complete subtree at level {level}, index {index}")
        return data[offset : offset + HASH_SIZE]

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end) (an aligned range, as in proofs)."""
        cover = perfect_cover(start, end)
        if not cover:
            return EMPTY_ROOT
        result = self.node(*cover[-1])
        for level, index in reversed(cover[:-1]):
            result = node_hash(self.node(level, index), result)
        return result

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree over the first ``size`` leaves (all of them by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise IndexError(f"tree size {size} outside 0..{self.size}")
        return self.range_hash(0, size)


def root_from_inclusion(
    entry_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or None if it is malformed."""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof):
        return None
    fn, sn, result = index, size - 1, entry_hash
    for sibling in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return result if sn == 0 else None


def verify_inclusion(
    entry_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf ``entry_hash`` at ``index`` in the tree ``(size, root)``."""
    found = root_from_inclusion(entry_hash, index, size, proof)
    return found is not None and hmac.compare_digest(found, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows that tree ``(new_size, new_root)`` extends ``(old_size, old_root)``
    (RFC 9162 §2.1.4.2)."""
    if not 0 <= old_size <= new_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == 0:
        # Every tree extends the empty one; only the empty tree's root is accepted for it.
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT)
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for step in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first = node_hash(step, first)
            second = node_hash(step, second)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, step)
        fn >>= 1
        sn >>= 1
    return (
        sn == 0 and hmac.compare_digest(first, old_root) and hmac.compare_digest(second, new_root)
    )
