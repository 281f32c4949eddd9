"""The audit trail: records of every change and refusal, in an append-only Merkle log.

Pure: hashing (RFC 9162), proofs, signed tree heads, verification, tenant views and exports.
The store keeps the log; the service signs it; anyone with the public key verifies it.
"""

from tenantry.audit.bundle import Bundle, BundleEntry, CheckpointProof, SnapshotObject
from tenantry.audit.bundle_check import verify_bundle
from tenantry.audit.export import ExportFormat, cadf_event, export_lines
from tenantry.audit.frontier import Frontier
from tenantry.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    TreeLevels,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from tenantry.audit.proofs import (
    ConsistencyProof,
    InclusionProof,
    MemoryNodes,
    NodeSource,
    prove_consistency,
    prove_inclusion,
    range_hashes,
)
from tenantry.audit.record import ENTRY_SCHEMA, AuditRecord, Outcome
from tenantry.audit.snapshot import object_digest, object_key
from tenantry.audit.treehead import (
    Ed25519Signer,
    SignedTreeHead,
    Signer,
    TreeHead,
    load_public_key,
    log_id_of,
    public_key_pem,
)
from tenantry.audit.verdict import Finding, Problem, Verdict
from tenantry.audit.verifier import LogVerifier, verify_log

__all__ = [
    "EMPTY_ROOT",
    "ENTRY_SCHEMA",
    "HASH_SIZE",
    "AuditRecord",
    "Bundle",
    "BundleEntry",
    "CheckpointProof",
    "ConsistencyProof",
    "Ed25519Signer",
    "ExportFormat",
    "Finding",
    "Frontier",
    "InclusionProof",
    "LogVerifier",
    "MemoryNodes",
    "NodeSource",
    "Outcome",
    "Problem",
    "SignedTreeHead",
    "Signer",
    "SnapshotObject",
    "TreeHead",
    "TreeLevels",
    "Verdict",
    "cadf_event",
    "export_lines",
    "leaf_hash",
    "load_public_key",
    "log_id_of",
    "node_hash",
    "object_digest",
    "object_key",
    "prove_consistency",
    "prove_inclusion",
    "public_key_pem",
    "range_hashes",
    "verify_bundle",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
]
