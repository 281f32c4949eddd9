"""Audit records per scope: one entry per tenant concerned, one for provider infrastructure.

A tenant verifies its own entries without seeing anyone else's, so no entry concerns two
tenants: a change set that touches several is recorded as one entry per tenant, each
naming only that tenant's objects, all in the same transaction. Where the actor belongs to
another tenant, that tenant's entry says so without naming it; where a tenant's user reached
outside its tenant, its entry says that without naming what was reached. The entries of one
operation share an ``operation`` id, so the provider can put them back together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from tenantry.audit import AuditRecord, Outcome
from tenantry.audit.snapshot import object_digest, object_key
from tenantry.errors import AdmissionError, TenantryError
from tenantry.governance import Actor
from tenantry.model import PROVIDER, Change, Kind, Ref

__all__ = [
    "ANOTHER_TENANT",
    "OUTSIDE",
    "applied_records",
    "event_records",
    "object_scope",
    "refused_records",
]

ANOTHER_TENANT = "(a user of another tenant)"
"""How an entry names an actor from a tenant other than the one it concerns."""

OUTSIDE = "(outside the tenant)"
"""How a tenant's entry names an object its user reached for outside the tenant."""


def object_scope(kind: Kind | str, ref: Ref) -> str | None:
    """The tenant an object concerns, or None for provider infrastructure."""
    if str(kind) == str(Kind.TENANT):
        return ref.name
    return None if ref.owner == PROVIDER else ref.owner


def _scopes(actor: Actor, changes: Iterable[Change]) -> dict[str | None, list[Change]]:
    grouped: dict[str | None, list[Change]] = {}
    for change in changes:
        grouped.setdefault(object_scope(change.kind, change.ref), []).append(change)
    if actor.tenant is not None:
        grouped.setdefault(actor.tenant, [])
    return grouped or {None: []}


def _each_scope(
    actor: Actor, changes: Sequence[Change]
) -> Iterator[tuple[str | None, list[Change], str, str]]:
    """Per scope, in a stable order: its changes, and how its entry names the actor."""
    for scope, mine in sorted(_scopes(actor, changes).items(), key=lambda kv: kv[0] or ""):
        yield scope, mine, *_who(actor, scope)


def _who(actor: Actor, scope: str | None) -> tuple[str, str]:
    if actor.tenant is not None and scope is not None and scope != actor.tenant:
        return ANOTHER_TENANT, ""
    return actor.name, actor.source


def applied_records(
    actor: Actor,
    action: str,
    changes: Sequence[Change],
    placements: dict[Ref, str],
    generation: int,
) -> list[AuditRecord]:
    """The entries of one committed change set, one per scope, each with object digests."""
    now = datetime.now(UTC)
    operation = uuid.uuid4().hex
    records = []
    for scope, mine, name, source in _each_scope(actor, changes):
        counts: dict[str, int] = {}
        for change in mine:
            counts[str(change.op)] = counts.get(str(change.op), 0) + 1
        details: dict[str, Any] = {
            "operation": operation,
            "generation": generation,
            "counts": counts,
            "objects": {
                object_key(str(c.kind), str(c.ref)): (
                    None if c.after is None else object_digest(c.after.model_dump(mode="json"))
                )
                for c in mine
            },
        }
        placed = {str(c.ref): placements[c.ref] for c in mine if c.ref in placements}
        if placed:
            details["placements"] = placed
        records.append(
            AuditRecord(
                actor=name,
                source=source,
                action=action,
                outcome=Outcome.APPLIED,
                targets=tuple(str(c) for c in mine),
                tenants=() if scope is None else (scope,),
                details=details,
                time=now,
            )
        )
    return records


