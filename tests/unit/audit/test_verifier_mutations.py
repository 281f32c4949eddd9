"""THREATS row 39/40: every way of rewriting a stored log is detected, and located.

Hypothesis builds logs of random sizes and batch shapes (a signed head per batch), applies
one mutation a database administrator could make, and runs the verifier from the last
checkpoint the tenant holds. No mutation may pass (0 false negatives over >= 10^3), and
the first bad entry named must lie in the batch of the entry that was touched.
"""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from tenantry.audit import LogVerifier, Problem, SignedTreeHead, leaf_hash, verify_log
from tests.unit.audit.logs import OTHER_SIGNER, SIGNER, MemoryLog, body, sign

MUTATIONS = (
    "edit",
    "edit-and-rehash",
    "delete",
    "delete-and-renumber",
    "swap",
    "insert",
    "append",
    "truncate",
    "forge-head",
    "swap-key",
    "fork",
    "rewrite-tail-and-drop-heads",
)


@st.composite
def logs(draw: st.DrawFn) -> MemoryLog:
    size = draw(st.integers(2, 40))
    cuts = sorted(draw(st.sets(st.integers(1, size - 1), max_size=size - 1)))
    batches = [b - a for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
    return MemoryLog.build([body(i) for i in range(size)], batches)


def _verify(log: MemoryLog, trusted: list[SignedTreeHead]) -> tuple[bool, int | None, set[Problem]]:
    verifier = LogVerifier(SIGNER.public_key())
    verifier.add(log.seqs, log.bodies, log.hashes)
    verdict = verifier.finish(log.heads, trusted)
    return verdict.ok, verdict.first_bad_seq, {f.problem for f in verdict.findings}


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=logs(), mutation=st.sampled_from(MUTATIONS), data=st.data())
def test_every_mutation_of_the_stored_log_is_detected(
    log: MemoryLog, mutation: str, data: st.DataObject
) -> None:
    """Edit, delete, reorder, insert, truncate, fork, forged heads, key swap: all detected."""
    checkpoint = log.heads[-1]  # what the tenant (or a witness) kept from the last look
    size = len(log.bodies)
    k = data.draw(st.integers(0, size - 1), label="entry")
    bad = log.copy()
    if mutation == "edit":
        raw = bytearray(bad.bodies[k])
        at = data.draw(st.integers(0, len(raw) - 1), label="byte")
        raw[at] ^= data.draw(st.integers(1, 255), label="xor")
        bad.bodies[k] = bytes(raw)
    elif mutation == "edit-and-rehash":
        bad.bodies[k] = bad.bodies[k].replace(b'"user', b'"USER', 1)
        bad.hashes[k] = leaf_hash(bad.bodies[k])
    elif mutation == "delete":
        del bad.seqs[k], bad.bodies[k], bad.hashes[k]
    elif mutation == "delete-and-renumber":
        del bad.bodies[k], bad.hashes[k]
        bad.seqs = list(range(size - 1))
    elif mutation == "swap":
        j = data.draw(st.integers(0, size - 1).filter(lambda j: j != k), label="other")
        bad.bodies[k], bad.bodies[j] = bad.bodies[j], bad.bodies[k]
        bad.hashes[k], bad.hashes[j] = bad.hashes[j], bad.hashes[k]
        k = min(k, j)
    elif mutation == "insert":
        bad.bodies.insert(k, body(1000 + k))
        bad.hashes.insert(k, leaf_hash(bad.bodies[k]))
        bad.seqs = list(range(size + 1))
    elif mutation == "append":
        k = size
        bad.bodies.append(body(1000))
        bad.hashes.append(leaf_hash(bad.bodies[-1]))
        bad.seqs.append(size)
    elif mutation == "truncate":
        k = data.draw(st.integers(1, size - 1), label="cut")
        bad.seqs, bad.bodies, bad.hashes = bad.seqs[:k], bad.bodies[:k], bad.hashes[:k]
        bad.heads = [h for h in bad.heads if h.size <= k]
    elif mutation == "forge-head":
        h = data.draw(st.integers(0, len(bad.heads) - 1), label="head")
        old = bad.heads[h]
        forged = sign(old.size, leaf_hash(b"forged"), SIGNER)
        bad.heads[h] = type(old)(forged.head, old.signature)
        k = old.size - 1  # the head covers up to here; nothing earlier is blamed wrongly
    elif mutation == "swap-key":
        bad.bodies[k] = bad.bodies[k].replace(b'"apply"', b'"login"', 1)
        bad.hashes[k] = leaf_hash(bad.bodies[k])
        bad.resign(OTHER_SIGNER)
    elif mutation == "fork":
        # The key holder signs a rewritten history: only a checkpoint kept elsewhere shows it.
        bad.bodies[k] = bad.bodies[k].replace(b'"apply"', b'"login"', 1)
        bad.hashes[k] = leaf_hash(bad.bodies[k])
        bad.resign(SIGNER)
    elif mutation == "rewrite-tail-and-drop-heads":
        bad.bodies[k] = bad.bodies[k].replace(b'"apply"', b'"login"', 1)
        bad.hashes[k] = leaf_hash(bad.bodies[k])
        bad.heads = [h for h in bad.heads if h.size <= k]

    ok, first_bad, problems = _verify(bad, [checkpoint])

    assert not ok, f"{mutation} at {k} went undetected"
    assert first_bad is not None or problems & {Problem.HEAD_FORGED, Problem.WRONG_KEY}
    if first_bad is not None and mutation not in ("swap-key",):
        assert first_bad <= k, f"{mutation} at {k} blamed entry {first_bad}"
        if mutation not in ("truncate", "append", "forge-head", "fork"):
            assert first_bad >= log.batch_start(k), f"{mutation} at {k} blamed {first_bad}"


