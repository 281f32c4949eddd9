"""Gates a change passes after authorization and admission: tenant quotas and the two-person rule.

Also how an estate operation is written down while it waits for its second approver, and read
back to be replayed exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tenantry.errors import InputError, QuotaExceededError, Violation
from tenantry.governance import Actor, sensitive_reasons
from tenantry.model import KIND_INFO, PROVIDER, ChangeSet, Estate, Kind, Model, Op, Ref

__all__ = [
    "ApprovedRequest",
    "check_quota",
    "estate_from_operation",
    "objects_operation",
    "sensitive_in",
]


@dataclass(frozen=True)
class ApprovedRequest:
    """A second person approved these sensitive reasons for one replay of an operation."""

    id: str
    approver: str
    reasons: frozenset[str]


def sensitive_in(actor: Actor, changes: ChangeSet) -> list[str]:
    """Why the change set needs a second approver when this actor makes it (empty: it does not).

    Only provider-side API actors are gated: tenants cannot make these changes at all, and the
    local system operator is break-glass, audited under its own name.
    """
    if actor.system or not actor.is_provider:
        return []
    return [reason for change in changes for reason in sensitive_reasons(change)]


def check_quota(changes: ChangeSet, proposed: Estate, quota: int) -> None:
    """Refuse a change that leaves a tenant owning more than ``quota`` objects."""
    growing = {c.ref.owner for c in changes if c.op is Op.CREATE and _tenant_owned(c.kind, c.ref)}
    if not growing:
        return
    counts = dict.fromkeys(growing, 0)
    for kind, info in KIND_INFO.items():
        if not info.owned:
            continue
        for ref, _ in proposed.items(kind):
            if ref.owner in counts:
                counts[ref.owner] += 1
    over = [
        Violation(
            "quota-objects",
            f"tenant {tenant} would own {count} objects; its quota is {quota}",
            (f"tenant {tenant}",),
        )
        for tenant, count in sorted(counts.items())
        if count > quota
    ]
    if over:
        raise QuotaExceededError(over)


def _tenant_owned(kind: Kind, ref: Ref) -> bool:
    return KIND_INFO[kind].owned and ref.owner != PROVIDER


def objects_operation(items: Iterable[tuple[Kind, Ref, Model]]) -> list[dict[str, Any]]:
    """Objects as JSON, to replay after an approval."""
    return [
        {
            "kind": str(kind),
            "owner": ref.owner,
            "name": ref.name,
            "body": obj.model_dump(mode="json"),
        }
        for kind, ref, obj in items
    ]


def estate_from_operation(objects: Iterable[dict[str, Any]]) -> Estate:
    """The estate written by ``objects_operation`` (validated again on the way back)."""
    items: list[tuple[Kind, Ref, Model]] = []
    for item in objects:
        try:
            kind = Kind(item["kind"])
            ref = Ref(str(item["owner"]), str(item["name"]))
            items.append((kind, ref, KIND_INFO[kind].model.model_validate(item["body"])))
        except (KeyError, ValueError) as exc:
            raise InputError(f"a stored request holds an invalid object: {exc}") from exc
    return Estate.build(items)
