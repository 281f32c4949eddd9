"""The audit trail: records of every change and refusal, in an append-only Merkle log."""

from tenantry.audit.record import AuditRecord, Outcome, leaf_hash

__all__ = ["AuditRecord", "Outcome", "leaf_hash"]
