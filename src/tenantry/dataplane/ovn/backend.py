"""The OVN backend: programs in, Northbound rows out; Northbound rows back in as programs.

``apply`` translates the programs (pure) and reconciles the owned rows in one transaction,
then waits until every chassis has installed the flows (``--wait=hv``). A policy-only delta
from ``recompile`` reconciles only the port groups and address sets of the owners it touches.
``drift`` says what differs without writing; ``read_back`` rebuilds the programs from what the
database holds, so verification proves what is enforced rather than what was intended.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from tenantry.compiler import ProgramDelta, Programs
from tenantry.dataplane.ovn.nb import DEFAULT_OWNER, NorthboundClient
from tenantry.dataplane.ovn.policies import policy_rows
from tenantry.dataplane.ovn.readback import read_programs
from tenantry.dataplane.ovn.rows import Change
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

    def apply(self, programs: Programs, delta: ProgramDelta | None = None) -> None:
        """Enforce ``programs``; a policy-only ``delta`` touches only the owners it names."""
        previous = self._programs
        if delta is not None and not delta.full and previous is not None:
            if delta.is_empty:
                self.last_changes = []
                return
            owners = _owners_of(delta, programs, previous)
            changes = self.client.reconcile(
                policy_rows(programs, owners),
                full=True,
                scope=lambda table, _key, ids: _in_policy_scope(table, ids, owners),
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
        if self.tracer is not None:
            self.tracer.settle()

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
    owners: set[str] = set()
    for pid in delta.policies:
        for source in (programs, previous):
            if pid < len(source.policies) and (policy := source.policies[pid]) is not None:
                owners.add(policy.ref.owner)
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
