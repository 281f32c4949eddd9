"""Incremental compile of guest changes: the changed guests' old rows die, their new rows are
appended, and only the chains of new rows and the address sets whose scope holds a changed
owner are recomputed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from tenantry.compiler._index import CompileIndex
from tenantry.compiler._ports import PortBuilder
from tenantry.compiler.compile import _Builder
from tenantry.compiler.program import AddressSet, Chain, CompiledPolicy, PortTable, Programs
from tenantry.compiler.rules import applies
from tenantry.compiler.selection import (
    ChainBuilder,
    address_set_for,
    group_rows,
    owner_index,
    selected_rows,
)
from tenantry.model import PROVIDER, Change, Estate, Guest, Ref

__all__ = ["recompile_guests"]

_CSR = ("v4_offsets", "v6_offsets", "trunk_offsets")
"""Offset columns: the new rows' offsets continue where the old rows' end."""


def _guest_ids(index: CompileIndex, previous: Programs) -> dict[Ref, int]:
    """Guest reference -> the id of its current rows (built once per lineage)."""
    if index.guest_ids is None:
        index.guest_ids = {ref: i for i, ref in enumerate(previous.guests)}
    return index.guest_ids


def _concat(old: PortTable, dead: npt.NDArray[np.intp], new: PortTable) -> PortTable:
    """Old rows (``dead`` ones no longer live) followed by new rows; CSR offsets shifted."""
    columns: dict[str, npt.NDArray[np.generic]] = {}
    for name in old.__dataclass_fields__:
        if name in _CSR:
            continue
        a, b = getattr(old, name), getattr(new, name)
        if name == "live":
            a = np.array(a)
            a[dead] = False
        columns[name] = np.concatenate([a, b])
    for name in _CSR:
        a, b = getattr(old, name), getattr(new, name)
        columns[name] = np.concatenate([a, b[1:] + a[-1]]).astype(a.dtype)
    return PortTable(**columns)  # type: ignore[arg-type]


def _spliced_owner_index(
    index: CompileIndex,
    ports: PortTable,
    dead: npt.NDArray[np.intp],
    new_rows: npt.NDArray[np.intp],
    owners: int,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The owner index with only the changed owners' runs rebuilt (no sort of every row)."""
    if index.owner_order is None:
        return owner_index(ports, owners)
    order: npt.NDArray[np.intp] = index.owner_order  # type: ignore[assignment]
    starts: npt.NDArray[np.intp] = index.owner_starts  # type: ignore[assignment]
    column = ports.owner
    affected = np.unique(np.concatenate([column[dead], column[new_rows]])).tolist()
    counts = np.diff(starts)
    pieces = []
    cursor = 0
    for owner in affected:
        low, high = int(starts[owner]), int(starts[owner + 1])
        pieces.append(order[cursor:low])
        run = order[low:high]
        run = np.concatenate([run[~np.isin(run, dead)], new_rows[column[new_rows] == owner]])
        pieces.append(run)
        counts[owner] = len(run)
        cursor = high
    pieces.append(order[cursor:])
    spliced = np.concatenate(pieces).astype(np.intp)
    return spliced, np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)


