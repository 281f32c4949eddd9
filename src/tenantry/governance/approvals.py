"""Two-person rule: a pending request for a sensitive operation, and who may decide it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tenantry.errors import ConflictError, PermissionDeniedError

__all__ = ["Approval", "ApprovalStatus", "check_decider"]


class ApprovalStatus(StrEnum):
    """Where a request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"


@dataclass(frozen=True)
class Approval:
    """A sensitive operation waiting for a second, different authorised person."""

    id: str
    action: str
    summary: str
    operation: dict[str, Any]
    """What to execute on approval (as the requester), in a form the service replays."""
    requester_id: str
    requester: str
    created_at: datetime
    expires_at: datetime
    tenants: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    """User ids that may not decide besides the requester (a grant's grantee)."""
    status: ApprovalStatus = ApprovalStatus.PENDING
    decided_by: str = ""
    decided_at: datetime | None = None
    result: str = ""

    def effective_status(self, now: datetime) -> ApprovalStatus:
        """The status, counting a pending request past its expiry as expired."""
        if self.status is ApprovalStatus.PENDING and now >= self.expires_at:
            return ApprovalStatus.EXPIRED
        return self.status

    def to_json(self, now: datetime) -> dict[str, object]:
        """A JSON-ready description (the operation's payload is summarised, not echoed)."""
        return {
            "id": self.id,
            "action": self.action,
            "summary": self.summary,
            "requester": self.requester,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "tenants": list(self.tenants),
            "status": str(self.effective_status(now)),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "result": self.result,
            # what a second person agrees to when a change opens a leak between tenants
            "counterexamples": list(self.operation.get("counterexamples", ())),
        }


def check_decider(approval: Approval, decider_id: str | None, now: datetime) -> None:
    """Raise unless the request is pending, unexpired, and ``decider_id`` is a second person."""
    status = approval.effective_status(now)
    if status is ApprovalStatus.EXPIRED:
        raise ConflictError(
            f"approval {approval.id} expired at {approval.expires_at.isoformat()}",
            hint="Ask the requester to submit the operation again.",
        )
    if status is not ApprovalStatus.PENDING:
        raise ConflictError(f"approval {approval.id} is already {status}")
    if decider_id is None or decider_id == approval.requester_id:
        raise PermissionDeniedError(
            f"approval {approval.id}: the requester cannot decide its own request",
            hint="A second, different authorised person must approve it.",
        )
    if decider_id in approval.excluded:
        raise PermissionDeniedError(
            f"approval {approval.id}: the beneficiary of the request cannot decide it"
        )
