"""Whole-image verification: is this file exactly what the tenant's guests last sealed?

Without the data key it checks the signature, the geometry, the Merkle root recomputed from
the block table, the stored tree nodes and that nothing but zeros sits where nothing was
written. With the data key it also authenticates every written block.
"""

from __future__ import annotations

import bisect
import errno
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from tenantry.errors import DataIntegrityError
from tenantry.keys.disk.image import EncryptedDisk
from tenantry.keys.disk.layout import (
    ENTRY_SIZE,
    HEADER_SIZE,
    DiskHeader,
    DiskIdentity,
    Geometry,
    decode_header,
    verify_header,
)
from tenantry.keys.disk.tree import (
    EMPTY_ENTRY,
    ZERO_NODE,
    default_nodes,
    leaf_hash,
    node_hash,
    subtree_root,
)
from tenantry.keys.material import DataKey

__all__ = ["DiskReport", "verify_image"]

_CHUNKS_PER_READ = 256


@dataclass(frozen=True)
class DiskReport:
    """The verdict on one image: what was checked and every problem found."""

    path: str
    header: DiskHeader | None
    written: int
    authenticated: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_image(
    path: Path,
    *,
    signing_key: bytes,
    identity: DiskIdentity | None = None,
    key: DataKey | None = None,
    min_generation: int = 0,
) -> DiskReport:
    """Check the image at ``path``; problems are reported, not raised."""
    source = str(path)
    with path.open("rb") as file:
        fd = file.fileno()
        try:
            header = decode_header(os.pread(fd, HEADER_SIZE, 0), source=source)
            verify_header(header, signing_key, source=source)
        except DataIntegrityError as exc:
            return DiskReport(source, None, 0, 0, (str(exc),))
        if identity is not None and header.identity != identity:
            return DiskReport(
                source, header, 0, 0, (f"this image is {header.identity}, not {identity}",)
            )
        problems: list[str] = []
        if header.generation < min_generation:
            problems.append(
                f"generation {header.generation} is older than the newest sealed generation "
                f"{min_generation} (rolled back)"
            )
        geometry = header.geometry
        size = os.fstat(fd).st_size
        if size != geometry.file_size:
            problems.append(f"{size} bytes, expected {geometry.file_size} (truncated or extended)")
            return DiskReport(source, header, 0, 0, tuple(problems))
        written, chunk_roots = _scan_table(fd, geometry, problems)
        computed = _fold(geometry, chunk_roots)
        root = computed.get((geometry.height, 0), default_nodes(geometry.height)[-1])
        if not hmac.compare_digest(root, bytes.fromhex(header.root)):
            problems.append("the block table does not match the signed root")
        _check_tree(fd, geometry, computed, problems)
        _check_unwritten(fd, geometry, set(written), problems)
    authenticated = 0
    if key is not None and not problems:
        with EncryptedDisk.open(
            path, key=key, identity=header.identity, signing_key=signing_key
        ) as disk:
            for block in written:
                try:
                    disk.read_block(block)
                    authenticated += 1
                except DataIntegrityError as exc:
                    problems.append(str(exc).removeprefix(f"{source}: "))
    return DiskReport(source, header, len(written), authenticated, tuple(problems))


