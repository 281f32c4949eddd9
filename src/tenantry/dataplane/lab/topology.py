"""What the attacks know about the lab: endpoints (a guest's vNIC and what it holds), and a way
to ask whether a flow is allowed, so that every attack is paired with a legitimate flow of the
same shape. Plain data, made by the caller from the compiled programs and the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Endpoint", "Flow", "Judge", "Topology"]


@dataclass(frozen=True)
class Endpoint:
    """A guest vNIC in the lab: where it is, what it may send, what it is for."""

    name: str
    """The port name (``tenant/guest/vnic``)."""
    guest: str
    netns: str
    ifname: str
    owner: str
    segment: str
    chassis: str
    mac: str
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    link_local: str = ""
    vlan: int | None = None
    """The VLAN of its segment on the physical network (None for an overlay)."""
    trunk: tuple[int, ...] = ()
    """VLANs a VGT trunk vNIC tags itself (empty for VST/EST ports)."""
    gateway4: str | None = None
    gateway6: str | None = None
    router_mac: str | None = None
    service_consumer: bool = False
    service_provider: bool = False
    dhcp_server: bool = False
    router_advertisements: bool = False
    promiscuous: bool = False
    relaxed: bool = False
    """Forged transmits or MAC changes accepted by its port group."""

    @property
    def ip(self) -> str | None:
        return self.ipv4[0] if self.ipv4 else None


@dataclass(frozen=True)
class Flow:
    """A legitimate flow: from an endpoint to another, protocol and destination port."""

    src: Endpoint
    dst: Endpoint
    proto: str
    dport: int = 0
    routed: bool = False
    family: int = 4


Judge = Callable[[Endpoint, Endpoint, str, int, int], bool]
"""Whether a new flow (src, dst, protocol, destination port, IP family) is allowed."""


@dataclass
class Topology:
    """Every endpoint of the lab, the fabric to watch, and the judge of legitimate flows."""

    endpoints: tuple[Endpoint, ...]
    judge: Judge
    fabric_netns: str | None = None
    fabric_ports: tuple[str, ...] = ()
    infrastructure: tuple[str, ...] = ()
    """Addresses of the hypervisors and hosts (the management plane guests must not reach)."""
    geneve_keys: dict[str, int] = field(default_factory=dict)
    """Overlay segment → Geneve key (for encapsulated injection)."""

    def neighbours(self, of: Endpoint) -> list[Endpoint]:
        """Other endpoints on the same segment."""
        return [e for e in self.endpoints if e.segment == of.segment and e.name != of.name]

    def others(self, of: Endpoint) -> list[Endpoint]:
        """Endpoints of other owners."""
        return [e for e in self.endpoints if e.owner != of.owner]

    def allowed_flow(
        self, src: Endpoint, candidates: list[Endpoint] | None = None, family: int = 4
    ) -> Flow | None:
        """A legitimate flow from ``src``: same segment first, then routed; None if none."""
        shapes = [("icmp", 0), ("tcp", 443), ("udp", 53), ("tcp", 5432), ("tcp", 8080),
                  ("tcp", 80), ("tcp", 8443), ("tcp", 22)]  # fmt: skip
        pool = candidates if candidates is not None else self.endpoints
        for same_segment in (True, False):
            for dst in pool:
                if dst.name == src.name or (dst.segment == src.segment) is not same_segment:
                    continue
                if family == 4 and not (dst.ipv4 and src.ipv4):
                    continue
                if family == 6 and not (dst.ipv6 and src.ipv6):
                    continue
                if not same_segment and (src.router_mac is None or src.owner != dst.owner):
                    continue
                for proto, dport in shapes:
                    if self.judge(src, dst, proto, dport, family):
                        return Flow(src, dst, proto, dport, routed=not same_segment, family=family)
        return None