@settings(max_examples=200, deadline=None)
@given(log=logs())
def test_an_untouched_log_verifies(log: MemoryLog) -> None:
    """The positive control: the same logs, unmodified, verify against the same checkpoint."""
    ok, first_bad, problems = _verify(log, [log.heads[-1]])
    assert ok, problems
    assert first_bad is None


@settings(max_examples=100, deadline=None)
@given(log=logs(), data=st.data())
def test_a_log_that_grew_since_the_checkpoint_verifies(log: MemoryLog, data: st.DataObject) -> None:
    """An older checkpoint is consistent with the log that grew past it (legitimate growth)."""
    older = data.draw(st.sampled_from(log.heads))
    ok, _, problems = _verify(log, [older])
    assert ok, problems


def test_an_edited_entry_in_a_batch_of_one_is_named_exactly() -> None:
    """With a head per commit, the verifier names the very entry that was rewritten."""
    log = MemoryLog.build([body(i) for i in range(12)], [1] * 12)
    log.bodies[7] = log.bodies[7].replace(b'"apply"', b'"login"', 1)
    log.hashes[7] = leaf_hash(log.bodies[7])

    verdict = verify_log(SIGNER.public_key(), log.bodies, log.heads, stored_hashes=log.hashes)

    assert verdict.first_bad_seq == 7
    assert "entry 7" in verdict.summary()


def test_a_truncation_is_found_only_against_a_checkpoint_held_elsewhere() -> None:
    """Cutting the tail and its heads leaves a log that is self-consistent; the witness shows it."""
    log = MemoryLog.build([body(i) for i in range(10)], [2] * 5)
    checkpoint = log.heads[-1]
    cut = MemoryLog(log.seqs[:6], log.bodies[:6], log.hashes[:6], log.heads[:3])

    assert verify_log(SIGNER.public_key(), cut.bodies, cut.heads).ok
    verdict = verify_log(SIGNER.public_key(), cut.bodies, cut.heads, trusted=[checkpoint])
    assert not verdict.ok
    assert verdict.first_bad_seq == 6
    assert Problem.TRUNCATED in {f.problem for f in verdict.findings}


def test_two_signed_heads_of_one_size_are_reported_as_a_fork() -> None:
    """A witness holding another head of the same size as the log's is proof of a split view."""
    log = MemoryLog.build([body(i) for i in range(8)], [4, 4])
    other = MemoryLog.build([body(i + 100) for i in range(8)], [4, 4])

    verdict = verify_log(SIGNER.public_key(), log.bodies, log.heads, trusted=[other.heads[-1]])

    assert Problem.FORK in {f.problem for f in verdict.findings}
