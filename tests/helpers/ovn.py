"""Real OVS/OVN for tests: a deployment under a temporary run directory, and what it differs in.

``ovn_central`` (session fixture, in tests/conftest.py) starts the Northbound and Southbound
databases and ovn-northd, no chassis: enough for the NB driver, read-back and ovn-trace.
``expected_ovn_verdict`` states, in one place, where OVN 23.03 knowingly differs from the
reference semantics (docs/ovn.md, "Known differences"); the differential tests compare OVN's
verdict with the reference verdict adjusted by exactly these rules and nothing else.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tenantry.compiler import PortFlag, Programs
from tenantry.dataplane import Disposition, Frame, Stage, Verdict, decode
from tenantry.dataplane.ovn import OvnDeployment
from tenantry.errors import FrameError

__all__ = ["expected_ovn_verdict", "running_central"]

_BEFORE_FORWARDING = {Stage.INGRESS, Stage.DECODE, Stage.VLAN, Stage.PORT_SECURITY}


@contextlib.contextmanager
def running_central() -> Iterator[OvnDeployment]:
    """NB + SB + northd under a fresh temporary directory (short path: unix socket limits)."""
    with tempfile.TemporaryDirectory(prefix="tovn", dir="/tmp") as rundir:
        deployment = OvnDeployment(Path(rundir))
        deployment.start()
        try:
            yield deployment
        finally:
            deployment.stop()


def expected_ovn_verdict(
    programs: Programs, row: int, frame: bytes, reference: Verdict
) -> tuple[str, frozenset[int]]:
    """(disposition, egress rows) that OVN must produce, given the reference's verdict."""
    action = reference.action
    egress = set(reference.egress)
    try:
        decoded = decode(frame)
    except FrameError:
        return (str(action), frozenset(egress))
    passed_port_security = reference.stage not in _BEFORE_FORWARDING
    # RARP: arp.* fields need eth.type 0x0806 in OVN, so "RARP only with the port's own MAC"
    # cannot be said; OVN drops every RARP (fail closed).
    if decoded.ethertype == 0x8035 and not decoded.tags:
        return (str(Disposition.DROP), frozenset())
    # OVN's ARP/ND responder answers requests for any configured address itself, whatever
    # the destination MAC, instead of forwarding them.
    target = _question_target(decoded)
    if passed_port_security and target is not None:
        holder = _holder(programs, row, reference.segment, target)
        if holder is not None and holder != row:
            return ("responder", frozenset())
    if action is Disposition.FORWARD and decoded.ip is not None and not decoded.is_multicast:
        # OVN's egress port security also checks the IP destination of unicast packets.
        egress = {r for r in egress if _holds(programs, r, decoded.ip.version, decoded.ip.dst)}
    # OVN has no promiscuous receive: copies of others' unicast are not delivered.
    if not decoded.is_multicast:
        target = _unicast_target(programs, decoded.dst, egress)
        egress = {
            r
            for r in egress
            if r == target or not int(programs.ports.flags[r]) & PortFlag.PROMISCUOUS
        }
    if action is Disposition.FORWARD and not egress:
        return (str(Disposition.DROP), frozenset())
    return (str(action), frozenset(egress))


def _question_target(frame: Frame) -> tuple[int, int] | None:
    """(IP version, address) an ARP request or neighbour solicitation asks about."""
    if frame.arp is not None and frame.ethertype == 0x0806 and frame.arp.op == 1:
        return (4, frame.arp.target_ip)
    if frame.nd is not None and frame.nd.type == 135 and frame.nd.target is not None:
        return (6, frame.nd.target)
    return None


def _holder(programs: Programs, row: int, segment: int, target: tuple[int, int]) -> int | None:
    """The port (or -1 for a router) configured with the address on the segment, if any."""
    version, address = target
    if segment < 0:
        return None
    found = programs.segments[segment]
    for leg in programs.routers:
        if leg.segment == segment and any(int(g) == address for g in leg.gateways):
            return -1
    for other in programs.live_rows().tolist():
        if segment not in programs.ports.segments_of(other):
            continue
        for held in programs.ports.addresses(other):
            inside = (
                found is None
                or int(programs.ports.segment[other]) >= 0
                or any(held in subnet for subnet in found.subnets)
            )
            if held.version == version and int(held) == address and inside:
                return int(other)
    del row
    return None


def _holds(programs: Programs, row: int, version: int, address: int) -> bool:
    locked = {int(a) for a in programs.ports.addresses(row) if a.version == version}
    if version == 6:
        locked.add(int(programs.ports.link_local(row)))
    relaxed = int(programs.ports.flags[row]) & (PortFlag.FORGED_TRANSMITS | PortFlag.MAC_CHANGES)
    return address in locked or bool(relaxed)


def _unicast_target(programs: Programs, mac: int, egress: set[int]) -> int | None:
    for row in egress:
        if int(programs.ports.mac[row]) == mac:
            return row
    return None
