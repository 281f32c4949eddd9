"""Verifying what OVN enforces: the Northbound read back, counterexamples traced by ovn-trace.

The proof runs on the programs rebuilt from the Northbound rows (``OvnBackend.read_back``,
which refuses a database holding hand edits it cannot reproduce), with the physical facts of
the estate (uplinks, LUN masking) that no data plane holds. Each counterexample hop is then
sent through ``ovn-trace`` on the Southbound flows ``ovn-northd`` derived from those rows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tenantry.compiler import Programs
from tenantry.dataplane import Disposition
from tenantry.dataplane.ovn import OvnBackend, OvnTracer
from tenantry.dataplane.ovn.trace import microflow, to_verdict
from tenantry.errors import BackendUnavailableError
from tenantry.model import Estate
from tenantry.verify import Counterexample, Report, physical_facts, verify

__all__ = ["BEYOND_OVN", "OvnReplayer", "verify_northbound"]

BEYOND_OVN = "beyond OVN"
"""Prefix of a replay note for a hop the physical wire carries (segments merged on the wire
by a shared VLAN id or uplink), which OVN's logical view, and so ovn-trace, cannot follow."""


def _require(rundir: Path) -> None:
    if os.geteuid() != 0:
        raise BackendUnavailableError(
            "verifying OVN needs root: the OVN databases' sockets and ovn-trace are root's"
        )
    for name in ("nb.sock", "sb.sock"):
        if not (rundir / name).exists():
            raise BackendUnavailableError(
                f"no OVN database socket {rundir / name}: is OVN running there?",
                hint="Start the lab (`tenantry lab up`) or point --ovn-dir at a running OVN.",
            )


def verify_northbound(
    estate: Estate, rundir: Path, chassis_of_host: Mapping[str, str] | None = None
) -> tuple[Programs, Report]:
    """Read back the Northbound database under ``rundir`` and verify it (the estate gives the
    physical facts)."""
    _require(rundir)
    backend = OvnBackend(
        f"unix:{rundir / 'nb.sock'}", chassis_of_host=chassis_of_host, wait_for_chassis=False
    )
    try:
        programs = backend.read_back()
    finally:
        backend.close()
    return programs, verify(programs, physical_facts(estate))


class OvnReplayer:
    """Replays counterexample hops through ovn-trace on the Southbound database under
    ``rundir``, naming ports by the programs read back."""

    def __init__(self, programs: Programs, rundir: Path) -> None:
        _require(rundir)
        self.programs = programs
        self._tracer = OvnTracer(f"unix:{rundir / 'sb.sock'}", rundir)

    def replay(self, example: Counterexample) -> list[str]:
        """The problems (empty: ovn-trace delivers every hop as claimed); a hop carried by the
        physical wire only is reported with the ``BEYOND_OVN`` prefix."""
        programs = self.programs
        problems = []
        for hop in example.hops:
            row = programs.port_row(hop.sender)
            receiver = programs.port_row(hop.receiver)
            if row is None or receiver is None:
                problems.append(f"{hop.summary}: port not in the Northbound database")
                continue
            routed = any(step.startswith("router ") for step in hop.path)
            if not routed and self._on_the_wire(row, receiver):
                problems.append(f"{BEYOND_OVN}: {hop.summary} crosses the physical wire")
                continue
            flow = microflow(programs, row, hop.frame)
            verdict = to_verdict(programs, row, None if flow is None else self._tracer.trace(flow))
            if verdict.action is not Disposition.FORWARD or receiver not in verdict.egress:
                problems.append(f"{hop.summary}: ovn-trace says {verdict}")
        return problems

    def _on_the_wire(self, sender: int, receiver: int) -> bool:
        """No logical switch holds both ends of an L2 hop: only the wire joins them."""
        ports = self.programs.ports
        mine = {int(ports.segment[sender]), *(s for _, s in ports.trunk_of(sender))}
        theirs = {int(ports.segment[receiver]), *(s for _, s in ports.trunk_of(receiver))}
        mine.discard(-1)
        theirs.discard(-1)
        return not mine & theirs

    def close(self) -> None:
        self._tracer.close()
