"""Data-access grants: a tenant lets one named provider operator reach one object's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tenantry.governance.privileges import Privilege
from tenantry.model import Kind, Ref

__all__ = ["DataGrant", "GrantStatus"]


class GrantStatus(StrEnum):
    """Pending a provider approval, active, then revoked by the tenant, rejected or expired."""

    PENDING = "pending"
    ACTIVE = "active"
    REVOKED = "revoked"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True)
class DataGrant:
    """Time-bounded access to one tenant-data privilege on one object, for one operator."""

    id: str
    tenant: str
    grantee_id: str
    grantee: str
    kind: Kind
    ref: Ref
    privilege: Privilege
    created_by: str
    created_at: datetime
    expires_at: datetime
    status: GrantStatus = GrantStatus.PENDING
    approval_id: str = ""

    def is_active(self, now: datetime) -> bool:
        """Whether the grant lets its grantee in at ``now``."""
        return self.status is GrantStatus.ACTIVE and now < self.expires_at

    def covers(self, user_id: str, privilege: Privilege, kind: Kind, ref: Ref) -> bool:
        """Whether this grant is for that user, privilege and object."""
        return (
            self.grantee_id == user_id
            and self.privilege is privilege
            and self.kind is kind
            and self.ref == ref
        )

    def to_json(self, now: datetime) -> dict[str, object]:
        """A JSON-ready description."""
        status = str(self.status)
        if self.status is GrantStatus.ACTIVE and now >= self.expires_at:
            status = "expired"
        return {
            "id": self.id,
            "tenant": self.tenant,
            "grantee": self.grantee,
            "object": f"{self.kind}/{self.ref.owner}/{self.ref.name}",
            "privilege": str(self.privilege),
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "status": status,
            "approval_id": self.approval_id,
        }
