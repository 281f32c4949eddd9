"""The service layer: the only door to state (authorization, admission, store, audit, hooks)."""

from tenantry.governance import Actor
from tenantry.service.admission import AdmissionCheck, admit
from tenantry.service.audit_appender import AuditAppender
from tenantry.service.auditing import AuditTrail
from tenantry.service.disk_reads import MAX_DISK_READ, DiskRead, GuestDiskReader, open_disk_reader
from tenantry.service.keys import (
    GuestDiskSealer,
    TenantKeys,
    image_path,
    open_guest_disk,
    release_for_image,
)
from tenantry.service.service import ApplyResult, CommitHook, Plan, Service

__all__ = [
    "MAX_DISK_READ",
    "Actor",
    "AdmissionCheck",
    "ApplyResult",
    "AuditAppender",
    "AuditTrail",
    "CommitHook",
    "DiskRead",
    "GuestDiskReader",
    "GuestDiskSealer",
    "Plan",
    "Service",
    "TenantKeys",
    "admit",
    "image_path",
    "open_disk_reader",
    "open_guest_disk",
    "release_for_image",
]
