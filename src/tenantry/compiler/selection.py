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

__all__ = [
    "ChainBuilder",
    "RowGroups",
    "address_set_for",
    "chain_for",
    "gather_csr",
    "group_rows",
    "owner_index",
]


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


def owner_index(ports: PortTable, owners: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Live rows sorted by owner, and the start of each owner's run (CSR by owner)."""
    live = np.flatnonzero(ports.live)
    order = live[np.argsort(ports.owner[live], kind="stable")]
    counts = np.bincount(ports.owner[order], minlength=owners)
    return order, np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)


def chain_for(
    owner: str, tags: frozenset[str], candidates: Mapping[str, Sequence[CompiledPolicy]]
) -> tuple[int, ...]:
    """The ids of the policies that apply to a port of ``owner`` with ``tags``, in order."""
    return ChainBuilder(candidates).chain(owner, tags)


class ChainBuilder:
    """Chains for many (owner, tag set) groups: each owner's candidate policies are scoped and
    sorted once, so a group only filters them by tags."""

    def __init__(self, candidates: Mapping[str, Sequence[CompiledPolicy]]) -> None:
        self._candidates = candidates
        self._ordered: dict[str, list[CompiledPolicy]] = {}

    def _for(self, owner: str) -> list[CompiledPolicy]:
        found = self._ordered.get(owner)
        if found is None:
            own = self._candidates.get(owner, ())
            provider = self._candidates.get(PROVIDER, ()) if owner != PROVIDER else ()
            found = [p for p in (*own, *provider) if applies(owner, p.applies_to)]
            found.sort(key=lambda p: p.sort_key)
            self._ordered[owner] = found
        return found

    def chain(self, owner: str, tags: frozenset[str]) -> tuple[int, ...]:
        """The chain of a port of ``owner`` carrying ``tags``."""
        return tuple(p.id for p in self._for(owner) if tags.issuperset(p.applies_to.tags))


def gather_csr(
    offsets: npt.NDArray[np.int32], values: npt.NDArray[np.generic], rows: npt.NDArray[np.intp]
) -> npt.NDArray[np.generic]:
    """The concatenated CSR slices of ``rows`` (vectorised, no Python loop)."""
    starts = offsets[rows].astype(np.int64)
    lengths = offsets[rows + 1].astype(np.int64) - starts
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
    """Every address set named in ``ids``, at its id. Selector sets are built together:
    one gather, one sort and one de-duplication for all of them, then a slice each."""
    owner_ids = {name: i for i, name in enumerate(owners)}
    out: list[AddressSet | None] = [None] * (max(ids.values(), default=-1) + 1)
    selectors: list[tuple[int, AddressSetKey, npt.NDArray[np.intp]]] = []
    for key, aset_id in ids.items():
        if key.service is not None:
            out[aset_id] = address_set_for(
                aset_id, key, ports=ports, members=_NO_ROWS, estate=estate, segments=segments
            )
        else:
            members = selected_rows(key, groups, owners, tagsets, owner_ids)
            selectors.append((aset_id, key, members))
    if selectors:
        _build_selector_sets(selectors, ports, out)
    return tuple(out)


_NO_ROWS: npt.NDArray[np.intp] = np.zeros(0, np.intp)


def _build_selector_sets(
    selectors: list[tuple[int, AddressSetKey, npt.NDArray[np.intp]]],
    ports: PortTable,
    out: list[AddressSet | None],
) -> None:
    counts = np.array([len(members) for _, _, members in selectors], np.int64)
    rows = np.concatenate([members for _, _, members in selectors]).astype(np.intp)
    owner = np.repeat(np.arange(len(selectors)), counts)
    member_bounds = np.concatenate([[0], np.cumsum(counts)])
    all_members = rows.astype(np.int32)
    # IPv4: (set, packed prefix) sorted and de-duplicated for every set at once
    v4_lengths = (ports.v4_offsets[rows + 1] - ports.v4_offsets[rows]).astype(np.int64)
    v4 = gather_csr(ports.v4_offsets, ports.v4, rows).astype(np.uint64)
    v4_set = np.repeat(owner, v4_lengths)
    packed = (v4 << np.uint64(8)) | np.uint64(32)
    order = np.lexsort((packed, v4_set))
    v4_set, packed = v4_set[order], packed[order]
    keep = np.ones(len(packed), np.bool_)
    keep[1:] = (v4_set[1:] != v4_set[:-1]) | (packed[1:] != packed[:-1])
    v4_set, packed = v4_set[keep], packed[keep]
    v4_bounds = np.searchsorted(v4_set, np.arange(len(selectors) + 1))
    # IPv6: (set, hi, lo) the same way, with the /128 length as the third column
    v6_lengths = (ports.v6_offsets[rows + 1] - ports.v6_offsets[rows]).astype(np.int64)
    v6 = gather_csr(ports.v6_offsets, ports.v6, rows).reshape(-1, 2)
    v6_set = np.repeat(owner, v6_lengths)
    order = np.lexsort((v6[:, 1], v6[:, 0], v6_set))
    v6_set, v6 = v6_set[order], v6[order]
    keep = np.ones(len(v6), np.bool_)
    keep[1:] = (v6_set[1:] != v6_set[:-1]) | (v6[1:] != v6[:-1]).any(axis=1)
    v6_set, v6 = v6_set[keep], v6[keep]
    v6_rows = np.concatenate([v6, np.full((len(v6), 1), 128, np.uint64)], axis=1)
    v6_bounds = np.searchsorted(v6_set, np.arange(len(selectors) + 1))
    for j, (aset_id, key, _) in enumerate(selectors):
        four = packed[v4_bounds[j] : v4_bounds[j + 1]]
        six = v6_rows[v6_bounds[j] : v6_bounds[j + 1]]
        prefixes = PrefixSet(
            four if len(four) else PrefixSet.empty().v4, six if len(six) else PrefixSet.empty().v6
        )
        members = all_members[member_bounds[j] : member_bounds[j + 1]]
        out[aset_id] = AddressSet(aset_id, key, prefixes, members)
