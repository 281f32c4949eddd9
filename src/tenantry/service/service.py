"""The one door to state: authorize, admit, write in one transaction with one audit entry, then
let the backends reconcile."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tenantry.audit import Signer
from tenantry.errors import (
    AdmissionError,
    AuditUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    StaleRevisionError,
    TenantryError,
)
from tenantry.governance import (
    Actor,
    GovernanceRules,
    check_change,
    is_visible,
)
from tenantry.keys import SecretBox, load_secret_box
from tenantry.model import (
    KIND_INFO,
    PROVIDER,
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
from tenantry.service.audit_outage import AuditOutage
from tenantry.service.audit_scopes import applied_records, refused_records
from tenantry.service.auditing import AuditTrail
from tenantry.service.data_access import DataAccess
from tenantry.service.gates import (
    ApprovedRequest,
    check_quota,
    objects_operation,
    sensitive_in,
)
from tenantry.service.guards import WriteGuards
from tenantry.service.isolation import IsolationViolation
from tenantry.service.override import leak_reason, overridden_leaks
from tenantry.service.planning import place_guests
from tenantry.service.reads import EstateReads
from tenantry.service.sessions import Sessions
from tenantry.service.signing import load_signing_key
from tenantry.settings import Settings
from tenantry.store import Snapshot, Store

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


class Service(EstateReads, WriteGuards):
    """Every read and change of the estate goes through here."""

    def __init__(
        self,
        store: Store,
        *,
        hooks: Sequence[CommitHook] = (),
        checks: Sequence[AdmissionCheck] = DEFAULT_CHECKS,
        rules: GovernanceRules | None = None,
        clock: Callable[[], datetime] | None = None,
        signer: Signer | None = None,
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
        self._signer = signer
        self._secret_box: SecretBox | None = None
        self.audit = AuditTrail(store, self._audit_signer)
        """Heads, proofs, tenant views, bundles, verification and checkpoints of the trail."""
        self._outage = AuditOutage()
        # Governance writes append their entries inside their own transactions: same signer.
        store.head_signer = self.audit.sign_head

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

    def secrets(self) -> SecretBox:
        """The box sealing secrets at rest (TOTP seeds); its key is loaded on first use."""
        if self._secret_box is None:
            self._secret_box = load_secret_box(Settings().secrets_key_path())
        return self._secret_box

    def _audit_signer(self, create: bool) -> Signer:
        # Loaded on first use, so that reads never need the key; created only to sign, never
        # to verify (a new key would only make every head look forged).
        if self._signer is None:
            self._signer = load_signing_key(Settings().audit_key_path(), create=create)
        return self._signer

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
        override_isolation: bool = False,
    ) -> ApplyResult:
        """Make the store hold ``declared`` (idempotent: a second apply changes nothing).

        ``override_isolation`` asks to admit a change that opens a leak: it then waits for a
        second person's approval (two-person rule)."""

        def operation() -> dict[str, Any]:
            return {
                "action": "apply",
                "prune": prune,
                "override_isolation": override_isolation,
                "objects": objects_operation(
                    (kind, ref, obj) for kind in KIND_INFO for ref, obj in declared.items(kind)
                ),
            }

        for _ in range(MAX_ATTEMPTS):
            plan = self._plan(actor, self.snapshot(), declared, prune=prune)
            try:
                return self._commit(
                    actor,
                    plan,
                    action="apply",
                    operation=operation,
                    approval=approval,
                    override_isolation=override_isolation,
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
        override_isolation: bool = False,
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
        revision = snapshot.revisions[(kind, ref)]

        def operation() -> dict[str, Any]:
            return {
                "action": "delete",
                "kind": str(kind),
                "owner": ref.owner,
                "name": ref.name,
                "expected_revision": revision,
                "override_isolation": override_isolation,
            }

        return self._commit(
            actor,
            plan,
            action="delete",
            operation=operation,
            approval=approval,
            override_isolation=override_isolation,
        )

    def put(
        self,
        actor: Actor,
        kind: Kind,
        ref: Ref,
        obj: Model,
        *,
        expected_revision: int | None,
        approval: ApprovedRequest | None = None,
        override_isolation: bool = False,
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

        def operation() -> dict[str, Any]:
            return {
                "action": "put",
                "objects": objects_operation([(kind, ref, obj)]),
                "expected_revision": current,
                "override_isolation": override_isolation,
            }

        return self._commit(
            actor,
            plan,
            action="put",
            operation=operation,
            approval=approval,
            override_isolation=override_isolation,
        )

    # ------------------------------------------------------------------ internals

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

    def _judge(
        self, actor: Actor, plan: Plan, *, override_isolation: bool = False
    ) -> list[IsolationViolation]:
        """Refuse what may not be done; returns the leaks an override request covers."""
        for change in plan.changes:
            check_change(actor, change, plan.current)
        violations = admit(plan.current, plan.proposed, self._checks)
        leaks = overridden_leaks(actor, violations, requested=override_isolation)
        check_quota(plan.changes, plan.proposed, self.rules.tenant_object_quota)
        return leaks

    def _commit(
        self,
        actor: Actor,
        plan: Plan,
        *,
        action: str,
        operation: Callable[[], dict[str, Any]] | None = None,
        approval: ApprovedRequest | None = None,
        override_isolation: bool = False,
    ) -> ApplyResult:
        if plan.is_empty:
            return ApplyResult(plan, plan.generation)
        changes = plan.changes.changes
        concerned = set(plan.changes.tenants())
        if actor.tenant is not None:
            concerned.add(actor.tenant)
        tenants = tuple(sorted(concerned))
        try:
            leaks = self._judge(actor, plan, override_isolation=override_isolation)
        except (PermissionDeniedError, AdmissionError) as exc:
            self._audit_refusal(actor, action, changes, exc)
            raise
        approved: dict[str, Any] | None = None
        reasons = sensitive_in(actor, plan.changes) + [leak_reason(v) for v in leaks]
        if reasons:
            if approval is None or not set(reasons) <= approval.reasons:
                ceiling = actor.authority.ceiling if actor.authority else None
                raise self.approvals.request(
                    actor,
                    action=action,
                    summary="; ".join(reasons),
                    operation={
                        **(operation() if operation is not None else {"action": action}),
                        "reasons": reasons,
                        "ceiling": None if ceiling is None else sorted(map(str, ceiling)),
                        "counterexamples": [v.counterexample for v in leaks],
                    },
                    tenants=tuple(sorted({*tenants, *_tenants_of(leaks, plan.proposed)})),
                )
            approved = {"id": approval.id, "approved_by": approval.approver}
            if leaks:
                approved["leaks_admitted"] = [leak_reason(v) for v in leaks]
        records = applied_records(actor, action, changes, plan.placements, plan.generation + 1)
        if approved is not None:
            records = [
                dataclasses.replace(r, details={**r.details, "approval": approved}) for r in records
            ]
        with self._outage.writing():
            generation = self.store.commit(
                plan.changes,
                expected_generation=plan.generation,
                audit=self._outage.reported(records),
                sign=self.audit.sign_head,
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
        self, actor: Actor, action: str, changes: Sequence[Change], exc: TenantryError
    ) -> None:
        try:
            self._append(refused_records(actor, action, changes, exc))
        except AuditUnavailableError:
            # The refusal stands either way; the gap is recorded with the next write.
            log.warning("audit log unavailable: refusal of %s by %s not recorded", action, actor)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _tenants_of(leaks: Sequence[IsolationViolation], estate: Estate) -> set[str]:
    # The tenants on either side of a leak must see, in their own trail, that someone asked
    # to admit it, even when the change itself touches only provider objects.
    named = {name for leak in leaks for name in leak.tenants}
    return {name for name in named if Ref(PROVIDER, name) in estate.tenants}
