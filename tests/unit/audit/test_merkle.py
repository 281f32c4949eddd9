"""RFC 9162 hashing, proofs and their verification: published vectors and a brute-force oracle."""

from __future__ import annotations

import pytest

from tenantry.audit.frontier import Frontier
from tenantry.audit.merkle import (
    EMPTY_ROOT,
    TreeLevels,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from tenantry.audit.proofs import MemoryNodes, prove_consistency, prove_inclusion
from tests.unit.audit import rfc_reference as rfc

# The RFC 6962 test vectors of the Certificate Transparency reference implementation
# (merkle_tree_test.cc, reused by trillian): leaves, the root after each, and some proofs.
LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
]  # fmt: skip
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
INCLUSION = [
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


def _source(leaves: list[bytes]) -> MemoryNodes:
    return MemoryNodes(TreeLevels.of([leaf_hash(x) for x in leaves]))


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    """MTH of no leaves is SHA-256 of the empty string."""
    assert TreeLevels(b"").root() == EMPTY_ROOT == rfc.mth([])


@pytest.mark.parametrize("size", range(1, 9))
def test_root_matches_the_published_vector(size: int) -> None:
    """Every prefix of the CT vectors hashes to the published root, in memory and incrementally."""
    assert TreeLevels.of([leaf_hash(x) for x in LEAVES[:size]]).root() == ROOTS[size - 1]
    frontier = Frontier()
    frontier.append(leaf_hash(x) for x in LEAVES[:size])
    assert frontier.root() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proof_matches_the_published_vector(
    index: int, size: int, path: list[str]
) -> None:
    """The audit path is the published one, and it verifies against the published root."""
    proof = prove_inclusion(_source(LEAVES[:size]), index, size)
    assert [p.hex() for p in proof.path] == path
    assert verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof.path, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proof_matches_the_published_vector(
    old: int, new: int, path: list[str]
) -> None:
    """The consistency proof is the published one, and it verifies between the published roots."""
    proof = prove_consistency(_source(LEAVES[:new]), old, new)
    assert [p.hex() for p in proof.path] == path
    assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof.path)


def test_proofs_equal_the_rfc_definitions_for_every_small_tree() -> None:
    """For trees of 1..40 leaves, every proof equals PATH/PROOF computed literally, and verifies."""
    leaves = [i.to_bytes(2, "big") for i in range(40)]
    for size in range(1, 41):
        source = _source(leaves[:size])
        root = rfc.mth(leaves[:size])
        assert TreeLevels.of([leaf_hash(x) for x in leaves[:size]]).root() == root
        for index in range(size):
            path = prove_inclusion(source, index, size).path
            assert list(path) == rfc.path(index, leaves[:size])
            assert verify_inclusion(leaf_hash(leaves[index]), index, size, path, root)
        for old in range(1, size + 1):
            path = prove_consistency(source, old, size).path
            assert list(path) == rfc.proof(old, leaves[:size])
            assert verify_consistency(old, size, rfc.mth(leaves[:old]), root, path)


def test_tiled_node_source_gives_the_same_proofs_as_memory() -> None:
    """Proofs folded from tiles of height 4 equal the ones read from every level."""

    class Tiled(MemoryNodes):
        tile_height = 4

        def stored_nodes(self, wanted):  # type: ignore[no-untyped-def]
            assert all(level % 4 == 0 for level in wanted)
            return super().stored_nodes(wanted)

    leaves = [i.to_bytes(3, "big") for i in range(1000)]
    levels = TreeLevels.of([leaf_hash(x) for x in leaves])
    memory, tiled = MemoryNodes(levels), Tiled(levels)
    for size in (1, 2, 15, 16, 17, 255, 256, 257, 999, 1000):
        for index in {0, size // 3, size - 1}:
            assert prove_inclusion(tiled, index, size) == prove_inclusion(memory, index, size)
        for old in {1, size // 2 or 1, size - 1 or 1}:
            assert prove_consistency(tiled, old, size) == prove_consistency(memory, old, size)


def test_frontier_keeps_the_tiles_a_store_needs() -> None:
    """Appending in uneven batches yields every complete level-4 and level-8 node exactly once."""
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(700)]
    levels = TreeLevels.of(hashes)
    frontier = Frontier()
    kept = []
    for start in range(0, 700, 37):
        kept += frontier.append(hashes[start : start + 37], keep_every=4)
        assert frontier.root() == levels.root(frontier.size)
    expected = {(lv, i) for lv in (4, 8) for i in range(700 >> lv)}
    assert {(lv, i) for lv, i, _ in kept} == expected
    assert all(levels.node(lv, i) == h for lv, i, h in kept)
    restored = Frontier.from_bytes(frontier.size, frontier.to_bytes())
    assert restored.root() == frontier.root()


def test_inclusion_is_refused_for_a_wrong_index_size_or_root() -> None:
    """A valid path fails for a neighbour index, another size, or another root."""
    source = _source(LEAVES)
    path = prove_inclusion(source, 5, 8).path
    entry = leaf_hash(LEAVES[5])
    assert verify_inclusion(entry, 5, 8, path, ROOTS[7])
    assert not verify_inclusion(entry, 4, 8, path, ROOTS[7])
    assert not verify_inclusion(entry, 5, 6, path, ROOTS[7])
    assert not verify_inclusion(entry, 5, 8, path, ROOTS[6])
    assert not verify_inclusion(entry, 8, 8, path, ROOTS[7])
    assert not verify_inclusion(entry, 5, 8, path[:-1], ROOTS[7])
    assert not verify_inclusion(entry, 5, 8, (*path, path[0]), ROOTS[7])


def test_consistency_is_refused_between_unrelated_trees() -> None:
    """A consistency proof fails when either root is not the tree it claims to be."""
    path = prove_consistency(_source(LEAVES), 3, 8).path
    assert verify_consistency(3, 8, ROOTS[2], ROOTS[7], path)
    assert not verify_consistency(3, 8, ROOTS[3], ROOTS[7], path)
    assert not verify_consistency(3, 8, ROOTS[2], ROOTS[6], path)
    assert not verify_consistency(4, 8, ROOTS[2], ROOTS[7], path)
    assert not verify_consistency(8, 3, ROOTS[7], ROOTS[2], path)
    assert not verify_consistency(3, 3, ROOTS[2], ROOTS[3], ())
    assert verify_consistency(0, 8, EMPTY_ROOT, ROOTS[7], ())
    assert not verify_consistency(0, 8, ROOTS[0], ROOTS[7], ())
