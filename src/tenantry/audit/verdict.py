"""What a verification found: findings that name the first bad entry, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tenantry.errors import AuditIntegrityError

__all__ = ["Finding", "Problem", "Verdict"]


class Problem(StrEnum):
    """The kinds of damage a verifier reports."""

    ENTRY_ALTERED = "entry-altered"
    ENTRY_MISSING = "entry-missing"
    ENTRY_OUT_OF_ORDER = "entry-out-of-order"
    ENTRIES_DIVERGE = "entries-diverge"
    UNSIGNED_ENTRIES = "unsigned-entries"
    TRUNCATED = "truncated"
    HEAD_FORGED = "head-forged"
    WRONG_KEY = "wrong-key"
    FORK = "fork"
    NO_HEAD = "no-head"
    PROOF_INVALID = "proof-invalid"
    FOREIGN_ENTRY = "foreign-entry"
    VIEW_INCOMPLETE = "view-incomplete"
    SNAPSHOT_MISMATCH = "snapshot-mismatch"
    BUNDLE_SIGNATURE = "bundle-signature"
    PAGE_ALTERED = "page-altered"


@dataclass(frozen=True)
class Finding:
    """One problem; ``seq`` is the first entry it concerns, when that is known."""

    problem: Problem
    message: str
    seq: int | None = None

    def __str__(self) -> str:
        return f"[{self.problem}] {self.message}"


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying a log, a tenant view or a bundle."""

    size: int
    """How many entries were checked."""
    log_id: str
    """The log identity everything was checked against (hash of the pinned public key)."""
    findings: tuple[Finding, ...] = ()
    head_size: int | None = None
    """The size of the newest signed head the entries were proven against."""
    notes: tuple[str, ...] = ()
    """What was not checked, and why (never a reason to distrust, never a reason to trust)."""

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad_seq(self) -> int | None:
        """The first entry where anything was altered, removed, reordered or inserted."""
        seqs = [f.seq for f in self.findings if f.seq is not None]
        return min(seqs) if seqs else None

    def summary(self) -> str:
        """One line: verified, or what is wrong first."""
        if self.ok:
            return (
                f"verified: {self.size} entries, signed head of size {self.head_size}, "
                f"log {self.log_id[:16]}"
            )
        first = self.first_bad_seq
        where = f"first bad entry: {first}; " if first is not None else ""
        return f"NOT verified: {where}{self.findings[0]}"

    def check(self) -> None:
        """Raise AuditIntegrityError naming the first bad entry unless the verdict is clean."""
        if not self.ok:
            raise AuditIntegrityError(self.summary())
