"""The one door to state: authorize, admit, write in one transaction with one audit entry, then
let the backends reconcile."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tenantry.audit import AuditRecord, Outcome, SignedTreeHead, Signer
from tenantry.errors import (
    AdmissionError,
    AuditUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    StaleRevisionError,
    TenantryError,
)
from tenantry.governance import Actor, check_change, is_visible
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
from tenantry.service.admission import DEFAULT_CHECKS, AdmissionCheck, admit, refusal
from tenantry.service.audit_outage import AuditOutage
from tenantry.service.audit_scopes import applied_records, event_records, refused_records
from tenantry.service.auditing import AuditTrail
from tenantry.service.planning import place_guests
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


class Service:
    """Every read and change of the estate goes through here."""

    def __init__(
        self,
        store: Store,
        *,
        hooks: Sequence[CommitHook] = (),
        checks: Sequence[AdmissionCheck] = DEFAULT_CHECKS,
        signer: Signer | None = None,
    ) -> None:
        self.store = store
        self._hooks = list(hooks)
        self._checks = tuple(checks)
        self._signer = signer
        self.audit = AuditTrail(store, self._audit_signer)
        """Heads, proofs, tenant views, bundles, verification and checkpoints of the trail."""
        self._outage = AuditOutage()

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

    def _audit_signer(self, create: bool) -> Signer:
        # Loaded on first use, so that reads never need the key; created only to sign, never
        # to verify (a new key would only make every head look forged).
        if self._signer is None:
            self._signer = load_signing_key(Settings().audit_key_path(), create=create)
        return self._signer

    # ------------------------------------------------------------------ audit events

    def record(
        self,
        actor: Actor,
        action: str,
        outcome: Outcome | str,
        *,
        targets: Sequence[str] = (),
        tenant: str | None = None,
        tenants: Sequence[str] = (),
        reason: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> SignedTreeHead:
        """Write one audit event (a login, an approval, a key release, a use of a data-access
        grant) durably, with its signed head; AuditUnavailableError if it cannot be written,
        in which case the caller must not go on (fail closed).

        An entry concerns one tenant at most: an event about several tenants (``tenants``) is
        written as one entry per tenant, in one transaction, each masking the other tenants'
        objects in ``targets`` (written ``kind owner/name``) and keeping only the code of
        ``reason`` (``code: message``).
        """
        records = event_records(
            actor,
            action,
            Outcome(outcome),
            targets=tuple(targets),
            tenants=[*tenants, *([] if tenant is None else [tenant])],
            reason=reason,
            details=dict(details or {}),
        )
        head = self._append(records)
        if head is None:  # pragma: no cover - an append with a signer always signs
            raise AuditUnavailableError("the audit event was written without a signed head")
        return head

    def _append(self, records: Sequence[AuditRecord]) -> SignedTreeHead | None:
        with self._outage.writing():
            return self.store.append_audit(
                self._outage.reported(records), sign=self.audit.sign_head
            )

    # ------------------------------------------------------------------ reads

    def snapshot(self) -> Snapshot:
        """The stored estate (unfiltered: for backends and verification, not for users)."""
        return self.store.load()

    def estate(self, actor: Actor) -> Estate:
        """The part of the estate the actor may see."""
        return _visible(actor, self.store.load().estate)

    def list(self, actor: Actor, kind: Kind) -> list[tuple[Ref, Model]]:
        """Every object of a kind the actor may see, sorted by reference."""
        estate = self.store.load().estate
        return sorted((r, o) for r, o in estate.items(kind) if is_visible(actor, kind, r))

    def get(self, actor: Actor, kind: Kind, ref: Ref) -> tuple[Model, int]:
        """One object and its revision; NotFoundError also when the actor may not see it."""
        snapshot = self.store.load()
        obj = snapshot.estate.get(kind, ref)
        if obj is None or not is_visible(actor, kind, ref):
            raise NotFoundError(f"{kind} {ref} not found")
        return obj, snapshot.revisions[(kind, ref)]

    # ------------------------------------------------------------------ changes

    def plan(self, actor: Actor, declared: Estate, *, prune: bool = False) -> Plan:
        """What applying ``declared`` would change; raises what apply would, audits nothing."""
        plan = self._plan(actor, self.store.load(), declared, prune=prune)
        self._judge(actor, plan)
        return plan

    def apply(self, actor: Actor, declared: Estate, *, prune: bool = False) -> ApplyResult:
        """Make the store hold ``declared`` (idempotent: a second apply changes nothing)."""
        for _ in range(MAX_ATTEMPTS):
            plan = self._plan(actor, self.store.load(), declared, prune=prune)
            try:
                return self._commit(actor, plan, action="apply")
            except StaleRevisionError:
                continue
        raise StaleRevisionError("the estate kept changing; gave up after retries")

    def delete(
        self, actor: Actor, kind: Kind, ref: Ref, *, expected_revision: int | None = None
    ) -> ApplyResult:
        """Delete one object (refused if anything still uses it)."""
        snapshot = self.store.load()
        obj = snapshot.estate.get(kind, ref)
        if obj is None or not is_visible(actor, kind, ref):
            raise NotFoundError(f"{kind} {ref} not found")
        if expected_revision is not None and snapshot.revisions[(kind, ref)] != expected_revision:
            raise StaleRevisionError(f"{kind} {ref} changed since revision {expected_revision}")
        changes = ChangeSet((Change(Op.DELETE, kind, ref, obj, None),))
        plan = Plan(
            changes, snapshot.generation, snapshot.estate, snapshot.estate.with_changes(changes)
        )
        return self._commit(actor, plan, action="delete")

    def put(
        self, actor: Actor, kind: Kind, ref: Ref, obj: Model, *, expected_revision: int | None
    ) -> ApplyResult:
        """Create or replace one object; ``expected_revision`` guards against lost updates
        (0 means it must not exist yet)."""
        snapshot = self.store.load()
        current = snapshot.revisions.get((kind, ref), 0)
        if expected_revision is not None and current != expected_revision:
            if current and not is_visible(actor, kind, ref):
                raise NotFoundError(f"{kind} {ref} not found")
            raise StaleRevisionError(
                f"{kind} {ref} is at revision {current}, not {expected_revision}"
            )
        declared = Estate.build([(kind, ref, obj)])
        plan = self._plan(actor, snapshot, declared, prune=False)
        return self._commit(actor, plan, action="put")

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

    def _check_scope(self, actor: Actor, declared: Estate) -> None:
        """Refuse, before any diff, objects the actor may not even know about.

        Otherwise an unchanged object outside the actor's boundary would plan as "no change"
        and reveal that it exists, and what it holds.
        """
        if actor.is_provider:
            return
        for kind in KIND_INFO:
            for ref, obj in declared.items(kind):
                if not is_visible(actor, kind, ref):
                    exc = PermissionDeniedError(
                        f"{actor} may not declare {kind} {ref}: outside the tenant's boundary"
                    )
                    # Recorded as an update whether or not the object exists: no oracle.
                    attempt = Change(Op.UPDATE, kind, ref, None, obj)
                    self._audit_refusal(actor, "apply", (attempt,), exc)
                    raise exc

    def _judge(self, actor: Actor, plan: Plan) -> None:
        for change in plan.changes:
            check_change(actor, change, plan.current)
        violations = admit(plan.current, plan.proposed, self._checks)
        if violations:
            raise refusal(violations)

    def _commit(self, actor: Actor, plan: Plan, *, action: str) -> ApplyResult:
        if plan.is_empty:
            return ApplyResult(plan, plan.generation)
        changes = plan.changes.changes
        try:
            self._judge(actor, plan)
        except (PermissionDeniedError, AdmissionError) as exc:
            self._audit_refusal(actor, action, changes, exc)
            raise
        records = applied_records(actor, action, changes, plan.placements, plan.generation + 1)
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


def _visible(actor: Actor, estate: Estate) -> Estate:
    if actor.is_provider:
        return estate
    return Estate.build(
        (kind, ref, obj)
        for kind in KIND_INFO
        for ref, obj in estate.items(kind)
        if is_visible(actor, kind, ref)
    )
