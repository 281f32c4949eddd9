"""In-memory logs for verifier tests: entries, stored leaf hashes and a signed head per batch."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from tenantry.audit import (
    AuditRecord,
    Ed25519Signer,
    Frontier,
    Outcome,
    SignedTreeHead,
    TreeHead,
    leaf_hash,
    log_id_of,
)

SIGNER = Ed25519Signer.generate()
OTHER_SIGNER = Ed25519Signer.generate()
EPOCH = datetime(2024, 5, 1, tzinfo=UTC)


def body(i: int, tenant: str = "acme") -> bytes:
    """A realistic entry body, different for every ``i``."""
    return AuditRecord(
        actor=f"user{i % 7}",
        action="apply",
        outcome=Outcome.APPLIED,
        targets=(f"update guest {tenant}/web-{i}",),
        tenants=(tenant,),
        details={"generation": i + 1},
        time=EPOCH + timedelta(seconds=i),
    ).canonical()


def sign(size: int, root: bytes, signer: Ed25519Signer = SIGNER) -> SignedTreeHead:
    return TreeHead(size, root, 1_714_521_600_000 + size, log_id_of(signer.public_key())).sign(
        signer
    )


@dataclass
class MemoryLog:
    """What a store holds: bodies by position, stored leaf hashes, signed heads."""

    seqs: list[int]
    bodies: list[bytes]
    hashes: list[bytes]
    heads: list[SignedTreeHead] = field(default_factory=list)

    @classmethod
    def build(cls, bodies: list[bytes], batches: list[int]) -> MemoryLog:
        """Append ``bodies`` in batches of the given sizes, signing a head after each."""
        log = cls(list(range(len(bodies))), list(bodies), [leaf_hash(b) for b in bodies])
        frontier = Frontier()
        done = 0
        for size in batches:
            frontier.append(log.hashes[done : done + size])
            done += size
            log.heads.append(sign(frontier.size, frontier.root()))
        return log

    def copy(self) -> MemoryLog:
        return replace(
            self,
            seqs=list(self.seqs),
            bodies=list(self.bodies),
            hashes=list(self.hashes),
            heads=list(self.heads),
        )

    def batch_start(self, seq: int) -> int:
        """Where the batch holding ``seq`` starts (the size of the head before it)."""
        return max((h.size for h in self.heads if h.size <= seq), default=0)

    def resign(self, signer: Ed25519Signer, upto: int | None = None) -> None:
        """Recompute every head over the current entries and sign it (what a key holder can do)."""
        sizes = sorted({h.size for h in self.heads if upto is None or h.size <= upto})
        frontier = Frontier()
        done = 0
        heads = []
        for wanted in sizes:
            end = min(wanted, len(self.hashes))
            frontier.append(self.hashes[done:end])
            done = end
            heads.append(sign(frontier.size, frontier.root(), signer))
        self.heads = heads
