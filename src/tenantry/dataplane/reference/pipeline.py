"""The reference pipeline for one frame: ingress, decode, VLAN, port security, forwarding or
routing, connection tracking, egress and ingress policy, delivery (docs/semantics.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tenantry.compiler import PortFlag, RouterInterface, RuleOrigin, VlanModeCode
from tenantry.dataplane.frames import PROTO_ICMP, PROTO_ICMPV6, Frame, decode
from tenantry.dataplane.reference.conntrack import ConnTrack, FlowKey
from tenantry.dataplane.reference.policy import Judgement, PacketKey, judge
from tenantry.dataplane.reference.portsec import check_port_security, is_policy_exempt
from tenantry.dataplane.reference.tables import Tables, address_key
from tenantry.dataplane.verdict import Disposition, Reason, Stage, TraceStep, Verdict
from tenantry.errors import FrameError
from tenantry.model import Direction

__all__ = ["Pipeline"]

ECHO_REQUESTS = frozenset({8, 128})
_QINQ = 0x8100


@dataclass
class _Run:
    """One frame's way through the pipeline, with its trace."""

    row: int
    steps: list[TraceStep] = field(default_factory=list)
    segment: int = -1

    def step(
        self, stage: Stage, outcome: str, detail: str = "", rule: RuleOrigin | None = None
    ) -> None:
        self.steps.append(TraceStep(stage, outcome, detail, rule))

    def drop(
        self,
        stage: Stage,
        reason: Reason,
        detail: str = "",
        rule: RuleOrigin | None = None,
        *,
        log: bool = False,
    ) -> Verdict:
        self.step(stage, f"drop: {reason}", detail, rule)
        return Verdict(
            Disposition.DROP, (), stage, reason, rule, detail, tuple(self.steps), self.segment, log
        )