def _scan_table(
    fd: int, geometry: Geometry, problems: list[str]
) -> tuple[list[int], dict[int, bytes]]:
    chunk_size = 1 << geometry.chunk_level
    written: list[int] = []
    roots: dict[int, bytes] = {}
    total = -(-geometry.block_count // chunk_size)
    for start in range(0, total, _CHUNKS_PER_READ):
        count = min(_CHUNKS_PER_READ, total - start)
        first = start * chunk_size
        want = min(count * chunk_size, geometry.block_count - first) * ENTRY_SIZE
        raw = os.pread(fd, want, geometry.table_offset + first * ENTRY_SIZE)
        raw += bytes(count * chunk_size * ENTRY_SIZE - len(raw))
        for chunk in range(start, start + count):
            base = (chunk - start) * chunk_size * ENTRY_SIZE
            part = raw[base : base + chunk_size * ENTRY_SIZE]
            if not any(part):
                continue
            leaves = []
            for i in range(chunk_size):
                entry = part[i * ENTRY_SIZE : (i + 1) * ENTRY_SIZE]
                block = chunk * chunk_size + i
                if entry != EMPTY_ENTRY:
                    written.append(block)
                leaves.append(leaf_hash(block, entry))
            roots[chunk] = subtree_root(geometry.chunk_level, leaves)[-1][0]
    end = geometry.table_offset + geometry.block_count * ENTRY_SIZE
    if any(os.pread(fd, geometry.tree_offset - end, end)):
        problems.append("the padding after the block table is not zero")
    return written, roots


def _fold(geometry: Geometry, chunk_roots: dict[int, bytes]) -> dict[tuple[int, int], bytes]:
    """Every non-default node from the chunk level up to the root."""
    low = geometry.chunk_level
    chunks = sorted(chunk_roots)
    computed: dict[tuple[int, int], bytes] = {(low, c): r for c, r in chunk_roots.items()}
    defaults = default_nodes(geometry.height)

    def node(level: int, index: int) -> bytes:
        span = level - low
        first, stop = index << span, (index + 1) << span
        if bisect.bisect_left(chunks, stop) == bisect.bisect_left(chunks, first):
            return defaults[level]
        if level == low:
            return chunk_roots[index]
        value = node_hash(node(level - 1, 2 * index), node(level - 1, 2 * index + 1))
        computed[(level, index)] = value
        return value

    node(geometry.height, 0)
    return computed


def _check_tree(
    fd: int, geometry: Geometry, computed: dict[tuple[int, int], bytes], problems: list[str]
) -> None:
    defaults = default_nodes(geometry.height)
    bad = 0
    for level in geometry.stored_levels:
        start = geometry.node_offset(level, 0)
        count = 1 << (geometry.height - level)
        for lo, hi in _data_extents(fd, start, start + count * 32):
            raw = os.pread(fd, hi - lo, lo)
            for offset in range(0, len(raw) - len(raw) % 32, 32):
                index = (lo - start + offset) // 32
                stored = raw[offset : offset + 32]
                expected = computed.get((level, index), defaults[level])
                if stored != ZERO_NODE and not hmac.compare_digest(stored, expected):
                    bad += 1
    if bad:
        problems.append(f"{bad} stored Merkle nodes do not match the block table")
    # node_offset(height, 0) is just past the last stored node.
    for lo, hi in _data_extents(fd, geometry.node_offset(geometry.height, 0), geometry.data_offset):
        if any(os.pread(fd, hi - lo, lo)):
            problems.append("the padding before the data blocks is not zero")
            break


def _check_unwritten(fd: int, geometry: Geometry, written: set[int], problems: list[str]) -> None:
    slot = geometry.slot_size
    dirty = 0
    for lo, hi in _data_extents(fd, geometry.data_offset, geometry.file_size):
        first = (lo - geometry.data_offset) // slot
        last = (hi - 1 - geometry.data_offset) // slot
        for block in range(first, last + 1):
            if block in written:
                continue
            if any(os.pread(fd, slot, geometry.slot_offset(block))):
                dirty += 1
    if dirty:
        problems.append(f"{dirty} never-written blocks hold non-zero bytes")


def _data_extents(fd: int, start: int, end: int) -> list[tuple[int, int]]:
    """The allocated ranges within [start, end): holes read as zeros and need no reading."""
    extents: list[tuple[int, int]] = []
    position = start
    while position < end:
        try:
            data = os.lseek(fd, position, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                break
            return [(start, end)] if start < end else []
        if data >= end:
            break
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), end)
        extents.append((data, hole))
        position = hole
    return extents
