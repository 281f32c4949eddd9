"""Verifying a whole log: every entry against the signed heads, pinned to one public key.

Only the entries and the public key are trusted inputs; stored leaf hashes, heads and
checkpoints are checked, never believed. An entry whose body no longer matches its stored
leaf hash is named exactly. An entry rewritten together with its leaf hash (or removed,
reordered or inserted, and the rest renumbered) makes every later signed head disagree; the
first entry after the last head that still agrees is then the first one that can be bad, and
with a head per commit that is the entry itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from hashlib import sha256

from tenantry.audit.merkle import HASH_SIZE, TreeLevels
from tenantry.audit.treehead import SignedTreeHead, log_id_of
from tenantry.audit.verdict import Finding, Problem, Verdict

__all__ = ["LogVerifier", "verify_log"]

MAX_LISTED = 10
"""Findings of one kind listed individually before they are summarised."""

_EXACT = (Problem.ENTRY_ALTERED, Problem.ENTRY_MISSING, Problem.ENTRY_OUT_OF_ORDER)


class LogVerifier:
    """Feed entries in order (in chunks), then ``finish`` with the heads to check them against."""

    def __init__(self, public_key: bytes) -> None:
        self.public_key = public_key
        self.log_id = log_id_of(public_key)
        self._leaves = bytearray()
        self._count = 0
        self._findings: list[Finding] = []
        self._altered = 0

    def add(
        self,
        seqs: Sequence[int],
        bodies: Sequence[bytes],
        stored_hashes: Sequence[bytes] | bytes | None = None,
    ) -> None:
        """The next entries: their positions as stored, bodies, and the leaf hashes stored
        with them if any (one per entry, or all joined end to end)."""
        digest = sha256
        joined = b"".join([digest(b"\x00" + body).digest() for body in bodies])
        start = self._count
        count = len(bodies)
        # Whole-chunk comparisons first: the per-entry scans run only where something differs.
        expected = range(start, start + count)
        if seqs != expected and list(seqs) != list(expected):
            for i, seq in enumerate(seqs):
                if seq != start + i:
                    self._misplaced(seq, start + i)
        if stored_hashes is not None:
            stored = stored_hashes if isinstance(stored_hashes, bytes) else b"".join(stored_hashes)
            if stored != joined:
                self._compare(seqs, joined, stored_hashes)
        self._leaves += joined
        self._count += count

    def _compare(
        self, seqs: Sequence[int], joined: bytes, stored_hashes: Sequence[bytes] | bytes
    ) -> None:
        """Name each entry whose body no longer matches its stored leaf hash."""
        for i, seq in enumerate(seqs):
            computed = joined[i * HASH_SIZE : (i + 1) * HASH_SIZE]
            if isinstance(stored_hashes, bytes):
                stored = stored_hashes[i * HASH_SIZE : (i + 1) * HASH_SIZE]
            else:
                stored = bytes(stored_hashes[i])
            if computed != stored:
                self._altered += 1
                if self._altered <= MAX_LISTED:
                    self._findings.append(
                        Finding(
                            Problem.ENTRY_ALTERED,
                            f"entry {seq} was altered: its body no longer matches the "
                            "leaf hash written with it",
                            seq,
                        )
                    )

    def compare_pages(self, pages: Mapping[int, bytes], leaves_per_page: int) -> None:
        """Check stored copies of the leaf hashes, ``leaves_per_page`` to a page, against the
        ones recomputed from the entries (call after the last ``add``)."""
        width = leaves_per_page * HASH_SIZE
        for page, data in sorted(pages.items()):
            if data != self._leaves[page * width : (page + 1) * width]:
                low = page * leaves_per_page
                self._findings.append(
                    Finding(
                        Problem.PAGE_ALTERED,
                        f"the stored page of leaf hashes {low}..{low + leaves_per_page - 1} "
                        "does not match the entries: proofs built from it would fail",
                    )
                )

    def _misplaced(self, seq: int, expected: int) -> None:
        if any(
            f.problem in (Problem.ENTRY_MISSING, Problem.ENTRY_OUT_OF_ORDER) for f in self._findings
        ):
            return  # the first break in numbering says it; the rest follow from it
        if seq > expected:
            gone = f"entry {expected}" if seq == expected + 1 else f"entries {expected}..{seq - 1}"
            self._findings.append(
                Finding(
                    Problem.ENTRY_MISSING, f"{gone} removed: numbering jumps to {seq}", expected
                )
            )
        else:
            self._findings.append(
                Finding(
                    Problem.ENTRY_OUT_OF_ORDER,
                    f"entry {seq} appears again at position {expected} (reordered or inserted)",
                    min(seq, expected),
                )
            )

    def finish(
        self,
        heads: Iterable[SignedTreeHead],
        trusted: Iterable[SignedTreeHead] = (),
    ) -> Verdict:
        """Check the entries against the log's heads and against checkpoints held elsewhere."""
        findings = list(self._findings)
        if self._altered > MAX_LISTED:
            findings.append(
                Finding(Problem.ENTRY_ALTERED, f"{self._altered - MAX_LISTED} more entries altered")
            )
        levels = TreeLevels(bytes(self._leaves))
        check = _HeadCheck(self.public_key, self.log_id, levels, findings)
        head_size = check.run(list(heads), list(trusted))
        return Verdict(self._count, self.log_id, tuple(findings), head_size)