class Pipeline:
    """Classifies frames against one generation of tables, with shared connection state."""

    def __init__(self, tables: Tables, conntrack: ConnTrack) -> None:
        self.tables = tables
        self.conntrack = conntrack
        ports = tables.programs.ports
        self.flags = ports.flags.tolist()
        self.chains = ports.chain.tolist()
        self.segments = ports.segment.tolist()
        self.modes = ports.vlan_mode.tolist()
        self.live = ports.live.tolist()

    def classify(self, data: bytes, row: int) -> Verdict:
        """The verdict on a frame a guest sends into port ``row``."""
        run = _Run(row)
        if not 0 <= row < len(self.live) or not self.live[row]:
            return run.drop(Stage.INGRESS, Reason.UNKNOWN_PORT, f"no live port {row}")
        try:
            frame = decode(data)
        except FrameError as exc:
            return run.drop(Stage.DECODE, Reason.MALFORMED, str(exc))
        run.step(Stage.DECODE, "ok", _describe(frame))
        problem = self._vlan(run, frame)
        if problem is not None:
            return problem
        why = check_port_security(self.tables, row, run.segment, frame)
        if why is not None:
            return run.drop(Stage.PORT_SECURITY, why[0], why[1])
        run.step(Stage.PORT_SECURITY, "pass")
        if frame.is_multicast:
            return self._flood(run, frame)
        leg = self.tables.routers_by_mac.get((run.segment, frame.dst))
        if leg is not None:
            return self._route(run, frame, leg)
        return self._unicast(run, frame)

    # ------------------------------------------------------------------ layer 2

    def _vlan(self, run: _Run, frame: Frame) -> Verdict | None:
        tags = frame.tags
        if len(tags) > 1 or (tags and tags[0][0] != _QINQ):
            return run.drop(Stage.VLAN, Reason.STACKED_TAGS, f"tags {tags}")
        mode = self.modes[run.row]
        if mode == VlanModeCode.VGT:
            if not tags:
                return run.drop(Stage.VLAN, Reason.UNTAGGED_ON_TRUNK, "no native VLAN")
            segment = self.tables.trunk_vlans.get(run.row, {}).get(tags[0][1])
            if segment is None:
                return run.drop(Stage.VLAN, Reason.VLAN_NOT_IN_TRUNK, f"VLAN {tags[0][1]}")
        else:
            if tags:
                return run.drop(Stage.VLAN, Reason.GUEST_TAGGED, f"VLAN {tags[0][1]} from a guest")
            segment = self.segments[run.row]
        if segment < 0:
            return run.drop(Stage.VLAN, Reason.NOT_ATTACHED, "the port reaches no segment")
        run.segment = segment
        run.step(Stage.VLAN, f"segment {self._segment_name(segment)}")
        return None

    def _isolated(self, sender: int, receiver: int) -> bool:
        return bool(
            self.flags[sender] & PortFlag.SERVICE_CONSUMER
            and self.flags[receiver] & PortFlag.SERVICE_CONSUMER
        )

    def _flood(self, run: _Run, frame: Frame) -> Verdict:
        leg = self._gateway_question(run.segment, frame)
        if leg is not None:
            run.step(Stage.ROUTING, f"answered by router {leg.router}")
            return _reply(run, Stage.ROUTING)
        receivers = [
            r
            for r in self.tables.segment_rows.get(run.segment, ())
            if r != run.row and not self._isolated(run.row, r)
        ]
        run.step(Stage.FORWARDING, f"flood to {len(receivers)} port(s) of the segment")
        if not receivers:
            return run.drop(Stage.FORWARDING, Reason.NO_RECEIVER)
        return self._deliver(run, frame, [(r, run.segment) for r in receivers], unicast=False)

    def _unicast(self, run: _Run, frame: Frame) -> Verdict:
        target = self.tables.mac_to_row.get((run.segment, frame.dst))
        if target is None:
            return run.drop(Stage.FORWARDING, Reason.UNKNOWN_UNICAST, f"{frame.dst:012x}")
        if target == run.row:
            return run.drop(Stage.FORWARDING, Reason.HAIRPIN)
        if self._isolated(run.row, target):
            return run.drop(
                Stage.FORWARDING,
                Reason.SERVICE_ISOLATION,
                "two consumers of a shared service never reach each other through it",
            )
        receivers = [(target, run.segment)]
        receivers += [
            (r, run.segment)
            for r in self.tables.promiscuous.get(run.segment, ())
            if r not in (run.row, target) and not self._isolated(run.row, r)
        ]
        run.step(Stage.FORWARDING, f"to {self._name(target)}")
        return self._deliver(run, frame, receivers, unicast=True)

    # ------------------------------------------------------------------ routing

    def _gateway_question(self, segment: int, frame: Frame) -> RouterInterface | None:
        """The router leg that answers this ARP request or neighbour solicitation, if any."""
        if frame.arp is not None and frame.arp.op == 1:
            return self.tables.gateways.get((segment, address_key(4, frame.arp.target_ip)))
        nd = frame.nd
        if nd is not None and nd.type == 135 and nd.target is not None:
            return self.tables.gateways.get((segment, address_key(6, nd.target)))
        return None

    def _route(self, run: _Run, frame: Frame, leg: RouterInterface) -> Verdict:
        run.step(Stage.ROUTING, f"to router {leg.router}")
        if self._gateway_question(run.segment, frame) is not None:
            return _reply(run, Stage.ROUTING)
        ip = frame.ip
        if ip is None or frame.arp is not None:
            return run.drop(Stage.ROUTING, Reason.ADDRESSED_TO_ROUTER, "not an IP packet")
        key = address_key(ip.version, ip.dst)
        if (run.segment, key) in self.tables.gateways:
            l4 = frame.l4
            if (
                l4 is not None
                and ip.proto in (PROTO_ICMP, PROTO_ICMPV6)
                and l4.icmp_type in ECHO_REQUESTS
            ):
                verdict = self._egress(run, frame)
                return verdict if verdict is not None else _reply(run, Stage.ROUTING)
            return run.drop(Stage.ROUTING, Reason.ADDRESSED_TO_ROUTER)
        if ip.ttl <= 1:
            return run.drop(Stage.ROUTING, Reason.TTL_EXCEEDED)
        bits = 32 if ip.version == 4 else 128
        out = next(
            (
                seg
                for seg, version, net, plen in self.tables.routes.get(leg.router, ())
                if version == ip.version and (ip.dst >> (bits - plen)) == (net >> (bits - plen))
            ),
            None,
        )
        if out is None:
            return run.drop(
                Stage.ROUTING, Reason.NO_ROUTE, "no joined network holds the destination"
            )
        target = self.tables.address_to_row.get((out, key))
        if target is None:
            return run.drop(Stage.ROUTING, Reason.NO_ROUTE, "no port holds the destination address")
        run.step(Stage.ROUTING, f"routed to {self._segment_name(out)}, {self._name(target)}")
        return self._deliver(run, frame, [(target, out)], unicast=True)

    # ------------------------------------------------------------------ policy and delivery

    def _egress(self, run: _Run, frame: Frame) -> Verdict | None:
        key = _packet_key(frame)
        if key is None:
            return None
        verdict = judge(
            self.tables,
            self.chains[run.row],
            Direction.EGRESS,
            key,
            self.tables.default_allows[run.segment],
        )
        if not verdict.allowed:
            return _denied(run, Stage.POLICY_EGRESS, verdict)
        run.step(Stage.POLICY_EGRESS, "allow", _by(verdict), verdict.rule)
        return None

    def _deliver(
        self, run: _Run, frame: Frame, receivers: list[tuple[int, int]], *, unicast: bool
    ) -> Verdict:
        ip = frame.ip
        if ip is None or is_policy_exempt(frame, self.flags[run.row]):
            run.step(Stage.POLICY_EGRESS, "exempt (ARP, ND, DHCP)")
            return _forward(run, [r for r, _ in receivers], Reason.EXEMPT)
        fragment = (ip.version, ip.src, ip.dst, ip.fragment_id)
        if ip.is_fragment and ip.fragment_offset > 0:
            first = self.conntrack.fragment_verdict(fragment)
            if not isinstance(first, tuple):
                return run.drop(Stage.CONNTRACK, Reason.FRAGMENT_WITHOUT_FIRST)
            following = [r for r, _ in receivers if r in first]
            if not following:
                return run.drop(Stage.CONNTRACK, Reason.FRAGMENT_WITHOUT_FIRST)
            run.step(Stage.CONNTRACK, "follows its first fragment")
            return _forward(run, following, Reason.ESTABLISHED)
        flow = _flow_key(frame)
        if flow is not None and unicast and self.conntrack.lookup(flow) is not None:
            run.step(Stage.CONNTRACK, "established")
            return _forward(run, [r for r, _ in receivers], Reason.ESTABLISHED)
        denied = self._egress(run, frame)
        if denied is not None:
            return denied
        key = _packet_key(frame)
        assert key is not None  # noqa: S101 - IP packets always have a key
        allowed: list[int] = []
        first_denial: Judgement | None = None
        last: Judgement | None = None
        for receiver, segment in receivers:
            verdict = judge(
                self.tables,
                self.chains[receiver],
                Direction.INGRESS,
                key,
                self.tables.default_allows[segment],
            )
            if verdict.allowed:
                allowed.append(receiver)
                last = verdict
            elif first_denial is None:
                first_denial = verdict
        if not allowed:
            assert first_denial is not None  # noqa: S101 - receivers is never empty here
            return _denied(run, Stage.POLICY_INGRESS, first_denial)
        assert last is not None  # noqa: S101 - set with the first allowed receiver
        run.step(Stage.POLICY_INGRESS, f"allow for {len(allowed)} port(s)", _by(last), last.rule)
        if flow is not None and unicast:
            self.conntrack.commit(flow, run.row, tuple(allowed), (run.segment, receivers, key))
        if ip.is_fragment:
            self.conntrack.remember_fragment(fragment, tuple(allowed))
        return _forward(run, allowed, Reason.ALLOWED, last.rule, log=last.log)

    def still_allowed(self, row: int, facts: object) -> bool:
        """Whether a tracked connection's first packet would still pass (after a change)."""
        if not isinstance(facts, tuple) or row >= len(self.live) or not self.live[row]:
            return False
        segment, receivers, key = facts
        if not judge(
            self.tables,
            self.chains[row],
            Direction.EGRESS,
            key,
            self.tables.default_allows[segment],
        ).allowed:
            return False
        return all(
            r < len(self.live)
            and self.live[r]
            and judge(
                self.tables, self.chains[r], Direction.INGRESS, key, self.tables.default_allows[s]
            ).allowed
            for r, s in receivers
        )

    # ------------------------------------------------------------------ names

    def _name(self, row: int) -> str:
        return self.tables.programs.port_name(row)

    def _segment_name(self, segment: int) -> str:
        found = self.tables.programs.segments[segment]
        return str(found.network) if found is not None else str(segment)


