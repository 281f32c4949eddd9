"""Incremental compile: recompile only what a change touches, and say what changed.

A change set that touches only policies and guests is compiled incrementally. Policies: the
changed policies, the address sets they newly need, and the chains of the owners they apply
to. Guests: the changed guests' old port rows stop being live and their new rows are
appended; the chains of the new rows and the address sets whose scope holds a changed owner
are recomputed. Every other column is shared with the previous programs. Network-only changes
that touch only segments and router legs (see ``_networks``) are compiled incrementally too,
ids kept; their delta is still ``full`` (it has no field for segments or router legs yet), so
backends resync. Anything else (port groups, tenants, services, routers, hosts, other
network changes) takes a full compile and a ``full`` delta, which a backend answers with a
full resync. Either way the result equals a full compile of the new estate
(``Programs.canonical``), which the property tests check.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from tenantry.compiler._guests import recompile_guests
from tenantry.compiler._index import CompileIndex
from tenantry.compiler._networks import recompile_networks
from tenantry.compiler.compile import compile_estate
from tenantry.compiler.program import (
    AddressSet,
    AddressSetKey,
    Chain,
    CompiledPolicy,
    Programs,
)
from tenantry.compiler.rules import compile_policy
from tenantry.compiler.selection import (
    ChainBuilder,
    address_set_for,
    group_rows,
    owner_index,
    selected_rows,
)
from tenantry.model import PROVIDER, ChangeSet, Estate, Kind, Policy, plan_changes

__all__ = ["ProgramDelta", "recompile"]


def _no_rows() -> npt.NDArray[np.intp]:
    return np.zeros(0, np.intp)


@dataclass(frozen=True, eq=False)
class ProgramDelta:
    """What changed between two programs of one lineage (ids are shared between them)."""

    full: bool = False
    """Everything may have changed and ids are not shared: resync from scratch."""
    policies: frozenset[int] = frozenset()
    """Policy ids added, changed or removed (a removed id is None in the new programs)."""
    address_sets: frozenset[int] = frozenset()
    """Address sets added or whose contents changed."""
    chains: frozenset[int] = frozenset()
    """Chains new in the new programs."""
    ports: npt.NDArray[np.intp] = field(default_factory=_no_rows)
    """Port rows whose columns changed (their chain, for a policy change)."""

    @property
    def is_empty(self) -> bool:
        return not (
            self.full or self.policies or self.address_sets or self.chains or len(self.ports)
        )


def recompile(
    previous: Programs, before: Estate, after: Estate | ChangeSet
) -> tuple[Programs, ProgramDelta]:
    """Programs for the estate after a change, compiling only what it touches."""
    if isinstance(after, ChangeSet):
        changes = after
        estate_after = None
    else:
        changes = plan_changes(before, after, prune=True)
        estate_after = after
    if not changes:
        return previous, ProgramDelta()
    index = previous.index
    kinds = {c.kind for c in changes}
    if kinds == {Kind.NETWORK} and isinstance(index, CompileIndex) and index.head is previous:
        programs = recompile_networks(previous, index, before, list(changes))
        if programs is not None:
            index.head = programs
            # ids are kept, but ProgramDelta cannot name segments or router legs yet, so
            # backends resync (a backend that applies non-full deltas reconciles policies)
            return programs, ProgramDelta(full=True)
    if (
        not isinstance(index, CompileIndex)
        or index.head is not previous
        or not kinds
        <= {
            Kind.POLICY,
            Kind.GUEST,
        }
    ):
        if estate_after is None:
            estate_after = before.with_changes(changes)
        return compile_estate(estate_after), ProgramDelta(full=True)
    # only guests and policies changed: segments, port groups and services are read from
    # `before`; guests come from the changes themselves
    guest_rows = np.zeros(0, np.intp)
    guest_sets: frozenset[int] = frozenset()
    guest_chains: frozenset[int] = frozenset()
    if Kind.GUEST in kinds:
        guest_changes = [c for c in changes if c.kind is Kind.GUEST]
        previous, guest_rows, guest_sets, guest_chains = recompile_guests(
            previous, index, before, guest_changes
        )
        index.head = previous
    policy_changes = ChangeSet(tuple(c for c in changes if c.kind is Kind.POLICY))
    programs, delta = _PolicyRecompile(previous, index, before).run(policy_changes)
    if Kind.GUEST in kinds:
        delta = ProgramDelta(
            policies=delta.policies,
            address_sets=delta.address_sets | guest_sets,
            chains=delta.chains | guest_chains,
            ports=np.union1d(delta.ports, guest_rows).astype(np.intp),
        )
    index.head = programs
    return programs, delta


class _PolicyRecompile:
    """The incremental path for a change set made only of policies."""

    def __init__(self, previous: Programs, index: CompileIndex, estate: Estate) -> None:
        self.previous = previous
        self.index = index
        self.estate = estate
        self.policies: list[CompiledPolicy | None] = list(previous.policies)
        self._address_sets: list[AddressSet | None] | None = None  # copied on first write
        self.new_sets: set[int] = set()
        self.owner_ids = index.owner_ids or {name: i for i, name in enumerate(previous.owners)}
        self.all_owners = False
        self.owners: set[str] = set()
        self.new_chains: set[int] = set()

    def run(self, changes: ChangeSet) -> tuple[Programs, ProgramDelta]:
        touched: set[int] = set()
        for change in changes:
            ref = change.ref
            old_id = self._live_id(ref)
            if old_id is not None:
                old = self.policies[old_id]
                if old is not None:
                    self._affect(old.applies_to)
            if change.after is None:
                if old_id is not None:
                    self.policies[old_id] = None
                    self.index.policies_by_owner.get(ref.owner, set()).discard(old_id)
                    touched.add(old_id)
                continue
            assert isinstance(change.after, Policy)  # noqa: S101 - guaranteed by Kind.POLICY
            pid = old_id if old_id is not None else len(self.policies)
            if pid == len(self.policies):
                self.policies.append(None)
            self.index.policy_ids[ref] = pid
            self.index.policies_by_owner.setdefault(ref.owner, set()).add(pid)
            compiled = compile_policy(pid, ref, change.after, self._address_set, self.index.intern)
            self.policies[pid] = compiled
            self._affect(compiled.applies_to)
            touched.add(pid)
        chains, column, changed = self._chains()
        ports = self.previous.ports
        programs = replace(
            self.previous,
            ports=replace(ports, chain=column) if column is not None else ports,
            policies=tuple(self.policies),
            # untouched containers are shared with the previous programs (no copy)
            address_sets=(
                tuple(self._address_sets)
                if self._address_sets is not None
                else self.previous.address_sets
            ),
            chains=chains,
        )
        delta = ProgramDelta(
            policies=frozenset(touched),
            address_sets=frozenset(self.new_sets),
            chains=frozenset(self.new_chains),
            ports=changed,
        )
        return programs, delta

    def _live_id(self, ref: object) -> int | None:
        pid = self.index.policy_ids.get(ref)  # type: ignore[call-overload]
        if pid is None or pid >= len(self.policies):
            return None
        found = self.policies[pid]
        return pid if found is not None and found.ref == ref else None

    def _affect(self, scope: AddressSetKey) -> None:
        if scope.owner != PROVIDER:
            self.owners.add(scope.owner)
        elif scope.tenants is None:
            self.all_owners = True
        else:
            self.owners.update(scope.tenants)

    def _address_set(self, key: AddressSetKey) -> int:
        ids = self.index.address_set_ids
        aset_id = ids.setdefault(key, len(ids))
        sets = self._address_sets if self._address_sets is not None else self.previous.address_sets
        if aset_id < len(sets) and sets[aset_id] is not None:
            return aset_id
        if self._address_sets is None:
            self._address_sets = list(self.previous.address_sets)
        while len(self._address_sets) <= aset_id:
            self._address_sets.append(None)
        self._address_sets[aset_id] = self._build_set(aset_id, key)
        self.new_sets.add(aset_id)
        return aset_id

    def _build_set(self, aset_id: int, key: AddressSetKey) -> AddressSet:
        ports = self.previous.ports
        if key.service is not None:
            members = np.zeros(0, np.intp)
        else:
            rows = self._rows_of([key.owner]) if key.owner != PROVIDER else None
            groups = group_rows(ports, rows)
            members = selected_rows(
                key, groups, self.previous.owners, self.previous.tagsets, self.owner_ids
            )
        segments = self.previous.segments
        return address_set_for(
            aset_id, key, ports=ports, members=members, estate=self.estate, segments=segments
        )

    def _rows_of(self, owners: list[str]) -> npt.NDArray[np.intp]:
        """The live rows of some owners, from the owner index (no scan of every port)."""
        index = self.index
        if index.owner_order is None:
            index.owner_order, index.owner_starts = owner_index(
                self.previous.ports, len(self.previous.owners)
            )
        order: npt.NDArray[np.intp] = index.owner_order  # type: ignore[assignment]
        starts: npt.NDArray[np.intp] = index.owner_starts  # type: ignore[assignment]
        parts = [
            order[starts[i] : starts[i + 1]]
            for owner in owners
            if (i := self.owner_ids.get(owner)) is not None
        ]
        return np.concatenate(parts) if parts else np.zeros(0, np.intp)

    def _chains(
        self,
    ) -> tuple[tuple[Chain | None, ...], npt.NDArray[np.int32] | None, npt.NDArray[np.intp]]:
        ports = self.previous.ports
        rows = None if self.all_owners else self._rows_of(sorted(self.owners))
        groups = group_rows(ports, rows)
        owners = {self.previous.owners[owner] for owner, _ in groups.groups}
        by_owner = self.index.policies_by_owner
        candidates = {
            owner: [p for pid in by_owner.get(owner, ()) if (p := self.policies[pid]) is not None]
            for owner in owners | {PROVIDER}
        }
        previous_chains = self.previous.chains
        chains: list[Chain | None] | None = None  # copied on the first new chain
        new_chains: set[int] = set()
        column: npt.NDArray[np.int32] | None = None
        changed: list[npt.NDArray[np.intp]] = []
        builder = ChainBuilder(candidates)
        for g, (owner, tagset) in enumerate(groups.groups):
            ids = builder.chain(self.previous.owners[owner], self.previous.tagsets[tagset])
            chain_id = self.index.chain_ids.setdefault(ids, len(self.index.chain_ids))
            current = chains if chains is not None else previous_chains
            if chain_id >= len(current) or current[chain_id] is None:
                if chains is None:
                    chains = list(previous_chains)
                while len(chains) <= chain_id:
                    chains.append(None)
                chains[chain_id] = Chain(chain_id, ids)
                new_chains.add(chain_id)
            members = groups.rows(g)
            moved = members[ports.chain[members] != chain_id]
            if len(moved):
                if column is None:
                    column = np.array(ports.chain)  # copy on first write only
                column[moved] = chain_id
                changed.append(moved)
        self.new_chains = new_chains
        rows_changed = np.sort(np.concatenate(changed)) if changed else np.zeros(0, np.intp)
        shared = previous_chains if chains is None else tuple(chains)
        return shared, column, rows_changed
