"""What OVN does with a frame, by ``ovn-trace`` over the Southbound flows: OVN's own verdict.

A frame (bytes, as a guest sends it) is decoded and written as an ovn-trace microflow on the
logical port it enters: the vNIC's port, or for a VGT trunk the child port of its VLAN (OVS
strips the tag; a VLAN outside the trunk has no port at all and never enters a pipeline). The
trace's outputs to guest-facing ports are the egress ports; an output back to the ingress port
is a reply (ARP responder, router). ``ovn-trace`` runs as a daemon (``--detach``) and is asked
over its control socket, which costs a few milliseconds per frame; it reads the database once
when it starts (``settle`` restarts it after a change), and assumes connection state ``est``
(ACLs are evaluated the same way as for a new connection; a test checks this).
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

import ovs.unixctl.client

from tenantry.compiler import Programs, VlanModeCode, format_mac
from tenantry.dataplane.frames import ETH_ARP, ETH_IPV4, ETH_IPV6, ETH_RARP, Frame, decode
from tenantry.dataplane.ovn.bands import GUARD_DROP
from tenantry.dataplane.ovn.daemons import Daemon
from tenantry.dataplane.ovn.names import trunk_child
from tenantry.dataplane.verdict import Disposition, Reason, Stage, Verdict
from tenantry.errors import BackendUnavailableError, FrameError

__all__ = ["OvnTracer", "TraceResult", "microflow", "parse_trace", "to_verdict"]

_SERIAL = itertools.count()
_OUTPUT = re.compile(r'output to "([^"]+)"')
_STAGE = re.compile(r"^\s*\d+\. ((?:ls|lr)_(?:in|out)_[a-z_]+) \([^)]*\): .*?, priority (\d+)")


@dataclass(frozen=True)
class TraceResult:
    """The logical ports a frame reached, and where it was dropped (stage, lflow priority)."""

    outputs: tuple[str, ...]
    dropped_at: str | None
    priority: int | None
    text: str


def microflow(programs: Programs, row: int, data: bytes) -> str | None:
    """The ovn-trace microflow of a frame sent into port ``row``; None when OVS itself drops it
    before any logical pipeline (a VLAN outside a trunk, a frame that does not decode)."""
    try:
        frame = decode(data)
    except FrameError:
        return None
    name = programs.port_name(row)
    tags = list(frame.tags)
    terms: list[str] = []
    if int(programs.ports.vlan_mode[row]) == VlanModeCode.VGT:
        if tags:
            vlans = dict(programs.ports.trunk_of(row))
            if tags[0][1] not in vlans or tags[0][0] != 0x8100:
                return None
            name = trunk_child(name, tags.pop(0)[1])
    elif tags:
        terms.append(f"vlan.tci == {0x1000 | tags[0][1]:#x}")
        tags.pop(0)
    terms[:0] = [
        f'inport == "{name}"',
        f"eth.src == {format_mac(frame.src)}",
        f"eth.dst == {format_mac(frame.dst)}",
    ]
    if tags:
        # OVS parses one VLAN header; what follows it is opaque payload.
        terms.append(f"eth.type == {tags[0][0]:#x}")
        return " && ".join(terms)
    terms.extend(_layers(frame))
    return " && ".join(terms)


def _layers(frame: Frame) -> list[str]:
    if frame.ethertype == 0:
        return ["eth.type == 0x5ff"]
    if frame.ethertype in (ETH_ARP, ETH_RARP) and frame.arp is not None:
        arp = frame.arp
        return [
            f"eth.type == {frame.ethertype:#x}",
            f"arp.op == {arp.op}",
            f"arp.sha == {format_mac(arp.sender_mac)}",
            f"arp.spa == {IPv4Address(arp.sender_ip)}",
            f"arp.tha == {format_mac(arp.target_mac)}",
            f"arp.tpa == {IPv4Address(arp.target_ip)}",
        ]
    ip = frame.ip
    if frame.ethertype not in (ETH_IPV4, ETH_IPV6) or ip is None:
        return [f"eth.type == {frame.ethertype:#x}"]
    if ip.version == 4:
        terms = [f"ip4.src == {IPv4Address(ip.src)}", f"ip4.dst == {IPv4Address(ip.dst)}"]
    else:
        terms = [f"ip6.src == {IPv6Address(ip.src)}", f"ip6.dst == {IPv6Address(ip.dst)}"]
    terms.append(f"ip.ttl == {ip.ttl}")
    if ip.is_fragment:
        terms.append("ip.is_frag == 1")
        terms.append(f"ip.later_frag == {1 if ip.fragment_offset else 0}")
    l4 = frame.l4
    if ip.proto is None or l4 is None:
        if ip.proto is not None:
            terms.append(f"ip.proto == {ip.proto}")
        return terms
    if ip.proto == 6:
        terms += [
            f"tcp.src == {l4.sport}",
            f"tcp.dst == {l4.dport}",
            f"tcp.flags == {l4.tcp_flags}",
        ]
    elif ip.proto == 17:
        terms += [f"udp.src == {l4.sport}", f"udp.dst == {l4.dport}"]
    elif ip.proto == 1 and ip.version == 4:
        terms += [f"icmp4.type == {l4.icmp_type}", f"icmp4.code == {l4.icmp_code}"]
    elif ip.proto == 58 and ip.version == 6:
        terms += [f"icmp6.type == {l4.icmp_type}", f"icmp6.code == {l4.icmp_code}"]
        terms += _nd(frame)
    else:
        terms.append(f"ip.proto == {ip.proto}")
    return terms


def _nd(frame: Frame) -> list[str]:
    nd = frame.nd
    if nd is None or nd.type not in (135, 136):
        return []
    terms = []
    if nd.target is not None:
        terms.append(f"nd.target == {IPv6Address(nd.target)}")
    if nd.type == 135:
        terms.append(f"nd.sll == {format_mac(nd.source_mac or 0)}")
    else:
        terms.append(f"nd.tll == {format_mac(nd.target_mac or 0)}")
    return terms


def parse_trace(text: str) -> TraceResult:
    """Outputs and the drop point of a detailed ovn-trace."""
    outputs = tuple(dict.fromkeys(_OUTPUT.findall(text)))
    stage: str | None = None
    priority: int | None = None
    dropped_at: str | None = None
    for line in text.splitlines():
        found = _STAGE.match(line)
        if found is not None:
            stage, priority = found.group(1), int(found.group(2))
        elif _is_drop(line) and dropped_at is None:
            dropped_at = stage
    return TraceResult(outputs, dropped_at, priority if dropped_at else None, text)


def _is_drop(line: str) -> bool:
    # A denied packet of a tracked connection is marked blocked and goes no further.
    text = line.strip()
    return text == "drop;" or text.startswith("ct_commit { ct_mark.blocked = 1; }")


class OvnTracer:
    """An ``ovn-trace`` daemon on a Southbound database, asked over its control socket."""

    def __init__(self, sb_remote: str, rundir: Path) -> None:
        # Each tracer has its own daemon: another one stopping must not take this one down.
        tag = f"trace-{os.getpid()}-{next(_SERIAL)}"
        self._daemon = Daemon(
            "ovn-trace",
            ("ovn-trace", f"--db={sb_remote}", f"--unixctl={rundir / f'{tag}.ctl'}"),
            rundir / f"{tag}.pid",
            rundir / f"{tag}.log",
        )
        self._socket = rundir / f"{tag}.ctl"
        self._client: Any = None
        self._connect()

    def _connect(self) -> None:
        if self._daemon.pid() is None:
            self._daemon.start()
        error, client = ovs.unixctl.client.UnixctlClient.create(str(self._socket))
        if error:
            raise BackendUnavailableError(
                f"cannot reach ovn-trace at {self._socket} (errno {error})"
            )
        self._client = client

    def settle(self) -> None:
        """Re-read the Southbound database: the daemon reads it once, when it starts."""
        self._client.close()
        self._daemon.stop()
        self._connect()

    def trace(self, flow: str) -> TraceResult:
        error, failure, result = self._client.transact("trace", [flow])
        if error or failure is not None:
            raise BackendUnavailableError(f"ovn-trace failed on {flow[:200]!r}: {failure or error}")
        return parse_trace(str(result))

    def log_errors(self) -> list[str]:
        """Logical flows ovn-trace could not parse (a translation bug if any)."""
        try:
            text = self._daemon.logfile.read_text()
        except OSError:
            return []
        return [line for line in text.splitlines() if "parsing expression failed" in line]

    def close(self) -> None:
        self._client.close()
        self._daemon.stop()


_GUARD_REASONS = (
    ("no_dhcp_server", Reason.ROGUE_DHCP),
    ("no_router_advertisement", Reason.ROGUE_RA),
    ("service_consumers", Reason.SERVICE_ISOLATION),
)
_ACL_OFFSET = 1000
"""northd adds this to an ACL's priority for its logical flow."""


