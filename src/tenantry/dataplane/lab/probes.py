"""Attacks and their controls: the frames, the signatures that find them, where they may go.

An attack is frames a guest sends (or, for sniffing, frames it must not see) and the signature
that recognises them anywhere they arrive: a random token in the payload, or the bytes of a
spoofed claim (ARP sender MAC and IP). Its control is the same frame with the attacked field
made legitimate, sent by the same guest, which must arrive where expected; if it does not,
the attack proves nothing and is reported as inconclusive, never as blocked.
"""

from __future__ import annotations

import ipaddress
import os
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet, Raw

from tenantry.dataplane.lab.topology import Endpoint, Flow, Topology

__all__ = [
    "BROADCAST",
    "Attack",
    "Probe",
    "attackers",
    "control_of",
    "flow_frame",
    "garp_control",
    "ip_bytes",
    "mac_bytes",
    "random_mac",
    "token",
]

BROADCAST = "ff:ff:ff:ff:ff:ff"


@dataclass
class Probe:
    """Frames one guest sends, and where (by watch-point label) they may or must arrive."""

    sender: Endpoint
    frames: Sequence[Packet]
    signatures: tuple[bytes, ...]
    expect_at: tuple[str, ...] = ()
    """Controls: labels that must see the frames (all of them)."""
    forbid_at: tuple[str, ...] | None = None
    """Attacks: labels that must not see them (None: anywhere but the sender)."""
    forbid_untagged_at: tuple[str, ...] = ()
    """Attacks: labels where an *untagged* sighting is a leak (the fabric carries a tenant's
    own VLAN legitimately)."""
    what: str = ""
    gap: float = 0.0
    """Seconds between frames (time for the other side to answer in between)."""
    fresh: Callable[[], Probe] | None = None
    """Builds the same probe with new ports and token: a control is never sent twice with the
    same 5-tuple (a closed port's RST followed by the same SYN crashes OVS 3.1's conntrack)."""

    def renewed(self) -> Probe:
        return self.fresh() if self.fresh is not None else self


@dataclass
class Attack:
    """One attack, its control, and optional checks of guest state afterwards."""

    name: str
    threat: str
    description: str
    attack: Probe
    control: Probe
    checks: list[Callable[[], list[str]]] = field(default_factory=list)


def token() -> bytes:
    """A random marker carried in payloads, found again in any frame that arrives."""
    return b"TNT" + os.urandom(9).hex().encode()


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def ip_bytes(address: str) -> bytes:
    return ipaddress.ip_address(address).packed


def random_mac() -> str:
    octets = [0x02] + [random.randrange(256) for _ in range(5)]  # noqa: S311 - test traffic
    return ":".join(f"{o:02x}" for o in octets)


def _l3(flow: Flow, src_ip: str | None = None, mark: bytes = b"") -> Packet:
    """The control flow's IP packet (own or given source), with a token as payload."""
    if flow.family == 4:
        ip: Packet = IP(src=src_ip or flow.src.ip, dst=flow.dst.ip, ttl=64)
    else:
        ip = IPv6(src=src_ip or flow.src.ipv6[0], dst=flow.dst.ipv6[0], hlim=64)
    if flow.proto == "tcp":
        l4: Packet = TCP(sport=random.randrange(20000, 60000), dport=flow.dport, flags="S")  # noqa: S311
    elif flow.proto == "udp":
        l4 = UDP(sport=random.randrange(20000, 60000), dport=flow.dport)  # noqa: S311
    elif flow.family == 4:
        l4 = ICMP(id=random.randrange(65536))  # noqa: S311
    else:
        l4 = ICMPv6EchoRequest(id=random.randrange(65536))  # noqa: S311
    return ip / l4 / Raw(mark)


def _dst_mac(flow: Flow) -> str:
    return flow.src.router_mac if flow.routed and flow.src.router_mac else flow.dst.mac


def flow_frame(
    flow: Flow, mark: bytes, *, src_mac: str | None = None, src_ip: str | None = None
) -> Packet:
    """The flow's frame (from its own MAC and IP unless told otherwise), carrying ``mark``."""
    return Ether(src=src_mac or flow.src.mac, dst=_dst_mac(flow)) / _l3(flow, src_ip, mark)


def control_of(flow: Flow, what: str) -> Probe:
    """The legitimate flow, which must reach its destination (fresh each time it is sent)."""
    mark = token()
    return Probe(
        flow.src,
        [flow_frame(flow, mark)],
        (mark,),
        (flow.dst.name,),
        what=what,
        fresh=lambda: control_of(flow, what),
    )


def garp_control(topology: Topology, sender: Endpoint) -> Probe:
    """A gratuitous ARP for the sender's own address: exempt from policy, flooded."""
    own = sender.ip or "0.0.0.0"  # noqa: S104 - an ARP field, not a bind address
    frame = Ether(src=sender.mac, dst=BROADCAST) / ARP(
        op=2, hwsrc=sender.mac, psrc=own, hwdst=BROADCAST, pdst=own
    )
    receivers = [
        e.name
        for e in topology.neighbours(sender)
        if not (sender.service_consumer and e.service_consumer)
    ]
    signature = mac_bytes(sender.mac) + ip_bytes(own)
    return Probe(sender, [frame], (signature,), tuple(receivers), what="gratuitous ARP, own IP")


def attackers(topology: Topology, need_ipv6: bool = False) -> Iterator[Endpoint]:
    """One ordinary endpoint per owner and chassis (neighbours on both chassis get hit)."""
    seen: set[tuple[str, str]] = set()
    for endpoint in topology.endpoints:
        if endpoint.relaxed or endpoint.promiscuous or endpoint.trunk or not endpoint.ipv4:
            continue
        if endpoint.service_consumer or endpoint.service_provider:
            continue
        if need_ipv6 and not endpoint.ipv6:
            continue
        if (endpoint.owner, endpoint.chassis) in seen:
            continue
        seen.add((endpoint.owner, endpoint.chassis))
        yield endpoint
