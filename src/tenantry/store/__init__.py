"""Persistence of the estate and the audit trail; only the service layer opens it."""

from tenantry.store.engine import redact_url
from tenantry.store.keys import StoreKeyRecords
from tenantry.store.store import Snapshot, Store, StoredAuditEntry

__all__ = ["Snapshot", "Store", "StoreKeyRecords", "StoredAuditEntry", "redact_url"]
