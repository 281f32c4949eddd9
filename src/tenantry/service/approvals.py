"""The two-person rule: sensitive requests wait; a second, different authorised person approves,
and the service then replays the request as its requester."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tenantry.audit import Outcome
from tenantry.errors import (
    ApprovalRequiredError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    TenantryError,
)
from tenantry.governance import (
    ROOT,
    Actor,
    Approval,
    ApprovalStatus,
    Privilege,
    authorize,
    check_decider,
    may,
    new_id,
)
from tenantry.model import Kind, Ref
from tenantry.service.gates import ApprovedRequest, estate_from_operation
from tenantry.store import AuthorityStore

if TYPE_CHECKING:
    from tenantry.service.service import Service

__all__ = ["Approvals"]


class Approvals:
    """Pending two-person requests and their decisions."""

    def __init__(self, service: Service) -> None:
        self._service = service

    @property
    def _store(self) -> AuthorityStore:
        return self._service.store.authority

    def request(
        self,
        actor: Actor,
        *,
        action: str,
        summary: str,
        operation: dict[str, Any],
        tenants: Sequence[str],
        excluded: Sequence[str] = (),
    ) -> ApprovalRequiredError:
        """Persist a pending request and return the error that tells the requester so."""
        now = self._service.clock()
        approval = Approval(
            id=new_id(),
            action=action,
            summary=summary,
            operation=operation,
            requester_id=actor.user_id or actor.name,
            requester=str(actor),
            created_at=now,
            expires_at=now + self._service.rules.approval_ttl,
            tenants=tuple(t for t in tenants if t),
            excluded=tuple(excluded),
        )
        record = self._service.audit_record(
            actor,
            "approval.request",
            Outcome.APPLIED,
            targets=[f"approval {approval.id}"],
            tenants=approval.tenants,
            reason=summary,
            details={"action": action, **_leak_details(operation)},
        )
        self._store.add_approval(approval, record)
        return ApprovalRequiredError(
            f"{summary}: waits for a second person's approval (request {approval.id})",
            approval_id=approval.id,
        )

    def list(self, actor: Actor) -> list[Approval]:
        """The requests the actor may see: all for deciders, else its own and its tenant's."""
        return [a for a in self._store.approvals() if self._may_see(actor, a)]

    def get(self, actor: Actor, approval_id: str) -> Approval:
        """One request (NotFoundError if the actor may not see it)."""
        approval = self._store.approval(approval_id)
        if approval is None or not self._may_see(actor, approval):
            raise NotFoundError(f"approval {approval_id} not found")
        return approval

    def approve(self, actor: Actor, approval_id: str) -> Approval:
        """Approve as a second person; the request then runs as its requester."""
        approval = self.get(actor, approval_id)
        now = self._service.clock()
        try:
            authorize(actor, Privilege.APPROVALS_DECIDE, ROOT)
            check_decider(approval, actor.user_id or actor.name, now)
        except (PermissionDeniedError, ConflictError) as exc:
            self._audit(actor, approval, "approval.approve", Outcome.REFUSED, str(exc))
            raise
        record = self._service.audit_record(
            actor,
            "approval.approve",
            Outcome.APPLIED,
            targets=[f"approval {approval.id}"],
            tenants=approval.tenants,
            reason=approval.summary,
        )
        if not self._store.decide_approval(
            approval.id, ApprovalStatus.APPROVED, decided_by=str(actor), now=now, audit=record
        ):
            raise ConflictError(f"approval {approval.id} was decided by someone else meanwhile")
        try:
            result = self._execute(approval, actor)
        except TenantryError as exc:
            self._store.finish_approval(approval.id, ApprovalStatus.FAILED, f"{exc.code}: {exc}")
            self._audit(actor, approval, "approval.execute", Outcome.FAILED, f"{exc.code}: {exc}")
            raise
        self._store.finish_approval(approval.id, ApprovalStatus.APPROVED, result)
        return self.get(actor, approval.id)

    def reject(self, actor: Actor, approval_id: str) -> Approval:
        """Reject a request (a decider), or withdraw one's own."""
        approval = self.get(actor, approval_id)
        if approval.requester_id != (actor.user_id or actor.name):
            try:
                authorize(actor, Privilege.APPROVALS_DECIDE, ROOT)
            except PermissionDeniedError as exc:
                self._audit(actor, approval, "approval.reject", Outcome.REFUSED, str(exc))
                raise
        now = self._service.clock()
        status = approval.effective_status(now)
        if status is not ApprovalStatus.PENDING:
            raise ConflictError(f"approval {approval.id} is already {status}")
        record = self._service.audit_record(
            actor,
            "approval.reject",
            Outcome.APPLIED,
            targets=[f"approval {approval.id}"],
            tenants=approval.tenants,
            reason=approval.summary,
        )
        if not self._store.decide_approval(
            approval.id, ApprovalStatus.REJECTED, decided_by=str(actor), now=now, audit=record
        ):
            raise ConflictError(f"approval {approval.id} was decided by someone else meanwhile")
        if approval.action == "grant.activate":
            self._service.data_access.reject(approval)
        return self.get(actor, approval.id)

    # ------------------------------------------------------------------ internals

    def _may_see(self, actor: Actor, approval: Approval) -> bool:
        if actor.system or approval.requester_id == actor.user_id:
            return True
        if actor.is_provider:
            return may(actor, Privilege.APPROVALS_DECIDE, ROOT)
        return actor.tenant in approval.tenants

    def _execute(self, approval: Approval, approver: Actor) -> str:
        operation = approval.operation
        action = operation.get("action")
        if action == "mfa.disable":
            self._service.accounts.disable_mfa_now(
                approver, str(operation["user_id"]), approval=approval.id
            )
            return "second factor removed"
        if action == "grant.activate":
            self._service.data_access.activate(approval, approver)
            return "grant active"
        approved = ApprovedRequest(
            approval.id, str(approver), frozenset(operation.get("reasons", ()))
        )
        override = bool(operation.get("override_isolation"))
        ceiling = operation.get("ceiling")
        requester = self._service.sessions.actor_for(
            approval.requester_id,
            source=f"approval:{approval.id}",
            ceiling=None if ceiling is None else frozenset(Privilege(p) for p in ceiling),
        )
        if action == "apply":
            estate = estate_from_operation(operation["objects"])
            result = self._service.apply(
                requester,
                estate,
                prune=bool(operation.get("prune")),
                approval=approved,
                override_isolation=override,
            )
        elif action == "put":
            estate = estate_from_operation(operation["objects"])
            ((kind, ref, obj),) = [(k, r, o) for k in Kind for r, o in estate.items(k)]
            result = self._service.put(
                requester,
                kind,
                ref,
                obj,
                expected_revision=int(operation["expected_revision"]),
                approval=approved,
                override_isolation=override,
            )
        elif action == "delete":
            result = self._service.delete(
                requester,
                Kind(operation["kind"]),
                Ref(str(operation["owner"]), str(operation["name"])),
                expected_revision=int(operation["expected_revision"]),
                approval=approved,
                override_isolation=override,
            )
        else:
            raise InputError(f"approval {approval.id} holds an unknown action {action!r}")
        return f"applied at generation {result.generation}"

    def _audit(
        self, actor: Actor, approval: Approval, action: str, outcome: Outcome, reason: str
    ) -> None:
        self._service.record(
            actor,
            action,
            outcome,
            targets=[f"approval {approval.id}"],
            tenants=approval.tenants,
            reason=reason,
        )


def _leak_details(operation: dict[str, Any]) -> dict[str, Any]:
    """The counterexamples of a request to admit leaks, so the trail shows what was asked."""
    found = operation.get("counterexamples")
    return {"counterexamples": list(found)} if found else {}
