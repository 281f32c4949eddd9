"""The OVN backend: programs in, Northbound rows out; Northbound rows back in as programs.

``apply`` translates the programs (pure) and reconciles the owned rows in one transaction,
then waits until every chassis has installed the flows (``--wait=hv``). A policy-only delta
from ``recompile`` reconciles only the port groups and address sets of the owners it touches.
``drift`` says what differs without writing; ``read_back`` rebuilds the programs from what the
database holds, so verification proves what is enforced rather than what was intended.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from tenantry.compiler import ProgramDelta, Programs
from tenantry.dataplane.ovn.nb import DEFAULT_OWNER, NorthboundClient
from tenantry.dataplane.ovn.policies import policy_rows
from tenantry.dataplane.ovn.readback import read_programs
from tenantry.dataplane.ovn.rows import Change, Row
from tenantry.dataplane.ovn.switches import switch_rows
from tenantry.dataplane.ovn.trace import OvnTracer, microflow, to_verdict
from tenantry.dataplane.ovn.translate import GLOBAL_OPTIONS, desired_rows
from tenantry.dataplane.verdict import Verdict
from tenantry.errors import BackendUnavailableError, NotFoundError

__all__ = ["OvnBackend"]


class OvnBackend:
    """Enforces programs through an OVN Northbound database."""

    name = "ovn"

    def __init__(
        self,
        nb_remote: str,
        *,
        chassis_of_host: Mapping[str, str] | None = None,
        owner: str = DEFAULT_OWNER,
        wait_for_chassis: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.client = NorthboundClient(nb_remote, owner=owner, timeout=timeout)
        self.chassis_of_host = dict(chassis_of_host) if chassis_of_host is not None else None
        self.wait = wait_for_chassis
        self.timeout = timeout
        self.last_changes: list[Change] = []
        self.tracer: OvnTracer | None = None
        self._programs: Programs | None = None
        self.datapath_barrier: Callable[[], None] | None = None
        """Run after ``--wait=hv`` when set: until the chassis' datapaths honour the flows."""

    def apply(self, programs: Programs, delta: ProgramDelta | None = None) -> None:
        """Enforce ``programs``; an incremental ``delta`` touches only the owners it names and
        the switches of the ports it changed."""
        previous = self._programs
        if delta is not None and not delta.full and previous is not None:
            if delta.is_empty:
                self.last_changes = []
                return
            owners = _owners_of(delta, programs, previous)
            # Ports whose columns changed (tags, chain) are rewritten with their switches.
            switches = self._switches_of(programs, delta)
            keys = {row.key for row in switches}
            changes = self.client.reconcile(
                [*policy_rows(programs, owners), *switches],
                full=True,
                scope=lambda table, key, ids: (
                    _in_policy_scope(table, ids, owners)
                    or (table == "Logical_Switch" and key in keys)
                ),
                options=GLOBAL_OPTIONS,
            )
        else:
            changes = self.client.reconcile(
                desired_rows(programs, self.chassis_of_host), full=True, options=GLOBAL_OPTIONS
            )
        self._programs = programs
        self.last_changes = changes
        if changes and self.wait:
            self.client.wait_for_chassis(self.timeout)
            if self.datapath_barrier is not None:
                self.datapath_barrier()
        if self.tracer is not None:
            self.tracer.settle()

    def _switches_of(self, programs: Programs, delta: ProgramDelta) -> list[Row]:
        """The switch rows holding the delta's changed ports (none for a pure policy edit)."""
        live = int(programs.ports.chain.shape[0])
        names = {programs.port_name(r) for r in delta.ports.tolist() if r < live}
        if not names:
            return []
        return [
            row
            for row in switch_rows(programs, self.chassis_of_host)
            if any(child.key in names for child in row.children.get("ports", ()))
        ]

    def drift(self, programs: Programs) -> list[Change]:
        """What differs between the programs and the database, without changing anything."""
        return self.client.drift(
            desired_rows(programs, self.chassis_of_host), options=GLOBAL_OPTIONS
        )

    def read_back(self) -> Programs:
        """The programs the database enforces right now."""
        return read_programs(self.client, self.chassis_of_host)

    def classify(self, frame: bytes, ingress: int | str) -> Verdict:
        """OVN's verdict on a frame sent into a port, by ovn-trace (needs ``tracer``)."""
        programs = self._programs
        if programs is None or self.tracer is None:
            raise BackendUnavailableError(
                "classify needs applied programs and an ovn-trace daemon (set .tracer)"
            )
        row = ingress if isinstance(ingress, int) else programs.port_row(ingress)
        if row is None:
            raise NotFoundError(f"port {ingress} not found")
        flow = microflow(programs, row, frame)
        return to_verdict(programs, row, None if flow is None else self.tracer.trace(flow))

    def close(self) -> None:
        if self.tracer is not None:
            self.tracer.close()
            self.tracer = None
        self.client.close()


def _owners_of(delta: ProgramDelta, programs: Programs, previous: Programs) -> set[str]:
    """Whose port groups and address sets the delta touches: the owners of changed policies,
    of changed address sets and of the policies that use them (a membership change), and of
    the policies of ports whose chain changed (port group membership)."""
    owners: set[str] = set()
    sets = delta.address_sets
    rows = delta.ports.tolist()
    for source in (programs, previous):
        for pid in delta.policies:
            if pid < len(source.policies) and (policy := source.policies[pid]) is not None:
                owners.add(policy.ref.owner)
        for aset_id in sets:
            if aset_id < len(source.address_sets) and (aset := source.address_sets[aset_id]):
                owners.add(aset.key.owner)
        if sets:
            owners.update(
                policy.ref.owner
                for policy in source.policies
                if policy is not None
                and any(rule.peer.address_set in sets for rule in policy.rules)
            )
        for row in rows:
            if row < len(source.ports.chain):
                owners.update(policy.ref.owner for policy in source.chain_policies(row))
    return owners


def _in_policy_scope(table: str, ids: Mapping[str, str], owners: set[str]) -> bool:
    if table == "Port_Group":
        policy = ids.get("tenantry-policy")
        if policy is None:
            return False
        owner = policy.split("/", 1)[0] if "/" in policy else "provider"
        return owner in owners
    if table == "Address_Set":
        key = json.loads(ids.get("tenantry-set-key", "null") or "null")
        return isinstance(key, list) and key[0] in owners
    return False