def to_verdict(programs: Programs, row: int, result: TraceResult | None) -> Verdict:
    """The trace as a verdict on the programs' ports (same vocabulary as the reference)."""
    if result is None:
        return Verdict(Disposition.DROP, (), Stage.VLAN, Reason.VLAN_NOT_IN_TRUNK)
    own = programs.port_name(row)
    egress: list[int] = []
    replied = False
    for name in result.outputs:
        base = name.split("@", 1)[0]
        if base == own:
            replied = True
            continue
        found = programs.port_row(base)
        if found is not None and found not in egress:
            egress.append(found)
    if replied and not egress:
        return Verdict(Disposition.REPLY, (), Stage.ROUTING, Reason.ROUTER_REPLY)
    if egress:
        return Verdict(Disposition.FORWARD, tuple(egress), Stage.DELIVERY, Reason.ALLOWED)
    return Verdict(Disposition.DROP, (), *_drop_reason(result))


def _drop_reason(result: TraceResult) -> tuple[Stage, Reason]:
    stage = result.dropped_at or ""
    if "port_sec" in stage:
        return Stage.PORT_SECURITY, Reason.FORGED_SOURCE_MAC
    if stage in ("ls_in_acl", "ls_out_acl", "ls_in_acl_after_lb"):
        policy_stage = Stage.POLICY_EGRESS if stage.startswith("ls_in") else Stage.POLICY_INGRESS
        acl = (result.priority or 0) - _ACL_OFFSET
        if acl <= 1:
            return policy_stage, Reason.DEFAULT_DENY
        if acl >= GUARD_DROP:
            block = _dropping_block(result.text, stage)
            for marker, reason in _GUARD_REASONS:
                if marker in block:
                    return Stage.PORT_SECURITY, reason
        return policy_stage, Reason.POLICY_DENY
    if stage.startswith("lr_"):
        return Stage.ROUTING, Reason.NO_ROUTE
    if stage:
        return Stage.FORWARDING, Reason.UNKNOWN_UNICAST
    return Stage.FORWARDING, Reason.NO_RECEIVER


def _dropping_block(text: str, stage: str) -> str:
    """The stage line (with its match) of the last ``stage`` entry before the drop."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if _is_drop(line):
            for back in range(index, -1, -1):
                if stage in lines[back]:
                    return lines[back]
    return ""