def verify_log(
    public_key: bytes,
    bodies: Sequence[bytes],
    heads: Iterable[SignedTreeHead],
    *,
    trusted: Iterable[SignedTreeHead] = (),
    stored_hashes: Sequence[bytes] | None = None,
) -> Verdict:
    """Verify a whole log held in memory (entry ``i`` is ``bodies[i]``)."""
    verifier = LogVerifier(public_key)
    verifier.add(range(len(bodies)), bodies, stored_hashes)
    return verifier.finish(heads, trusted)


class _HeadCheck:
    def __init__(
        self, public_key: bytes, log_id: str, levels: TreeLevels, findings: list[Finding]
    ) -> None:
        self.public_key = public_key
        self.log_id = log_id
        self.levels = levels
        self.findings = findings
        self._valid: dict[int, bool] = {}
        self._forged = 0

    def valid(self, head: SignedTreeHead) -> bool:
        key = id(head)
        if key not in self._valid:
            self._valid[key] = head.is_signed_by(self.public_key)
            self._forged += not self._valid[key]
            if not self._valid[key] and self._forged <= MAX_LISTED:
                self.findings.append(
                    Finding(
                        Problem.HEAD_FORGED,
                        f"the signed head of size {head.size} ({_when(head)}) has an invalid "
                        "signature: it was altered or forged",
                    )
                )
        return self._valid[key]

    def run(self, stored: list[SignedTreeHead], trusted: list[SignedTreeHead]) -> int | None:
        size = self.levels.size
        foreign = [h for h in (*stored, *trusted) if h.log_id != self.log_id]
        if foreign:
            self.findings.append(
                Finding(
                    Problem.WRONG_KEY,
                    f"{len(foreign)} head(s) name log {foreign[0].log_id[:16]}, not the pinned "
                    f"log {self.log_id[:16]}: the signing key was swapped",
                )
            )
        heads = sorted(
            (h for h in (*stored, *trusted) if h.log_id == self.log_id),
            key=lambda h: (h.size, h.head.timestamp),
        )
        for head in trusted:
            if head.log_id == self.log_id:
                self.valid(head)
        within = [h for h in heads if h.size <= size]
        beyond = [h for h in heads if h.size > size]
        matched = {id(h): hmac.compare_digest(self.levels.root(h.size), h.root) for h in within}

        first_bad = next((h for h in within if not matched[id(h)] and self.valid(h)), None)
        good = [h for h in within if matched[id(h)]]
        if first_bad is not None:
            self._diverge(first_bad, good, stored, trusted)
        newest = next((h for h in reversed(good) if self.valid(h)), None)
        longer = next((h for h in beyond if self.valid(h)), None)
        if longer is not None:
            self.findings.append(
                Finding(
                    Problem.TRUNCATED,
                    f"the log ends after {size} entries but a head signed {_when(longer)} "
                    f"covers {longer.size}: entries from {size} on were removed (truncated, "
                    "or the store was rolled back)",
                    size,
                )
            )
        if newest is None:
            if size and first_bad is None:
                self.findings.append(
                    Finding(Problem.NO_HEAD, f"no valid signed head covers the {size} entries", 0)
                )
            return None
        if newest.size < size and first_bad is None:
            self.findings.append(
                Finding(
                    Problem.UNSIGNED_ENTRIES,
                    f"entries {newest.size}..{size - 1} are covered by no signed head: inserted "
                    "after the last checkpoint",
                    newest.size,
                )
            )
        return newest.size

    def _diverge(
        self,
        bad: SignedTreeHead,
        good: list[SignedTreeHead],
        stored: list[SignedTreeHead],
        trusted: list[SignedTreeHead],
    ) -> None:
        later = next((h for h in reversed(good) if h.size >= bad.size and self.valid(h)), None)
        bounds = good
        if later is not None:
            # A fork: the key signed two histories, and the stored heads may all belong to the
            # other one. Only heads held elsewhere, on the same branch as ``bad``, bound where
            # the two part.
            stored_roots = {(h.size, h.root) for h in stored}
            bounds = [h for h in good if h in trusted and (h.size, h.root) not in stored_roots]
        before = next((h for h in reversed(bounds) if h.size < bad.size and self.valid(h)), None)
        lo = before.size if before is not None else 0
        span = f"entry {lo}" if bad.size - lo == 1 else f"entries {lo}..{bad.size - 1}"
        # An entry already named exactly inside the range is the first bad one we can prove.
        exact = [
            f.seq
            for f in self.findings
            if f.seq is not None and lo <= f.seq < bad.size and f.problem in _EXACT
        ]
        first = min(exact, default=lo)
        if later is not None:
            self.findings.append(
                Finding(
                    Problem.FORK,
                    f"two validly signed heads disagree: size {bad.size} ({_when(bad)}) and "
                    f"size {later.size} ({_when(later)}) describe different histories from "
                    f"{span}: a fork (a split view, or a rollback then rewrite)",
                    first,
                )
            )
            return
        self.findings.append(
            Finding(
                Problem.ENTRIES_DIVERGE,
                f"{span} no longer match the head of size {bad.size} signed {_when(bad)}: "
                f"altered, removed, reordered or inserted (the first bad entry is {first} at "
                "the earliest)",
                first,
            )
        )


def _when(head: SignedTreeHead) -> str:
    return datetime.fromtimestamp(head.head.timestamp / 1000, UTC).isoformat(timespec="seconds")