def recompile_guests(
    previous: Programs, index: CompileIndex, before: Estate, changes: Sequence[Change]
) -> tuple[Programs, npt.NDArray[np.intp], frozenset[int], frozenset[int]]:
    """Programs after guest changes: (programs, rows changed, address sets, new chains)."""
    ids = _guest_ids(index, previous)
    ports = previous.ports
    gone = [ids[c.ref] for c in changes if c.ref in ids]
    dead = np.flatnonzero(np.isin(ports.guest, gone) & ports.live) if gone else np.zeros(0, np.intp)
    fresh: dict[Ref, Guest] = {c.ref: c.after for c in changes if isinstance(c.after, Guest)}
    builder = _Builder(before, index).continue_from(previous)
    base = len(previous.guests)
    refs, table = PortBuilder(builder).build(fresh, guest_base=base)
    tagsets = tuple(builder.tagsets)
    for offset, ref in enumerate(refs):
        ids[ref] = base + offset
    for c in changes:
        if c.after is None:
            ids.pop(c.ref, None)
    combined = _concat(ports, dead, table)
    new_rows = np.arange(len(ports), len(combined), dtype=np.intp)
    owners = {c.ref.owner for c in changes}
    chains, combined, new_chains = _chains_for(
        previous, index=index, ports=combined, rows=new_rows, owners=owners, tagsets=tagsets
    )
    index.owner_order, index.owner_starts = _spliced_owner_index(
        index, combined, dead, new_rows, len(previous.owners)
    )
    sets, changed_sets = _address_sets(
        previous, index=index, estate=before, ports=combined, owners=owners, tagsets=tagsets
    )
    programs = replace(
        previous,
        guests=previous.guests + refs,
        vnic_names=tuple(builder.vnic_names),
        port_groups=tuple(builder.port_groups),
        shapings=tuple(builder.shapings),
        tagsets=tagsets,
        ports=combined,
        address_sets=sets,
        chains=chains,
    )
    touched = np.concatenate([dead, new_rows]).astype(np.intp)
    return programs, touched, changed_sets, new_chains


def _chains_for(
    previous: Programs,
    *,
    index: CompileIndex,
    ports: PortTable,
    rows: npt.NDArray[np.intp],
    owners: set[str],
    tagsets: tuple[frozenset[str], ...],
) -> tuple[tuple[Chain | None, ...], PortTable, frozenset[int]]:
    """Chains for the new rows (each owner's candidates scoped and sorted once)."""
    by_owner = index.policies_by_owner
    candidates: dict[str, list[CompiledPolicy]] = {
        owner: [p for pid in by_owner.get(owner, ()) if (p := previous.policies[pid]) is not None]
        for owner in owners | {PROVIDER}
    }
    builder = ChainBuilder(candidates)
    column = np.array(ports.chain)
    chains = list(previous.chains)
    new: set[int] = set()
    groups = group_rows(ports, rows)
    for g, (owner, tagset) in enumerate(groups.groups):
        policy_ids = builder.chain(previous.owners[owner], tagsets[tagset])
        chain_id = index.chain_ids.setdefault(policy_ids, len(index.chain_ids))
        while len(chains) <= chain_id:
            chains.append(None)
        if chains[chain_id] is None:
            chains[chain_id] = Chain(chain_id, policy_ids)
            new.add(chain_id)
        column[groups.rows(g)] = chain_id
    return tuple(chains), replace(ports, chain=column), frozenset(new)


def _address_sets(
    previous: Programs,
    *,
    index: CompileIndex,
    estate: Estate,
    ports: PortTable,
    owners: set[str],
    tagsets: tuple[frozenset[str], ...],
) -> tuple[tuple[AddressSet | None, ...], frozenset[int]]:
    """Recompute every selector set whose scope holds one of ``owners``."""
    sets = list(previous.address_sets)
    changed: set[int] = set()
    owner_ids = index.owner_ids
    order: npt.NDArray[np.intp] = index.owner_order  # type: ignore[assignment]
    starts: npt.NDArray[np.intp] = index.owner_starts  # type: ignore[assignment]

    def rows_of(names: Iterable[str]) -> npt.NDArray[np.intp]:
        parts = [
            order[starts[i] : starts[i + 1]] for n in names if (i := owner_ids.get(n)) is not None
        ]
        return np.concatenate(parts) if parts else np.zeros(0, np.intp)

    for key, aset_id in index.address_set_ids.items():
        if key.service is not None or aset_id >= len(sets) or sets[aset_id] is None:
            continue
        if not any(applies(owner, key) for owner in owners):
            continue
        if key.owner != PROVIDER:
            scope = rows_of([key.owner])
        elif key.tenants is not None:
            scope = rows_of(key.tenants)
        else:
            scope = None  # every owner: the selector spans the estate
        groups = group_rows(ports, scope)
        members = selected_rows(key, groups, previous.owners, tagsets, owner_ids)
        sets[aset_id] = address_set_for(
            aset_id, key, ports=ports, members=members, estate=estate, segments=previous.segments
        )
        changed.add(aset_id)
    return tuple(sets), frozenset(changed)
