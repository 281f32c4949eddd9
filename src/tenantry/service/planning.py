"""Turning a declared estate into a concrete plan: sticky placement, then the diff."""

from __future__ import annotations

from tenantry.errors import Violation
from tenantry.model import Change, ChangeSet, Estate, Kind, Op, Ref, plan_changes
from tenantry.placement import place

__all__ = ["place_guests"]


def place_guests(
    current: Estate, declared: Estate
) -> tuple[Estate, dict[Ref, str], list[Violation]]:
    """Give every declared guest without a host one: the host it already runs on, or a new one.

    Returns the declared estate with hosts filled in, the new placements, and a violation per
    guest no host can take.
    """
    placed: dict[Ref, str] = {}
    problems: list[Violation] = []
    updates: list[Change] = []
    working = current.with_changes(plan_changes(current, declared))
    for ref, guest in sorted(declared.guests.items()):
        if guest.host is not None:
            continue
        existing = current.guests.get(ref)
        host = existing.host if existing is not None else None
        if host is None:
            # Place against the estate as it will be, minus this guest's own reservation.
            host = place(working, ref.owner, guest)
            if host is None:
                problems.append(
                    Violation(
                        "placement-none",
                        "no host carries the tenant's tag, spans its switches, sees its "
                        "datastores and has room for its reservations",
                        (f"guest {ref}",),
                        str(Kind.GUEST),
                        str(ref),
                        "host",
                    )
                )
                continue
            placed[ref] = host
        pinned = guest.model_copy(update={"host": host})
        updates.append(Change(Op.UPDATE, Kind.GUEST, ref, guest, pinned))
        working = working.with_changes(
            ChangeSet((Change(Op.UPDATE, Kind.GUEST, ref, working.guests.get(ref), pinned),))
        )
    return declared.with_changes(ChangeSet(tuple(updates))), placed, problems
