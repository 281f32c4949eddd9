"""Changes: what the service plans, admits, writes and audits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from tenantry.model._base import Model
from tenantry.model.estate import Estate
from tenantry.model.ids import PROVIDER, Ref
from tenantry.model.kinds import KIND_INFO, Kind

__all__ = ["Change", "ChangeSet", "Op", "plan_changes"]


class Op(StrEnum):
    """What a change does to one object."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Change:
    """One object created, updated or deleted."""

    op: Op
    kind: Kind
    ref: Ref
    before: Model | None
    after: Model | None

    @property
    def tenant(self) -> str | None:
        """The tenant this change concerns, if any."""
        if self.kind is Kind.TENANT:
            return self.ref.name
        return None if self.ref.owner == PROVIDER else self.ref.owner

    def changed_fields(self) -> tuple[str, ...]:
        """Top-level fields that differ between before and after."""
        if self.before is None or self.after is None:
            return ()
        before = self.before.model_dump(mode="json")
        after = self.after.model_dump(mode="json")
        return tuple(k for k in after if before.get(k) != after.get(k))

    def __str__(self) -> str:
        return f"{self.op} {self.kind} {self.ref}"


@dataclass(frozen=True)
class ChangeSet:
    """An ordered set of changes applied as one transaction."""

    changes: tuple[Change, ...] = ()

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def tenants(self) -> frozenset[str]:
        """Every tenant concerned by at least one change."""
        return frozenset(t for c in self.changes if (t := c.tenant) is not None)

    def counts(self) -> dict[Op, int]:
        """How many creates, updates and deletes."""
        return {op: sum(1 for c in self.changes if c.op is op) for op in Op}

    @classmethod
    def of(cls, changes: Iterable[Change]) -> ChangeSet:
        """A change set in a stable order: kinds in dependency order, then refs."""
        order = {kind: i for i, kind in enumerate(KIND_INFO)}
        return cls(tuple(sorted(changes, key=lambda c: (order[c.kind], c.ref))))


def plan_changes(current: Estate, declared: Estate, *, prune: bool = False) -> ChangeSet:
    """What turns ``current`` into one that holds everything ``declared`` holds.

    Without ``prune`` objects absent from ``declared`` stay; with it they are deleted.
    Objects are compared by value, so applying the same spec twice plans nothing.
    """
    changes: list[Change] = []
    for kind in Kind:
        have = current.objects.get(kind, {})
        want = declared.objects.get(kind, {})
        for ref, obj in want.items():
            old = have.get(ref)
            if old is None:
                changes.append(Change(Op.CREATE, kind, ref, None, obj))
            elif old != obj:
                changes.append(Change(Op.UPDATE, kind, ref, old, obj))
        if prune:
            changes.extend(
                Change(Op.DELETE, kind, ref, obj, None)
                for ref, obj in have.items()
                if ref not in want
            )
    return ChangeSet.of(changes)
