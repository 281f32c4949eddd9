"""The disk header and the Merkle tree: canonical bytes, located errors, lazy authentication."""

from __future__ import annotations

import contextlib
import hashlib
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantry.errors import DataIntegrityError, InputError
from tenantry.keys.disk import DiskIdentity, Geometry, empty_header
from tenantry.keys.disk.layout import HEADER_SIZE, decode_header, encode_header
from tenantry.keys.disk.tree import EMPTY_ENTRY, BlockTree, default_nodes, leaf_hash, node_hash

IDENTITY = DiskIdentity("acme", "web", "root", "ab" * 16)
SIGNER = "sha256:" + "00" * 32


def _reframe(raw: bytes, old: bytes, new: bytes) -> bytes:
    """Edit the JSON body and fix the length field, as a careful forger would."""
    length = int.from_bytes(raw[8:12], "big")
    body = raw[12 : 12 + length].replace(old, new)
    framed = raw[:8] + len(body).to_bytes(4, "big") + body
    return framed + bytes(HEADER_SIZE - len(framed))


def _naive_root(geometry: Geometry, entries: dict[int, bytes]) -> bytes:
    level = [leaf_hash(i, entries.get(i, EMPTY_ENTRY)) for i in range(1 << geometry.height)]
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class _File:
    """A block table and node store in memory, as the image file would hold them."""

    def __init__(self, geometry: Geometry) -> None:
        self.geometry = geometry
        self.entries: dict[int, bytes] = {}
        self.nodes: dict[tuple[int, int], bytes] = {}

    def read_entries(self, first: int, count: int) -> bytes:
        return b"".join(self.entries.get(i, EMPTY_ENTRY) for i in range(first, first + count))

    def read_node(self, level: int, index: int) -> bytes:
        return self.nodes.get((level, index), bytes(32))


def test_header_round_trips_through_its_bytes() -> None:
    """encode then decode gives the same header, in exactly 4096 bytes."""
    header = empty_header(IDENTITY, size=10 << 20, block_size=4096, signer=SIGNER)
    raw = encode_header(header)
    assert len(raw) == HEADER_SIZE
    assert decode_header(raw, source="h") == header


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: b"NOTADISK" + r[8:], "bad magic"),
        (lambda r: r[:7] + b"\x02" + r[8:], "format 2"),
        (lambda r: r[:8] + b"\x00\x00\xff\xff" + r[12:], "overruns"),
        (lambda r: r[:-1] + b"\x01", "not zero"),
        (lambda r: _reframe(r, b'"generation":0', b'"generation":-1'), "generation"),
        (lambda r: _reframe(r, b'"block_size":4096', b'"block_size":4097'), "block_size"),
        (lambda r: _reframe(r, b'"format":1', b'"format":1,"extra":1'), "extra"),
        (lambda r: _reframe(r, b'{"block_count"', b'{ "block_count"'), "canonical"),
        (lambda r: _reframe(r, b"{", b"["), "not JSON"),
        (lambda r: r[:100], "shorter"),
    ],
)
def test_malformed_header_says_what_is_wrong(change, message: str) -> None:  # type: ignore[no-untyped-def]
    """Each kind of malformed header is a DataIntegrityError naming the problem."""
    raw = encode_header(empty_header(IDENTITY, size=1 << 20, block_size=4096, signer=SIGNER))
    with pytest.raises(DataIntegrityError, match=message):
        decode_header(change(raw), source="h")


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=HEADER_SIZE + 10))
def test_arbitrary_bytes_are_never_a_crash(raw: bytes) -> None:
    """Any bytes give a header or a DataIntegrityError, never another exception."""
    with contextlib.suppress(DataIntegrityError):
        decode_header(b"TNTYDSK\x01" + raw, source="fuzz")


def test_bad_geometry_is_refused_before_anything_is_written() -> None:
    """Block sizes that are not powers of two, and empty disks, are input errors."""
    with pytest.raises(InputError, match="power of two"):
        empty_header(IDENTITY, size=1 << 20, block_size=5000, signer=SIGNER)
    with pytest.raises(InputError, match="positive"):
        empty_header(IDENTITY, size=0, block_size=4096, signer=SIGNER)


def test_empty_root_is_the_default_node_of_the_tree_height() -> None:
    """An empty disk's root takes height hashes and equals the naive computation."""
    geometry = Geometry(4096, 1000)
    header = empty_header(IDENTITY, size=1000 * 4096, block_size=4096, signer=SIGNER)
    assert bytes.fromhex(header.root) == default_nodes(geometry.height)[-1]
    assert bytes.fromhex(header.root) == _naive_root(geometry, {})


@pytest.mark.parametrize("count", [1, 2, 127, 128, 129, 1000])
def test_incremental_updates_match_the_naive_root(count: int) -> None:
    """Writes in any order give the root a full recomputation gives, at every size."""
    geometry = Geometry(4096, count)
    store = _File(geometry)
    tree = BlockTree(
        geometry, default_nodes(geometry.height)[-1], store.read_entries, store.read_node
    )
    expected: dict[int, bytes] = {}
    for block in sorted({(i * 7919) % count for i in range(min(count, 50))}):
        entry = os.urandom(36)
        tree.set_entry(block, entry)
        expected[block] = entry
        assert tree.entry(block) == entry
    assert tree.root() == _naive_root(geometry, expected)


def test_written_back_state_authenticates_in_a_fresh_tree() -> None:
    """What take_dirty returns, stored, authenticates against the new root."""
    geometry = Geometry(4096, 5000)
    store = _File(geometry)
    tree = BlockTree(
        geometry, default_nodes(geometry.height)[-1], store.read_entries, store.read_node
    )
    for block in (0, 1, 300, 4999):
        tree.set_entry(block, hashlib.sha256(bytes([block % 256])).digest()[:36].ljust(36, b"x"))
    root = tree.root()
    entries, nodes = tree.take_dirty()
    store.entries.update(entries)
    store.nodes.update(nodes)
    fresh = BlockTree(geometry, root, store.read_entries, store.read_node)
    assert fresh.entry(4999) == entries[4999]
    assert fresh.entry(2500) == EMPTY_ENTRY


def test_tampered_entry_or_node_fails_authentication() -> None:
    """A changed entry fails its chunk; a changed stored node fails the paths that use it."""
    geometry = Geometry(4096, 5000)
    store = _File(geometry)
    tree = BlockTree(
        geometry, default_nodes(geometry.height)[-1], store.read_entries, store.read_node
    )
    tree.set_entry(10, b"e" * 36)
    tree.set_entry(4000, b"f" * 36)
    root = tree.root()
    entries, nodes = tree.take_dirty()
    store.entries.update(entries)
    store.nodes.update(nodes)
    store.entries[10] = b"g" * 36
    fresh = BlockTree(geometry, root, store.read_entries, store.read_node)
    with pytest.raises(DataIntegrityError, match="blocks 0-127"):
        fresh.entry(10)
    assert fresh.entry(4000) == b"f" * 36
    # The node over chunks 16-31 is a sibling on chunk 0's path: block 10 cannot be trusted.
    store.entries[10] = b"e" * 36
    level = geometry.chunk_level + 4
    store.nodes[(level, 1)] = b"z" * 32
    fresh = BlockTree(geometry, root, store.read_entries, store.read_node)
    with pytest.raises(DataIntegrityError):
        fresh.entry(10)
    assert fresh.entry(4000) == b"f" * 36
