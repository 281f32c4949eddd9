"""Incremental compile: recompile only what a change touches, and say what changed.

A change set that touches only policies is compiled incrementally: the changed policies, the
address sets they newly need, and the chains of the owners they apply to; every other column
is shared with the previous programs. Anything else (guests, networks, port groups, tenants,
services, routers, hosts) takes a full compile and a delta that says so (``full``), which a
backend answers with a full resync. Either way the result equals a full compile of the new
estate (``Programs.canonical``), which the property tests check.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from tenantry.compiler._index import CompileIndex
from tenantry.compiler.compile import compile_estate
from tenantry.compiler.program import (
    AddressSet,
    AddressSetKey,
    Chain,
    CompiledPolicy,
    Programs,
)
from tenantry.compiler.rules import compile_policy
from tenantry.compiler.selection import address_set_for, chain_for, group_rows, selected_rows
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
        estate_after = before.with_changes(after)
    else:
        changes = plan_changes(before, after, prune=True)
        estate_after = after
    if not changes:
        return previous, ProgramDelta()
    index = previous.index
    if (
        not isinstance(index, CompileIndex)
        or index.head is not previous
        or any(c.kind is not Kind.POLICY for c in changes)
    ):
        return compile_estate(estate_after), ProgramDelta(full=True)
    programs, delta = _PolicyRecompile(previous, index, estate_after).run(changes)
    index.head = programs
    return programs, delta


class _PolicyRecompile:
    """The incremental path for a change set made only of policies."""

    def __init__(self, previous: Programs, index: CompileIndex, estate: Estate) -> None:
        self.previous = previous
        self.index = index
        self.estate = estate
        self.policies: list[CompiledPolicy | None] = list(previous.policies)
        self.address_sets: list[AddressSet | None] = list(previous.address_sets)
        self.new_sets: set[int] = set()
        self.owner_ids = {name: i for i, name in enumerate(previous.owners)}
        self.all_owners = False
        self.owners: set[str] = set()

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
        chains, column, new_chains = self._chains()
        ports = self.previous.ports
        changed = np.flatnonzero(column != ports.chain)
        programs = replace(
            self.previous,
            ports=replace(ports, chain=column) if len(changed) else ports,
            policies=tuple(self.policies),
            address_sets=tuple(self.address_sets),
            chains=chains,
        )
        delta = ProgramDelta(
            policies=frozenset(touched),
            address_sets=frozenset(self.new_sets),
            chains=frozenset(new_chains),
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
        while len(self.address_sets) <= aset_id:
            self.address_sets.append(None)
        if self.address_sets[aset_id] is None:
            self.address_sets[aset_id] = self._build_set(aset_id, key)
            self.new_sets.add(aset_id)
        return aset_id

    def _build_set(self, aset_id: int, key: AddressSetKey) -> AddressSet:
        ports = self.previous.ports
        if key.service is not None:
            members = np.zeros(0, np.intp)
        else:
            if key.owner != PROVIDER:
                owner = self.owner_ids.get(key.owner, -1)
                rows = np.flatnonzero((ports.owner == owner) & ports.live)
            else:
                rows = None
            groups = group_rows(ports, rows)
            members = selected_rows(
                key, groups, self.previous.owners, self.previous.tagsets, self.owner_ids
            )
        segments = self.previous.segments
        return address_set_for(
            aset_id, key, ports=ports, members=members, estate=self.estate, segments=segments
        )

    def _chains(self) -> tuple[tuple[Chain | None, ...], npt.NDArray[np.int32], set[int]]:
        ports = self.previous.ports
        column = np.array(ports.chain)
        if self.all_owners:
            rows = None
        else:
            wanted = [self.owner_ids[o] for o in self.owners if o in self.owner_ids]
            if len(wanted) == 1:
                rows = np.flatnonzero((ports.owner == wanted[0]) & ports.live)
            else:
                rows = np.flatnonzero(np.isin(ports.owner, wanted) & ports.live)
        groups = group_rows(ports, rows)
        owners = {self.previous.owners[owner] for owner, _ in groups.groups}
        by_owner = self.index.policies_by_owner
        candidates = {
            owner: [p for pid in by_owner.get(owner, ()) if (p := self.policies[pid]) is not None]
            for owner in owners | {PROVIDER}
        }
        chains = list(self.previous.chains)
        new_chains: set[int] = set()
        for g, (owner, tagset) in enumerate(groups.groups):
            ids = chain_for(self.previous.owners[owner], self.previous.tagsets[tagset], candidates)
            chain_id = self.index.chain_ids.setdefault(ids, len(self.index.chain_ids))
            while len(chains) <= chain_id:
                chains.append(None)
            if chains[chain_id] is None:
                chains[chain_id] = Chain(chain_id, ids)
                new_chains.add(chain_id)
            column[groups.rows(g)] = chain_id
        return tuple(chains), column, new_chains
