"""Ids that outlive one compile: append-only maps shared by a lineage of programs.

A full compile starts a lineage; ``recompile`` extends it. Ids are never reused, so a map
from a name to an id stays true for every generation that has that id (a later generation
may have tombstoned it). Only the newest generation of a lineage may be recompiled: that is
what ``head`` records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tenantry.compiler.program import AddressSetKey
from tenantry.model import Ref

__all__ = ["CompileIndex"]


@dataclass(eq=False)
class CompileIndex:
    """Name -> id maps for policies, address sets, chains and tag sets."""

    policy_ids: dict[Ref, int] = field(default_factory=dict)
    policies_by_owner: dict[str, set[int]] = field(default_factory=dict)
    address_set_ids: dict[AddressSetKey, int] = field(default_factory=dict)
    chain_ids: dict[tuple[int, ...], int] = field(default_factory=dict)
    tagset_ids: dict[frozenset[str], int] = field(default_factory=dict)
    intern: dict[object, object] = field(default_factory=dict)
    owner_ids: dict[str, int] = field(default_factory=dict)
    """Owner name -> index into ``Programs.owners`` (fixed for the lineage)."""
    guest_ids: dict[Ref, int] | None = None
    """Guest reference -> the guest id of its live rows (built on the first guest change)."""
    segment_ids: dict[Ref, int] | None = None
    """Network -> segment id (built on the first network change, kept by later ones)."""
    owner_order: object = None
    """Live port rows sorted by owner, and where each owner's run starts (built on first
    use; ports only change in a full compile, which starts a new index)."""
    owner_starts: object = None
    head: object = None
    """The newest programs of this lineage (only it may be recompiled incrementally)."""