def _packet_key(frame: Frame) -> PacketKey | None:
    ip = frame.ip
    if ip is None:
        return None
    proto = ip.proto if ip.proto is not None else -2
    dport = frame.l4.dport if frame.l4 is not None and proto in (6, 17) else None
    return PacketKey(ip.version, ip.src, ip.dst, proto, dport)


def _flow_key(frame: Frame) -> FlowKey | None:
    ip, l4 = frame.ip, frame.l4
    if ip is None or l4 is None or ip.proto is None:
        return None
    if ip.proto in (6, 17):
        return (ip.version, ip.src, ip.dst, ip.proto, l4.sport, l4.dport)
    if ip.proto in (PROTO_ICMP, PROTO_ICMPV6):
        return (ip.version, ip.src, ip.dst, ip.proto, l4.icmp_id, l4.icmp_type)
    return None


def _by(judgement: Judgement) -> str:
    passed = "".join(f"pass by {p}; " for p in judgement.passed)
    return passed + (str(judgement.rule) if judgement.rule else "default action")


def _denied(run: _Run, stage: Stage, judgement: Judgement) -> Verdict:
    reason = Reason.POLICY_DENY if judgement.rule is not None else Reason.DEFAULT_DENY
    return run.drop(stage, reason, _by(judgement), judgement.rule, log=judgement.log)


def _forward(
    run: _Run,
    egress: list[int],
    reason: Reason,
    rule: RuleOrigin | None = None,
    *,
    log: bool = False,
) -> Verdict:
    run.step(Stage.DELIVERY, f"deliver to {len(egress)} port(s)")
    return Verdict(
        Disposition.FORWARD,
        tuple(egress),
        Stage.DELIVERY,
        reason,
        rule,
        "",
        tuple(run.steps),
        run.segment,
        log,
    )


def _reply(run: _Run, stage: Stage) -> Verdict:
    run.step(stage, "router replies")
    return Verdict(
        Disposition.REPLY, (), stage, Reason.ROUTER_REPLY, None, "", tuple(run.steps), run.segment
    )


def _describe(frame: Frame) -> str:
    parts = [f"{frame.src:012x} > {frame.dst:012x}", f"type 0x{frame.ethertype:04x}"]
    if frame.tags:
        parts.append(f"tags {[vid for _, vid in frame.tags]}")
    if frame.ip is not None:
        parts.append(f"IPv{frame.ip.version} proto {frame.ip.proto}")
    if frame.l4 is not None and frame.l4.icmp_type < 0:
        parts.append(f"ports {frame.l4.sport}>{frame.l4.dport}")
    return ", ".join(parts)
