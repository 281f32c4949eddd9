"""``/v1/audit``: the audit entries the caller may read (a tenant sees only its own)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tenantry.api.deps import ActorDep, ServiceDep
from tenantry.api.schemas import AuditPage

__all__ = ["router"]

router = APIRouter(tags=["audit"])


@router.get("/v1/audit", response_model=AuditPage, operation_id="read_audit")
def read_audit(
    service: ServiceDep,
    actor: ActorDep,
    start: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Entries from ``start`` on: all with audit.read on the root, else your tenant's."""
    entries, next_start = service.audit_trail(actor, start=start, limit=limit)
    return {
        "items": [{"seq": e.seq, "record": e.record().to_json()} for e in entries],
        "next_start": next_start,
    }
