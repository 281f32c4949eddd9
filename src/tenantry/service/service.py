"""The one door to state: authorize, admit, write in one transaction with one audit entry, then
let the backends reconcile."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tenantry.audit import AuditRecord, Outcome
from tenantry.errors import (
    AccessError,
    AdmissionError,
    NotFoundError,
    PermissionDeniedError,
    StaleRevisionError,
    TenantryError,
)
from tenantry.governance import (
    Actor,
    GovernanceRules,
    Privilege,
    authorize,
    check_change,
    is_visible,
    may,
    privilege_for_kind,
    scope_of,
)
from tenantry.model import (
    KIND_INFO,
    Change,
    ChangeSet,
    Estate,
    Kind,
    Model,
    Op,
    Ref,
    plan_changes,
)
from tenantry.service.access import AccessControl
from tenantry.service.accounts import Accounts
from tenantry.service.admission import DEFAULT_CHECKS, AdmissionCheck, admit, refusal
from tenantry.service.approvals import Approvals
from tenantry.service.data_access import DataAccess
from tenantry.service.gates import (
    ApprovedRequest,
    check_quota,
    objects_operation,
    sensitive_in,
)
from tenantry.service.planning import place_guests
from tenantry.service.sessions import Sessions
from tenantry.service.trail import read_trail
from tenantry.store import Snapshot, Store, StoredAuditEntry

__all__ = ["ApplyResult", "CommitHook", "Plan", "Service"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
"""Declarative applies are recomputed when another writer commits first."""


@dataclass(frozen=True)
class Plan:
    """What an apply would do, judged against one generation of the store."""

    changes: ChangeSet
    generation: int
    current: Estate
    proposed: Estate
    placements: dict[Ref, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.changes


@dataclass(frozen=True)
class ApplyResult:
    """The outcome of an apply: the plan that was committed and the new generation."""

    plan: Plan
    generation: int
    hook_errors: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return not self.plan.is_empty


class CommitHook(Protocol):
    """Runs after a change set is committed (audit checkpointing, backend reconciliation)."""

    def after_commit(self, plan: Plan, generation: int) -> None: ...


class Service:
    """Every read and change of the estate goes through here."""

    def __init__(
        self,
        store: Store,
        *,
        hooks: Sequence[CommitHook] = (),
        checks: Sequence[AdmissionCheck] = DEFAULT_CHECKS,
        rules: GovernanceRules | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self._hooks = list(hooks)
        self._checks = tuple(checks)
        self.rules = rules or GovernanceRules()
        self.clock: Callable[[], datetime] = clock or _utc_now
        self._cached: Snapshot | None = None
        self._cache_lock = threading.Lock()
        self.access = AccessControl(self)
        """Custom roles and permissions; resolves an actor's authority."""
        self.accounts = Accounts(self)
        """Users, passwords, second factors, directories."""
        self.sessions = Sessions(self)
        """Logins, sessions, API tokens, and authenticating a bearer secret."""
        self.approvals = Approvals(self)
        """Two-person requests: list, approve (which executes), reject."""
        self.data_access = DataAccess(self)
        """Data-access grants and every use of a tenant-data privilege."""

    @classmethod
    def open(cls, url: str, **kwargs: object) -> Service:
        """A service over the store at ``url`` (created if missing)."""
        return cls(Store.open(url), **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def add_hook(self, hook: CommitHook) -> None:
        """Run ``hook`` after every commit."""
        self._hooks.append(hook)

    # ------------------------------------------------------------------ audit

    def audit_record(
        self,
        actor: Actor | str,
        action: str,
        outcome: Outcome,
        *,
        targets: Sequence[str] = (),
        tenants: Sequence[str] = (),
        reason: str = "",
        details: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> AuditRecord:
        """An audit record of something an actor did (written by the caller's transaction)."""
        name = str(actor) if isinstance(actor, Actor) else actor
        origin = source if source is not None else getattr(actor, "source", "local")
        return AuditRecord(
            actor=name,
            source=origin,
            action=action,
            outcome=outcome,
            targets=tuple(targets),
            tenants=tuple(sorted(set(tenants) - {"", "provider"})),
            reason=reason,
            details=details or {},
            time=self.clock(),
        )

    def record(
        self,
        actor: Actor | str,
        action: str,
        outcome: Outcome,
        *,
        targets: Sequence[str] = (),
        tenants: Sequence[str] = (),
        reason: str = "",
        details: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> None:
        """Append one audit record on its own: a login, a lockout, an approval, a grant's use."""
        self.store.append_audit(
            [
                self.audit_record(
                    actor,
                    action,
                    outcome,
                    targets=targets,
                    tenants=tenants,
                    reason=reason,
                    details=details,
                    source=source,
                )
            ]
        )

    def audit_trail(
        self, actor: Actor, *, start: int = 0, limit: int = 100
    ) -> tuple[list[StoredAuditEntry], int | None]:
        """The audit entries the actor may read, from ``start``, and the next page's start."""
        return read_trail(self, actor, start=start, limit=limit)

    # ------------------------------------------------------------------ reads

    def snapshot(self) -> Snapshot:
        """The stored estate (unfiltered: for backends and verification, not for users).

        Served from memory while the store's generation is unchanged: every write bumps it.
        """
        generation = self.store.generation()
        with self._cache_lock:
            cached = self._cached
        if cached is not None and cached.generation == generation:
            return cached
        loaded = self.store.load()
        with self._cache_lock:
            if self._cached is None or loaded.generation >= self._cached.generation:
                self._cached = loaded
        return loaded

    def estate(self, actor: Actor) -> Estate:
        """The part of the estate the actor may see."""
        if not actor.system and not actor.effective_authority().allows_somewhere(
            Privilege.INVENTORY_READ
        ):
            raise PermissionDeniedError(f"{actor} lacks {Privilege.INVENTORY_READ} anywhere")
        return _visible(actor, self.snapshot().estate)

    def list_revisions(self, actor: Actor, kind: Kind) -> list[tuple[Ref, Model, int]]:
        """Every object of a kind the actor may see, with its revision, sorted by reference."""
        if not actor.system and not actor.effective_authority().allows_somewhere(
            Privilege.INVENTORY_READ
        ):
            raise PermissionDeniedError(f"{actor} lacks {Privilege.INVENTORY_READ} anywhere")
        snapshot = self.snapshot()
        return sorted(
            (ref, obj, snapshot.revisions[(kind, ref)])
            for ref, obj in snapshot.estate.items(kind)
            if _readable(actor, kind, ref)
        )

    def list(self, actor: Actor, kind: Kind) -> list[tuple[Ref, Model]]:
        """Every object of a kind the actor may see, sorted by reference."""
        return [(ref, obj) for ref, obj, _ in self.list_revisions(actor, kind)]

    def get(self, actor: Actor, kind: Kind, ref: Ref) -> tuple[Model, int]:
        """One object and its revision; NotFoundError also when the actor may not see it.

        The checks do not depend on whether the object exists, so neither a refusal nor its
        timing tells another tenant that it does.
        """
        if not is_visible(actor, kind, ref):
            raise NotFoundError(f"{kind} {ref} not found")
        authorize(actor, Privilege.INVENTORY_READ, scope_of(kind, ref))
        snapshot = self.snapshot()
        obj = snapshot.estate.get(kind, ref)
        if obj is None:
            raise NotFoundError(f"{kind} {ref} not found")
        return obj, snapshot.revisions[(kind, ref)]

    # ------------------------------------------------------------------ changes

    def plan(self, actor: Actor, declared: Estate, *, prune: bool = False) -> Plan:
        """What applying ``declared`` would change; raises what apply would, audits nothing."""
        plan = self._plan(actor, self.snapshot(), declared, prune=prune)
        self._judge(actor, plan)
        return plan

    def apply(
        self,
        actor: Actor,
        declared: Estate,
        *,
        prune: bool = False,
        approval: ApprovedRequest | None = None,
    ) -> ApplyResult:
        """Make the store hold ``declared`` (idempotent: a second apply changes nothing)."""
        operation = {
            "action": "apply",
            "prune": prune,
            "objects": objects_operation(
                (kind, ref, obj) for kind in KIND_INFO for ref, obj in declared.items(kind)
            ),
        }
        for _ in range(MAX_ATTEMPTS):
            plan = self._plan(actor, self.snapshot(), declared, prune=prune)
            try:
                return self._commit(
                    actor, plan, action="apply", operation=operation, approval=approval
                )
            except StaleRevisionError:
                continue
        raise StaleRevisionError("the estate kept changing; gave up after retries")

    def delete(
        self,
        actor: Actor,
        kind: Kind,
        ref: Ref,
        *,
        expected_revision: int | None = None,
        approval: ApprovedRequest | None = None,
    ) -> ApplyResult:
        """Delete one object (refused if anything still uses it)."""
        self._check_target(actor, "delete", kind, ref)
        snapshot = self.snapshot()
        obj = snapshot.estate.get(kind, ref)
        if obj is None:
            raise NotFoundError(f"{kind} {ref} not found")
        change = Change(Op.DELETE, kind, ref, obj, None)
        # Who may delete is settled before the revision is compared: a stale ETag never
        # tells a caller without the right anything more than a refusal does.
        self._check_change_alone(actor, "delete", change, snapshot.estate)
        if expected_revision is not None and snapshot.revisions[(kind, ref)] != expected_revision:
            raise StaleRevisionError(f"{kind} {ref} changed since revision {expected_revision}")
        changes = ChangeSet((change,))
        plan = Plan(
            changes, snapshot.generation, snapshot.estate, snapshot.estate.with_changes(changes)
        )
        operation = {
            "action": "delete",
            "kind": str(kind),
            "owner": ref.owner,
            "name": ref.name,
            "expected_revision": snapshot.revisions[(kind, ref)],
        }
        return self._commit(actor, plan, action="delete", operation=operation, approval=approval)

    def put(
        self,
        actor: Actor,
        kind: Kind,
        ref: Ref,
        obj: Model,
        *,
        expected_revision: int | None,
        approval: ApprovedRequest | None = None,
    ) -> ApplyResult:
        """Create or replace one object; ``expected_revision`` guards against lost updates
        (0 means it must not exist yet)."""
        self._check_target(actor, "put", kind, ref)
        snapshot = self.snapshot()
        current = snapshot.revisions.get((kind, ref), 0)
        if expected_revision is not None and current != expected_revision:
            if current and not is_visible(actor, kind, ref):
                raise NotFoundError(f"{kind} {ref} not found")
            raise StaleRevisionError(
                f"{kind} {ref} is at revision {current}, not {expected_revision}"
            )
        declared = Estate.build([(kind, ref, obj)])
        plan = self._plan(actor, snapshot, declared, prune=False)
        existing = snapshot.estate.get(kind, ref)
        if plan.is_empty and existing is not None:
            # A write that changes nothing is still judged: it must not succeed for someone
            # who could not have made it (nor confirm what the object holds).
            same = Change(Op.UPDATE, kind, ref, existing, existing)
            self._check_change_alone(actor, "put", same, snapshot.estate)
        operation = {
            "action": "put",
            "objects": objects_operation([(kind, ref, obj)]),
            "expected_revision": current,
        }
        return self._commit(actor, plan, action="put", operation=operation, approval=approval)

    # ------------------------------------------------------------------ internals

    def _check_change_alone(
        self, actor: Actor, action: str, change: Change, estate: Estate
    ) -> None:
        """The boundary and role rules for one change, refusals audited."""
        try:
            check_change(actor, change, estate)
        except PermissionDeniedError as exc:
            owner = change.ref.name if change.kind is Kind.TENANT else change.ref.owner
            self._audit_refusal(actor, action, (str(change),), (actor.tenant or "", owner), exc)
            raise

    def _check_target(self, actor: Actor, action: str, kind: Kind, ref: Ref) -> None:
        """Refuse, before reading anything, a write the actor may not make to this name.

        Another tenant's name gets the same NotFoundError as a missing object (no existence
        oracle); provider infrastructure is refused to tenants; a missing privilege is
        refused even when the write would change nothing.
        """
        if actor.system:
            return
        exc: AccessError | NotFoundError
        if not is_visible(actor, kind, ref):
            if kind is Kind.TENANT or KIND_INFO[kind].owned:
                exc = NotFoundError(f"{kind} {ref} not found")
            else:
                exc = PermissionDeniedError(f"{actor} may not write provider {kind} {ref}")
        elif not may(actor, privilege_for_kind(kind), scope_of(kind, ref)):
            exc = PermissionDeniedError(
                f"{actor} lacks {privilege_for_kind(kind)} on {scope_of(kind, ref)}"
            )
        else:
            return
        owner = ref.name if kind is Kind.TENANT else ref.owner
        self._audit_refusal(actor, action, (f"{kind} {ref}",), (actor.tenant or "", owner), exc)
        raise exc

    def _plan(self, actor: Actor, snapshot: Snapshot, declared: Estate, *, prune: bool) -> Plan:
        self._check_scope(actor, declared)
        current = snapshot.estate
        placed_estate, placements, problems = place_guests(current, declared)
        if problems:
            raise refusal(problems)
        changes = plan_changes(current, placed_estate, prune=prune)
        if prune and not actor.system:
            # An actor prunes only what it can see: a tenant's apply never deletes anything else.
            changes = ChangeSet(
                tuple(
                    c for c in changes if c.op is not Op.DELETE or is_visible(actor, c.kind, c.ref)
                )
            )
        return Plan(
            changes, snapshot.generation, current, current.with_changes(changes), placements
        )

    def _check_scope(self, actor: Actor, declared: Estate) -> None:
        """Refuse, before any diff, objects the actor may not even know about.

        Otherwise an unchanged object outside the actor's boundary would plan as "no change"
        and reveal that it exists, and what it holds.
        """
        if actor.is_provider:
            return
        for kind in KIND_INFO:
            for ref, _ in declared.items(kind):
                if not is_visible(actor, kind, ref):
                    exc = PermissionDeniedError(
                        f"{actor} may not declare {kind} {ref}: outside the tenant's boundary"
                    )
                    tenants = tuple(sorted({actor.tenant or "", ref.owner} - {"", "provider"}))
                    self._audit_refusal(actor, "apply", (f"{kind} {ref}",), tenants, exc)
                    raise exc

    def _judge(self, actor: Actor, plan: Plan) -> None:
        for change in plan.changes:
            check_change(actor, change, plan.current)
        violations = admit(plan.current, plan.proposed, self._checks)
        if violations:
            raise refusal(violations)
        check_quota(plan.changes, plan.proposed, self.rules.tenant_object_quota)

    def _commit(
        self,
        actor: Actor,
        plan: Plan,
        *,
        action: str,
        operation: dict[str, Any] | None = None,
        approval: ApprovedRequest | None = None,
    ) -> ApplyResult:
        if plan.is_empty:
            return ApplyResult(plan, plan.generation)
        targets = tuple(str(c) for c in plan.changes)
        concerned = set(plan.changes.tenants())
        if actor.tenant is not None:
            concerned.add(actor.tenant)
        tenants = tuple(sorted(concerned))
        try:
            self._judge(actor, plan)
        except (PermissionDeniedError, AdmissionError) as exc:
            self._audit_refusal(actor, action, targets, tenants, exc)
            raise
        details: dict[str, Any] = {
            "counts": {str(k): v for k, v in plan.changes.counts().items()},
            "placements": {str(r): h for r, h in plan.placements.items()},
            "generation": plan.generation + 1,
        }
        reasons = sensitive_in(actor, plan.changes)
        if reasons:
            if approval is None or not set(reasons) <= approval.reasons:
                ceiling = actor.authority.ceiling if actor.authority else None
                raise self.approvals.request(
                    actor,
                    action=action,
                    summary="; ".join(reasons),
                    operation={
                        **(operation or {"action": action}),
                        "reasons": reasons,
                        "ceiling": None if ceiling is None else sorted(map(str, ceiling)),
                    },
                    tenants=tenants,
                )
            details["approval"] = {"id": approval.id, "approved_by": approval.approver}
        record = self.audit_record(
            actor, action, Outcome.APPLIED, targets=targets, tenants=tenants, details=details
        )
        generation = self.store.commit(
            plan.changes, expected_generation=plan.generation, audit=[record]
        )
        errors = []
        for hook in self._hooks:
            try:
                hook.after_commit(plan, generation)
            except TenantryError as exc:
                # The change is committed; a backend that failed to follow catches up on the
                # next reconcile, and the failure is reported rather than hidden.
                log.warning("after-commit hook %s failed: %s", type(hook).__name__, exc)
                errors.append(f"{type(hook).__name__}: {exc}")
        return ApplyResult(plan, generation, tuple(errors))

    def _audit_refusal(
        self,
        actor: Actor,
        action: str,
        targets: tuple[str, ...],
        tenants: tuple[str, ...],
        exc: TenantryError,
    ) -> None:
        self.record(
            actor,
            action,
            Outcome.REFUSED,
            reason=f"{exc.code}: {exc}",
            targets=targets,
            tenants=tenants,
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _readable(actor: Actor, kind: Kind, ref: Ref) -> bool:
    return is_visible(actor, kind, ref) and may(
        actor, Privilege.INVENTORY_READ, scope_of(kind, ref)
    )


def _visible(actor: Actor, estate: Estate) -> Estate:
    if actor.system:
        return estate
    return Estate.build(
        (kind, ref, obj)
        for kind in KIND_INFO
        for ref, obj in estate.items(kind)
        if _readable(actor, kind, ref)
    )
