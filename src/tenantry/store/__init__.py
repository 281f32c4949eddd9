"""Persistence of the estate and the audit trail; only the service layer opens it."""

from tenantry.store.audit_log import HeadSigner
from tenantry.store.audit_pages import PAGE_LEAVES
from tenantry.store.audit_reads import LogScan, StoredAuditEntry
from tenantry.store.authority import AuthorityStore
from tenantry.store.engine import redact_url
from tenantry.store.identities import IdentityStore, UserSecrets, totp_place
from tenantry.store.keys import StoreKeyRecords
from tenantry.store.store import Snapshot, Store

__all__ = [
    "PAGE_LEAVES",
    "AuthorityStore",
    "HeadSigner",
    "IdentityStore",
    "LogScan",
    "Snapshot",
    "Store",
    "StoreKeyRecords",
    "StoredAuditEntry",
    "UserSecrets",
    "redact_url",
    "totp_place",
]