def refused_records(
    actor: Actor, action: str, changes: Sequence[Change], error: TenantryError
) -> list[AuditRecord]:
    """The entries of one refused change set: who tried what, and why, per scope."""
    now = datetime.now(UTC)
    operation = uuid.uuid4().hex
    records = []
    for scope, mine, name, source in _each_scope(actor, changes):
        targets = [str(c) for c in mine]
        if scope is not None and scope == actor.tenant:
            # The actor's own tenant learns that its user reached outside, not what for.
            targets += [f"{c.op} {c.kind} {OUTSIDE}" for c in changes if c not in mine]
        # The error's own words may name the actor's tenant and every object asked for: they
        # go only where all of that belongs.
        whole = scope is None or (len(mine) == len(changes) and actor.tenant in (None, scope))
        records.append(
            AuditRecord(
                actor=name,
                source=source,
                action=action,
                outcome=Outcome.REFUSED,
                targets=tuple(targets),
                tenants=() if scope is None else (scope,),
                reason=f"{error.code}: {error}" if whole else _reason_within(error, scope),
                details={"operation": operation},
                time=now,
            )
        )
    return records


def event_records(
    actor: Actor,
    action: str,
    outcome: Outcome,
    *,
    targets: Sequence[str],
    tenants: Sequence[str],
    reason: str,
    details: dict[str, Any],
    now: datetime | None = None,
) -> list[AuditRecord]:
    """An event (a login, a key release) as one entry per tenant concerned (or one provider
    entry): targets naming another tenant's object are masked, and where several tenants are
    concerned each keeps only the reason's code (the words before the first colon) and no
    counterexample, which a provider entry then keeps."""
    now = now or datetime.now(UTC)
    scopes: list[str | None] = [*sorted(set(tenants))] or [None]
    shared = len(scopes) > 1
    if shared and "counterexamples" in details:
        # What the tenants' entries withhold, the provider's own entry keeps whole.
        scopes.append(None)
    operation = uuid.uuid4().hex if shared else None
    records = []
    for scope in scopes:
        name, source = _who(actor, scope)
        shown = [
            t if _target_scope(t) in (None, scope) or scope is None else _masked(t) for t in targets
        ]
        records.append(
            AuditRecord(
                actor=name,
                source=source,
                action=action,
                outcome=outcome,
                targets=tuple(shown),
                tenants=() if scope is None else (scope,),
                reason=reason.split(":", 1)[0] if shared and scope is not None else reason,
                details=_details_within(details, shared=shared, scope=scope)
                | ({"operation": operation} if operation else {}),
                time=now,
            )
        )
    return records


def _details_within(details: dict[str, Any], *, shared: bool, scope: str | None) -> dict[str, Any]:
    # A counterexample names ports and addresses on both sides of a leak: a tenant's entry of
    # an event that concerns several tenants keeps only how many there were.
    if not shared or scope is None or "counterexamples" not in details:
        return details
    kept = {k: v for k, v in details.items() if k != "counterexamples"}
    return kept | {"counterexamples_withheld": len(details["counterexamples"])}


def _target_scope(target: str) -> str | None:
    # Targets read "[verb] kind ref" (``update guest acme/web``, ``disk acme/web/root``).
    words = target.split()
    if len(words) < 2:
        return None
    return object_scope(words[-2], Ref.parse(words[-1]))


def _masked(target: str) -> str:
    words = target.split()
    return " ".join([*words[:-1], OUTSIDE])


def _reason_within(error: TenantryError, scope: str | None) -> str:
    # Another tenant's entry must not leak what the refusal said about other objects: only
    # the rules broken on this tenant's own objects, by name and place, never their messages.
    if not isinstance(error, AdmissionError):
        return error.code
    mine = [v for v in error.violations if _violation_scope(v.kind, v.ref) == scope]
    listed = "; ".join(f"{v.rule} at {v.path}" if v.path else v.rule for v in mine)
    return f"{error.code}: {listed}" if listed else error.code


def _violation_scope(kind: str, ref: str) -> str | None:
    if not kind:
        return None
    return object_scope(kind, Ref.parse(ref))
