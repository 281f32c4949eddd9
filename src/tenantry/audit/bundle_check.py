"""Offline verification of a bundle or tenant view: needs only the bundle and a public key."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from tenantry.audit.bundle import Bundle
from tenantry.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from tenantry.audit.record import AuditRecord
from tenantry.audit.snapshot import object_key, replay_objects, snapshot_findings
from tenantry.audit.treehead import SignedTreeHead, log_id_of
from tenantry.audit.verdict import Finding, Problem, Verdict
from tenantry.audit.verifier import LogVerifier
from tenantry.errors import InputError

__all__ = ["verify_bundle"]


def verify_bundle(
    bundle: Bundle,
    *,
    public_key: bytes | None = None,
    trusted: Iterable[SignedTreeHead] = (),
) -> Verdict:
    """Check a bundle against a pinned public key (else the one it carries, noted as unpinned)
    and against checkpoints held elsewhere (a witness, the tenant's last one)."""
    notes: list[str] = []
    findings: list[Finding] = []
    key = public_key if public_key is not None else bundle.public_key
    if public_key is None:
        notes.append(
            f"log identity not pinned: checked against the key the bundle carries (log "
            f"{log_id_of(key)[:16]}); pass the key you trust to pin it"
        )
    elif not hmac.compare_digest(public_key, bundle.public_key):
        findings.append(
            Finding(
                Problem.WRONG_KEY,
                f"the bundle carries the key of log {log_id_of(bundle.public_key)[:16]}, not the "
                f"pinned log {log_id_of(public_key)[:16]}",
            )
        )
    if not bundle.is_signed_by(key):
        findings.append(
            Finding(
                Problem.BUNDLE_SIGNATURE,
                "the bundle's signature does not verify: it was altered after it was signed",
            )
        )
    trusted = [c for c in trusted if _signed(c, key, "checkpoint", findings)]
    records = _records(bundle, findings)
    head = bundle.head
    if bundle.scope is None:
        verifier = LogVerifier(key)
        verifier.add([e.seq for e in bundle.entries], [e.body for e in bundle.entries])
        inner = verifier.finish([*bundle.heads, head], [c for c in trusted if c.size <= head.size])
        findings.extend(inner.findings)
        if len(bundle.entries) != head.size:
            findings.append(
                Finding(
                    Problem.TRUNCATED,
                    f"the bundle's head covers {head.size} entries but it holds "
                    f"{len(bundle.entries)}",
                    min(len(bundle.entries), head.size),
                )
            )
        unchecked = [c for c in trusted if c.size > head.size]
    else:
        _signed(head, key, "head", findings)
        _check_view(bundle, records, findings)
        unchecked = trusted
    notes.extend(
        f"checkpoint of size {c.size} not checked: the bundle carries no consistency proof for it"
        for c in unchecked
        if not _proven(bundle, c, findings)
    )
    _check_extensions(bundle, key, findings)
    if bundle.generation is not None and bundle.snapshot is not None:
        expected, unbound = replay_objects(records, bundle.generation)
        snapshot = {object_key(o.kind, o.ref): o.body for o in bundle.snapshot}
        findings.extend(snapshot_findings(expected, snapshot, unbound))
    return Verdict(len(bundle.entries), log_id_of(key), tuple(findings), head.size, tuple(notes))


def _records(bundle: Bundle, findings: list[Finding]) -> list[tuple[int, AuditRecord]]:
    records = []
    for entry in bundle.entries:
        try:
            records.append((entry.seq, AuditRecord.from_canonical(entry.body)))
        except InputError as exc:
            findings.append(
                Finding(
                    Problem.ENTRY_ALTERED, f"entry {entry.seq} is not a record: {exc}", entry.seq
                )
            )
    return records


def _check_view(
    bundle: Bundle, records: list[tuple[int, AuditRecord]], findings: list[Finding]
) -> None:
    head = bundle.head
    previous = -1
    for entry in bundle.entries:
        if entry.seq <= previous:
            findings.append(
                Finding(Problem.ENTRY_OUT_OF_ORDER, f"entry {entry.seq} is out of order", entry.seq)
            )
        previous = entry.seq
        proven = entry.proof is not None and verify_inclusion(
            leaf_hash(entry.body), entry.seq, head.size, entry.proof, head.root
        )
        if not proven:
            findings.append(
                Finding(
                    Problem.PROOF_INVALID,
                    f"entry {entry.seq} is not in the log at that position under the signed "
                    "head: it was altered, moved or inserted",
                    entry.seq,
                )
            )
    expected = 0
    for position, record in records:
        if record.tenants != (bundle.scope,):
            findings.append(
                Finding(
                    Problem.FOREIGN_ENTRY,
                    f"entry {position} does not concern tenant {bundle.scope} alone",
                    position,
                )
            )
            continue
        number = record.tenant_seq
        if number is None:
            continue  # written before entries were numbered
        if number != expected:
            # The tenant's entries are numbered 0, 1, 2, ... inside their signed bodies: a
            # skipped number is an entry of this tenant kept out of the view.
            gap = f"{expected}" if number == expected + 1 else f"{expected}..{number - 1}"
            findings.append(
                Finding(
                    Problem.VIEW_INCOMPLETE,
                    f"the view skips the tenant's entry number {gap}: before entry {position}"
                    if number > expected
                    else f"entry {position} repeats the tenant's number {number}",
                    position,
                )
            )
        expected = number + 1


def _signed(head: SignedTreeHead, key: bytes, what: str, findings: list[Finding]) -> bool:
    if head.is_signed_by(key):
        return True
    findings.append(
        Finding(
            Problem.HEAD_FORGED if head.log_id == log_id_of(key) else Problem.WRONG_KEY,
            f"the {what} of size {head.size} is not signed by the pinned key (log "
            f"{log_id_of(key)[:16]})",
        )
    )
    return False


def _proven(bundle: Bundle, checkpoint: SignedTreeHead, findings: list[Finding]) -> bool:
    """Whether a checkpoint is checked through the bundle (a fork finding if it disagrees)."""
    same = [c.checkpoint for c in bundle.checkpoints if c.checkpoint.size == checkpoint.size]
    if checkpoint.size == bundle.head.size:
        same.append(bundle.head)
    if any(not hmac.compare_digest(c.root, checkpoint.root) for c in same):
        findings.append(
            Finding(
                Problem.FORK,
                f"two signed heads of size {checkpoint.size} have different roots: a fork",
            )
        )
    # Carried checkpoints are themselves checked against the head by _check_extensions.
    return bool(same)


def _check_extensions(bundle: Bundle, key: bytes, findings: list[Finding]) -> None:
    """The newer head and the witnesses' checkpoints must be consistent with the bundle's head."""
    head = bundle.head
    pairs = [(c.checkpoint, c.proof) for c in bundle.checkpoints]
    if bundle.latest is not None:
        if bundle.latest_proof is None:
            findings.append(Finding(Problem.PROOF_INVALID, "the newer head comes without a proof"))
        else:
            pairs.append((bundle.latest, bundle.latest_proof))
    for other, proof in pairs:
        if not _signed(other, key, "carried head", findings):
            continue
        old, new = (other, head) if other.size <= head.size else (head, other)
        if (proof.old_size, proof.new_size) != (old.size, new.size) or not verify_consistency(
            old.size, new.size, old.root, new.root, proof.path
        ):
            findings.append(
                Finding(
                    Problem.FORK,
                    f"the heads of size {old.size} and {new.size} are not consistent: the log "
                    "was rewritten between them (a fork or a rollback)",
                    old.size if old is head else None,
                )
            )
