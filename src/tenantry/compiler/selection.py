"""Which ports a selector picks: groups of ports by (owner, tag set), chains, address sets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tenantry.compiler.addresses import PrefixSet
from tenantry.compiler.program import AddressSet, AddressSetKey, CompiledPolicy, PortTable, Segment
from tenantry.compiler.rules import applies
from tenantry.model import PROVIDER, Estate, Ref

__all__ = ["RowGroups", "address_set_for", "chain_for", "gather_csr", "group_rows"]


@dataclass(frozen=True)
class RowGroups:
    """Live port rows grouped by (owner, tag set): every port of a group shares one chain."""

    groups: list[tuple[int, int]]
    order: npt.NDArray[np.intp]
    starts: npt.NDArray[np.intp]
    by_owner: dict[int, list[int]]

    def rows(self, group: int) -> npt.NDArray[np.intp]:
        """The rows of one group."""
        return self.order[self.starts[group] : self.starts[group + 1]]

    def rows_of(self, groups: Iterable[int]) -> npt.NDArray[np.intp]:
        """The rows of several groups, sorted."""
        parts = [self.rows(g) for g in groups]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.intp)


def group_rows(ports: PortTable, rows: npt.NDArray[np.intp] | None = None) -> RowGroups:
    """Group the live rows (or the given rows) by (owner, tag set)."""
    if rows is None:
        rows = np.flatnonzero(ports.live)
    key = (ports.owner[rows].astype(np.int64) << 32) | ports.tagset[rows].astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_keys = key[order]
    unique, starts = np.unique(sorted_keys, return_index=True)
    groups = [(int(k >> 32), int(k & 0xFFFFFFFF)) for k in unique.tolist()]
    by_owner: dict[int, list[int]] = {}
    for g, (owner, _) in enumerate(groups):
        by_owner.setdefault(owner, []).append(g)
    bounds = np.append(starts, len(order)).astype(np.intp)
    return RowGroups(groups, rows[order], bounds, by_owner)


def chain_for(
    owner: str, tags: frozenset[str], candidates: Mapping[str, Sequence[CompiledPolicy]]
) -> tuple[int, ...]:
    """The ids of the policies that apply to a port of ``owner`` with ``tags``, in order."""
    own = candidates.get(owner, ())
    provider = candidates.get(PROVIDER, ()) if owner != PROVIDER else ()
    chosen = [
        p
        for p in (*own, *provider)
        if applies(owner, p.applies_to) and tags.issuperset(p.applies_to.tags)
    ]
    chosen.sort(key=lambda p: p.sort_key)
    return tuple(p.id for p in chosen)


def gather_csr(
    offsets: npt.NDArray[np.int64], values: npt.NDArray[np.generic], rows: npt.NDArray[np.intp]
) -> npt.NDArray[np.generic]:
    """The concatenated CSR slices of ``rows`` (vectorised, no Python loop)."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return values[:0]
    ends = np.cumsum(lengths)
    index = np.repeat(starts - (ends - lengths), lengths) + np.arange(total)
    return values[index]


def selected_rows(
    key: AddressSetKey,
    groups: RowGroups,
    owners: Sequence[str],
    tagsets: Sequence[frozenset[str]],
    owner_ids: Mapping[str, int],
) -> npt.NDArray[np.intp]:
    """The live rows a selector key picks."""
    if key.owner != PROVIDER:
        scope: Iterable[int] = [owner_ids[key.owner]] if key.owner in owner_ids else []
    elif key.tenants is None:
        scope = groups.by_owner.keys()
    else:
        scope = [owner_ids[t] for t in key.tenants if t in owner_ids]
    wanted = set(key.tags)
    chosen = [
        g
        for owner in scope
        for g in groups.by_owner.get(owner, ())
        if tagsets[groups.groups[g][1]].issuperset(wanted)
    ]
    del owners
    return groups.rows_of(chosen)


def address_set_for(
    aset_id: int,
    key: AddressSetKey,
    *,
    ports: PortTable,
    members: npt.NDArray[np.intp],
    estate: Estate,
    segments: Sequence[Segment | None],
) -> AddressSet:
    """The addresses behind one key: the members' locked addresses, or a service's subnets."""
    if key.service is not None:
        service = estate.shared_services.get(Ref(PROVIDER, key.service))
        subnets: tuple[object, ...] = ()
        if service is not None:
            network = estate.networks.get(Ref(PROVIDER, service.network))
            subnets = tuple(s.cidr for s in network.subnets) if network is not None else ()
        del segments
        return AddressSet(aset_id, key, PrefixSet.of(subnets))  # type: ignore[arg-type]
    v4 = gather_csr(ports.v4_offsets, ports.v4, members).astype(np.uint64)
    v6 = gather_csr(ports.v6_offsets, ports.v6, members).reshape(-1, 2)
    v4_rows = (v4 << np.uint64(8)) | np.uint64(32)
    v6_rows = np.concatenate([v6, np.full((v6.shape[0], 1), 128, np.uint64)], axis=1)
    return AddressSet(
        aset_id, key, PrefixSet.from_arrays(v4_rows, v6_rows), members.astype(np.int32)
    )


def build_address_sets(
    ids: Mapping[AddressSetKey, int],
    *,
    ports: PortTable,
    groups: RowGroups,
    tagsets: Sequence[frozenset[str]],
    owners: Sequence[str],
    estate: Estate,
    segments: Sequence[Segment | None],
) -> tuple[AddressSet | None, ...]:
    """Every address set named in ``ids``, at its id."""
    owner_ids = {name: i for i, name in enumerate(owners)}
    out: list[AddressSet | None] = [None] * (max(ids.values(), default=-1) + 1)
    for key, aset_id in ids.items():
        members = (
            np.zeros(0, np.intp)
            if key.service is not None
            else selected_rows(key, groups, owners, tagsets, owner_ids)
        )
        out[aset_id] = address_set_for(
            aset_id, key, ports=ports, members=members, estate=estate, segments=segments
        )
    return tuple(out)
