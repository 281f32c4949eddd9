"""THREATS row 40(c): the verifier rejects every forged inclusion or consistency proof.

Hypothesis takes a genuine proof and changes one thing: a bit of a path element, an element
dropped, added or swapped, another index, size, leaf or root. A proof may only verify if it
is the genuine proof of a true statement; over >= 10^3 forgeries of each kind none does.
"""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from tenantry.audit import (
    MemoryNodes,
    TreeLevels,
    leaf_hash,
    prove_consistency,
    prove_inclusion,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(300)]
LEVELS = TreeLevels.of(LEAVES)
SOURCE = MemoryNodes(LEVELS)


def _root(size: int) -> bytes:
    return LEVELS.root(size)


@st.composite
def path_edits(draw: st.DrawFn, path: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """One change to a path: flip a bit, drop, duplicate, insert, or swap elements."""
    edits = ["insert"] + (["flip", "drop", "duplicate", "swap"] if path else [])
    edit = draw(st.sampled_from(edits))
    items = list(path)
    if edit == "insert":
        at = draw(st.integers(0, len(items)))
        items.insert(at, draw(st.binary(min_size=32, max_size=32)))
    elif edit == "flip":
        at = draw(st.integers(0, len(items) - 1))
        bit = draw(st.integers(0, 255))
        raw = bytearray(items[at])
        raw[bit // 8] ^= 1 << (bit % 8)
        items[at] = bytes(raw)
    elif edit == "drop":
        del items[draw(st.integers(0, len(items) - 1))]
    elif edit == "duplicate":
        at = draw(st.integers(0, len(items) - 1))
        items.insert(at, items[at])
    else:
        i, j = draw(st.integers(0, len(items) - 1)), draw(st.integers(0, len(items) - 1))
        items[i], items[j] = items[j], items[i]
    return tuple(items)


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_forged_inclusion_proofs_are_rejected(data: st.DataObject) -> None:
    """Only the genuine audit path of a leaf really at that index verifies."""
    size = data.draw(st.integers(1, 300), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    genuine = prove_inclusion(SOURCE, index, size).path
    assert verify_inclusion(LEAVES[index], index, size, genuine, _root(size))

    kind = data.draw(st.sampled_from(["path", "index", "size", "leaf", "root"]), label="forgery")
    leaf, claimed_index, claimed_size, path = LEAVES[index], index, size, genuine
    if kind == "path":
        path = data.draw(path_edits(genuine), label="path")
    elif kind == "index":
        claimed_index = data.draw(st.integers(0, size).filter(lambda i: i != index))
    elif kind == "size":
        claimed_size = data.draw(st.integers(1, 300).filter(lambda n: n != size))
    elif kind == "leaf":
        leaf = data.draw(st.sampled_from(LEAVES).filter(lambda h: h != LEAVES[index]))
    root = _root(claimed_size) if kind != "root" else data.draw(st.binary(min_size=32, max_size=32))

    true_statement = (
        kind != "root"
        and claimed_index < claimed_size
        and leaf == LEAVES[claimed_index]
        and path == prove_inclusion(SOURCE, claimed_index, claimed_size).path
    )
    assert verify_inclusion(leaf, claimed_index, claimed_size, path, root) == true_statement


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_forged_consistency_proofs_are_rejected(data: st.DataObject) -> None:
    """Only the genuine proof between two real heads of the same log verifies."""
    new = data.draw(st.integers(1, 300), label="new")
    old = data.draw(st.integers(1, new), label="old")
    genuine = prove_consistency(SOURCE, old, new).path
    assert verify_consistency(old, new, _root(old), _root(new), genuine)

    kind = data.draw(st.sampled_from(["path", "old", "new", "old-root", "new-root"]))
    claimed_old, claimed_new, path = old, new, genuine
    old_root, new_root = _root(old), _root(new)
    if kind == "path":
        path = data.draw(path_edits(genuine), label="path")
    elif kind == "old":
        claimed_old = data.draw(st.integers(1, 300).filter(lambda n: n != old))
        old_root = _root(claimed_old)
    elif kind == "new":
        claimed_new = data.draw(st.integers(1, 300).filter(lambda n: n != new))
        new_root = _root(claimed_new)
    elif kind == "old-root":
        old_root = data.draw(st.binary(min_size=32, max_size=32))
    else:
        new_root = data.draw(st.binary(min_size=32, max_size=32))

    true_statement = (
        kind in ("path", "old", "new")
        and claimed_old <= claimed_new
        and path == prove_consistency(SOURCE, claimed_old, claimed_new).path
    )
    assert verify_consistency(claimed_old, claimed_new, old_root, new_root, path) == true_statement
