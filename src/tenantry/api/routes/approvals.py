"""``/v1/approvals``: two-person requests, approved (and executed) by a second person."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from tenantry.api.deps import ActorDep, ServiceDep
from tenantry.api.schemas import ApprovalOut

__all__ = ["router"]

router = APIRouter(tags=["approvals"])

ApprovalId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/v1/approvals", response_model=list[ApprovalOut], operation_id="list_approvals")
def list_approvals(service: ServiceDep, actor: ActorDep) -> Any:
    """Requests you may see: all for deciders, else yours and your tenant's."""
    now = service.clock()
    return [a.to_json(now) for a in service.approvals.list(actor)]


@router.get("/v1/approvals/{approval_id}", response_model=ApprovalOut, operation_id="get_approval")
def get_approval(approval_id: ApprovalId, service: ServiceDep, actor: ActorDep) -> Any:
    """One request."""
    return service.approvals.get(actor, approval_id).to_json(service.clock())


@router.post(
    "/v1/approvals/{approval_id}/approve",
    response_model=ApprovalOut,
    operation_id="approve",
)
def approve(approval_id: ApprovalId, service: ServiceDep, actor: ActorDep) -> Any:
    """Approve as a second, different person; the request then runs as its requester."""
    return service.approvals.approve(actor, approval_id).to_json(service.clock())


@router.post(
    "/v1/approvals/{approval_id}/reject", response_model=ApprovalOut, operation_id="reject"
)
def reject(approval_id: ApprovalId, service: ServiceDep, actor: ActorDep) -> Any:
    """Reject a request (or withdraw your own)."""
    return service.approvals.reject(actor, approval_id).to_json(service.clock())
