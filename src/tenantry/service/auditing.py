"""The audit log as the service offers it: heads, proofs, tenant views, bundles, verification,
checkpoints, and a buffered appender for bulk events (group commit)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from tenantry.audit import (
    EMPTY_ROOT,
    ConsistencyProof,
    InclusionProof,
    LogVerifier,
    MemoryNodes,
    SignedTreeHead,
    Signer,
    TreeHead,
    TreeLevels,
    Verdict,
    log_id_of,
    prove_consistency,
    prove_inclusion,
)
from tenantry.audit.bundle import Bundle, BundleEntry, CheckpointProof, SnapshotObject
from tenantry.errors import AuditIntegrityError, NotFoundError, PermissionDeniedError
from tenantry.governance import Actor
from tenantry.service.audit_appender import AuditAppender
from tenantry.service.audit_scopes import object_scope
from tenantry.service.witness import read_checkpoints, witness_findings, write_checkpoint
from tenantry.store import PAGE_LEAVES, Store, StoredAuditEntry

__all__ = ["AUDIT_READERS", "AuditTrail"]

AUDIT_READERS = frozenset({"administrator", "auditor"})
"""Provider roles that read the whole log; a tenant reads only its own entries."""

BULK_PROOFS = 64
"""Above this many proofs at once, hash the tree in memory rather than read tiles per proof."""


class AuditTrail:
    """Reads and proofs of the audit log, scoped to what the actor may see."""

    def __init__(self, store: Store, signer: Callable[[bool], Signer]) -> None:
        self._store = store
        self._signer = signer

    # ------------------------------------------------------------------ signing

    def public_key(self) -> bytes:
        """The raw Ed25519 public key that verifies this log's heads (KeyMaterialError if this
        service has no signing key: verify with the key the provider published instead)."""
        return self._signer(False).public_key()

    def sign_head(self, size: int, root: bytes) -> SignedTreeHead:
        """A head over (size, root) signed now (the store calls this inside its transaction)."""
        signer = self._signer(True)
        head = TreeHead(size, root, time.time_ns() // 1_000_000, log_id_of(signer.public_key()))
        return head.sign(signer)

    def appender(self, *, batch_size: int = 10_000) -> AuditAppender:
        """A buffered appender: each batch is one transaction with one signed head."""
        return AuditAppender(self._store, self.sign_head, batch_size=batch_size)

    # ------------------------------------------------------------------ reads

    def scope(self, actor: Actor, tenant: str | None) -> str | None:
        """The tenant whose view the actor gets (None: the whole log); refuses anything else."""
        if actor.tenant is not None:
            if tenant not in (None, actor.tenant):
                raise PermissionDeniedError(f"{actor} may read only tenant {actor.tenant}'s trail")
            return actor.tenant
        if not actor.system and not AUDIT_READERS & actor.roles:
            raise PermissionDeniedError(
                f"{actor} may not read the audit trail: it needs the administrator or auditor role"
            )
        return tenant

    def head(self, actor: Actor) -> SignedTreeHead:
        """The newest signed head, checked against this service's key."""
        self.scope(actor, None)
        size = self._store.audit_size()
        head = self._store.latest_audit_head()
        if head is None and size == 0:
            return self.sign_head(0, EMPTY_ROOT)
        if head is None or head.size != size:
            raise AuditIntegrityError(
                f"the log holds {size} entries but its newest signed head covers "
                f"{0 if head is None else head.size}: run `tenantry audit verify`"
            )
        if not head.is_signed_by(self.public_key()):
            raise AuditIntegrityError(
                f"the newest head (size {size}) is not signed by this log's key: run "
                "`tenantry audit verify`"
            )
        return head

    def entries(
        self,
        actor: Actor,
        *,
        tenant: str | None = None,
        start: int = 0,
        stop: int | None = None,
        last: int | None = None,
    ) -> list[StoredAuditEntry]:
        """Entries in [start, stop) (only the ``last`` ones if given): all, or the tenant's."""
        scope = self.scope(actor, tenant)
        return _owned(
            self._store.audit_entries(start=start, stop=stop, tenant=scope, last=last), scope
        )

    def iter_entries(
        self, actor: Actor, *, tenant: str | None = None
    ) -> Iterator[StoredAuditEntry]:
        """Every entry the actor may see, in order, read in chunks (for exports)."""
        scope = self.scope(actor, tenant)
        if scope is not None:
            yield from _owned(self._store.audit_entries(tenant=scope), scope)
            return
        for seqs, bodies, hashes in self._store.audit_chunks():
            yield from map(StoredAuditEntry, seqs, bodies, hashes)

    def prove(
        self, actor: Actor, seq: int, *, tenant: str | None = None
    ) -> tuple[StoredAuditEntry, InclusionProof, SignedTreeHead]:
        """An entry, its inclusion proof and the signed head it is proven against."""
        scope = self.scope(actor, tenant)
        head = self.head(actor)
        found = _owned(self._store.audit_entries(start=seq, stop=seq + 1, tenant=scope), scope)
        if not found or seq >= head.size:
            # Same answer whether the entry is someone else's or does not exist.
            raise NotFoundError(f"audit entry {seq} not found")
        return found[0], prove_inclusion(self._store, seq, head.size), head

    def consistency(
        self, actor: Actor, old_size: int, new_size: int | None = None
    ) -> tuple[ConsistencyProof, SignedTreeHead | None, SignedTreeHead]:
        """The proof that the log of ``new_size`` (default: now) extends the one of ``old_size``,
        with the stored heads of both sizes (the old one may be missing)."""
        head = self.head(actor)
        new_size = head.size if new_size is None else new_size
        if not 0 <= old_size <= new_size <= head.size:
            raise NotFoundError(
                f"no consistency proof from size {old_size} to {new_size}: the log has "
                f"{head.size} entries"
            )
        new_head = head if new_size == head.size else self._stored_head(new_size)
        proof = prove_consistency(self._store, old_size, new_size)
        return proof, self._store.audit_head_at(old_size), new_head

    def _stored_head(self, size: int) -> SignedTreeHead:
        head = self._store.audit_head_at(size)
        if head is None:
            raise NotFoundError(f"no signed head of size {size}")
        return head

    # ------------------------------------------------------------------ bundles and views

    def bundle(
        self,
        actor: Actor,
        *,
        tenant: str | None = None,
        generation: int | None = None,
        checkpoints: Sequence[SignedTreeHead] = (),
    ) -> Bundle:
        """A signed bundle (the tenant's view with proofs when scoped): the log up to
        ``generation`` with the estate as it was then, or the log now without a snapshot."""
        scope = self.scope(actor, tenant)
        latest = self.head(actor)
        if generation is None:
            head = latest
        else:
            size = self._store.log_size_at(generation)
            if size is None:
                raise NotFoundError(f"generation {generation} was never committed")
            head = latest if size == latest.size else self._stored_head(size)
        entries = _owned(self._store.audit_entries(stop=head.size, tenant=scope), scope)
        if scope is None:
            items = tuple(BundleEntry(e.seq, e.body) for e in entries)
        else:
            proofs = self._inclusion_proofs([e.seq for e in entries], head.size)
            items = tuple(
                BundleEntry(e.seq, e.body, p.path) for e, p in zip(entries, proofs, strict=True)
            )
        snapshot = None
        if generation is not None:
            snapshot = tuple(
                SnapshotObject(str(kind), str(ref), body)
                for kind, ref, body in self._store.snapshot_at(generation)
                if scope is None or object_scope(kind, ref) == scope
            )
        carried = tuple(
            CheckpointProof(c, prove_consistency(self._store, *sorted((c.size, head.size))))
            for c in checkpoints
            if c.size <= latest.size and c.size != head.size
        )
        bundle = Bundle(
            scope=scope,
            head=head,
            entries=items,
            heads=tuple(h for h in self._store.audit_heads() if h.size < head.size)
            if scope is None
            else (),
            generation=generation,
            snapshot=snapshot,
            latest=latest if latest.size > head.size else None,
            latest_proof=prove_consistency(self._store, head.size, latest.size)
            if latest.size > head.size
            else None,
            checkpoints=carried,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        return bundle.sign(self._signer(True))

    def _inclusion_proofs(self, seqs: Sequence[int], size: int) -> list[InclusionProof]:
        if len(seqs) <= BULK_PROOFS:
            return [prove_inclusion(self._store, seq, size) for seq in seqs]
        leaves = self._store.leaf_hashes()
        if len(leaves) < size * 32:
            raise AuditIntegrityError(
                f"the log holds fewer than {size} leaf hashes: run `tenantry audit verify`"
            )
        source = MemoryNodes(TreeLevels(leaves[: size * 32]))
        return [prove_inclusion(source, seq, size) for seq in seqs]

    # ------------------------------------------------------------------ verification

    def verify(
        self, *, public_key: bytes | None = None, trusted: Iterable[SignedTreeHead] = ()
    ) -> Verdict:
        """Recompute the whole log from its entries and check every signed head and every
        checkpoint held elsewhere (``trusted``) against it."""
        verifier = LogVerifier(self.public_key() if public_key is None else public_key)
        scan = self._store.scan_log(verifier.add)
        verifier.compare_pages(scan.pages, PAGE_LEAVES)
        return verifier.finish(scan.heads, trusted)

    def publish(self, actor: Actor, directory: Path) -> tuple[SignedTreeHead, Path]:
        """Write the newest head to a witness directory, after checking that the log extends
        every checkpoint already there; AuditIntegrityError (nothing written) if it does not."""
        head = self.head(actor)
        if directory.exists():
            self.check_witness(actor, directory).check()
        return head, write_checkpoint(directory, head)

    def check_witness(self, actor: Actor, directory: Path) -> Verdict:
        """Whether the log extends every checkpoint a witness directory holds (fork, rollback)."""
        head = self.head(actor)
        checkpoints = read_checkpoints(directory, log_id=head.log_id)
        findings = witness_findings(self._store, head, self.public_key(), checkpoints)
        return Verdict(head.size, head.log_id, tuple(findings), head.size)


def _owned(entries: list[StoredAuditEntry], scope: str | None) -> list[StoredAuditEntry]:
    """The entries of a tenant's view, each checked to concern that tenant: a doctored index
    must not hand one tenant another's entry."""
    if scope is not None:
        for entry in entries:
            if entry.record().tenants != (scope,):
                raise AuditIntegrityError(
                    f"the tenant index lists entry {entry.seq} for tenant {scope} but the entry "
                    "does not concern it: the index was altered; run `tenantry audit verify`"
                )
    return entries
