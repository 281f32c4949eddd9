"""What a data plane decided about one frame, which stage decided it, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tenantry.compiler import RuleOrigin

__all__ = ["Disposition", "Reason", "Stage", "TraceStep", "Verdict"]


class Disposition(StrEnum):
    """The fate of a frame."""

    FORWARD = "forward"
    """Delivered to the egress ports."""
    DROP = "drop"
    REPLY = "reply"
    """Answered by a router interface (ARP/ND for a gateway, ICMP echo to a gateway)."""


class Stage(StrEnum):
    """The pipeline, in order (docs/semantics.md)."""

    INGRESS = "ingress"
    DECODE = "decode"
    VLAN = "vlan"
    PORT_SECURITY = "port-security"
    FORWARDING = "forwarding"
    ROUTING = "routing"
    CONNTRACK = "conntrack"
    POLICY_EGRESS = "policy-egress"
    POLICY_INGRESS = "policy-ingress"
    DELIVERY = "delivery"


class Reason(StrEnum):
    """Every named reason a frame is dropped, answered or delivered."""

    # ingress and decoding
    UNKNOWN_PORT = "unknown-port"
    NOT_ATTACHED = "port-not-attached"
    MALFORMED = "malformed-frame"
    # VLAN
    STACKED_TAGS = "stacked-vlan-tags"
    GUEST_TAGGED = "guest-tagged-frame"
    UNTAGGED_ON_TRUNK = "untagged-on-trunk"
    VLAN_NOT_IN_TRUNK = "vlan-not-in-trunk"
    # port security
    LLC_FRAME = "non-ethernet-ii-frame"
    ETHERTYPE = "ethertype-not-allowed"
    FORGED_SOURCE_MAC = "forged-source-mac"
    MAC_CHANGE = "mac-change"
    RARP_FOREIGN_MAC = "rarp-foreign-mac"
    ARP_SPOOF = "arp-spoof"
    ND_SPOOF = "nd-spoof"
    IPV4_SOURCE = "ipv4-source-not-locked"
    IPV6_SOURCE = "ipv6-source-not-locked"
    ROGUE_DHCP = "rogue-dhcp-server"
    ROGUE_RA = "rogue-router-advertisement"
    INCOMPLETE_HEADER_CHAIN = "ipv6-incomplete-header-chain"
    # forwarding and routing
    UNKNOWN_UNICAST = "unknown-unicast"
    HAIRPIN = "hairpin"
    SERVICE_ISOLATION = "shared-service-isolation"
    NO_RECEIVER = "no-receiver"
    NO_ROUTE = "no-route"
    TTL_EXCEEDED = "ttl-exceeded"
    ADDRESSED_TO_ROUTER = "addressed-to-router"
    ROUTER_REPLY = "router-reply"
    FRAGMENT_WITHOUT_FIRST = "fragment-without-first"
    # policy
    POLICY_DENY = "policy-deny"
    DEFAULT_DENY = "default-deny"
    # delivered
    ALLOWED = "allowed"
    ESTABLISHED = "established"
    EXEMPT = "exempt-from-policy"
    """ARP, ND and DHCP are judged by port security only."""


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One stage's outcome, for ``tenantry trace``."""

    stage: Stage
    outcome: str
    detail: str = ""
    rule: RuleOrigin | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on one frame: action, egress ports, deciding stage, reason and rule."""

    action: Disposition
    egress: tuple[int, ...]
    """Port rows (``Programs.ports``) the frame is delivered to."""
    stage: Stage
    reason: Reason
    rule: RuleOrigin | None = None
    detail: str = ""
    steps: tuple[TraceStep, ...] = ()
    segment: int = -1
    """The segment the frame was classified on (-1 before the VLAN stage)."""
    log: bool = False
    """Whether a rule that decided asked for the packet to be logged."""

    @property
    def dropped(self) -> bool:
        return self.action is Disposition.DROP

    def __str__(self) -> str:
        rule = f" by {self.rule}" if self.rule else ""
        return f"{self.action} at {self.stage}: {self.reason}{rule}"
