"""Counterexamples: concrete frames, the ports that send and receive them, and the path.

Frames are built with ``tenantry.dataplane.packets`` (pure byte building, no I/O): the same
builder ``tenantry trace`` uses, so a counterexample can be replayed as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from tenantry.dataplane import packets as pkt
from tenantry.verify.policy import PacketClass

__all__ = ["Counterexample", "Hop", "arp_probe", "routed_frame"]

UNSPECIFIED_V4 = "0.0.0.0"  # noqa: S104 - an address in a frame, not a bind
SOURCE_PORT = 40000
PROTOCOL_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}


@dataclass(frozen=True, slots=True)
class Hop:
    """One frame, sent into one port, that the data plane delivers to another port."""

    sender: str
    receiver: str
    ingress: int
    """Port row the frame is sent into (in the wire programs)."""
    egress: int
    """Port row it must be delivered to."""
    frame: bytes
    summary: str
    path: tuple[str, ...]
    """The way it goes: sender, segment(s), router, receiver."""

    def to_dict(self) -> dict[str, object]:
        return {
            "from": self.sender,
            "to": self.receiver,
            "packet": self.summary,
            "path": list(self.path),
            "frame": self.frame.hex(),
        }


@dataclass(frozen=True, slots=True)
class Counterexample:
    """Frames that carry something from one tenant to another, hop by hop.

    One hop for a shared segment or a router; two for a guest that bridges (the guest itself
    forwards between its vNICs); none for storage, which has a description instead.
    """

    hops: tuple[Hop, ...]
    description: str

    def __str__(self) -> str:
        if not self.hops:
            return self.description
        lines = [self.description]
        for i, hop in enumerate(self.hops, start=1):
            lines.append(f"  {i}. {hop.summary}")
            lines.append(f"     path: {' -> '.join(hop.path)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {"description": self.description, "hops": [h.to_dict() for h in self.hops]}


def arp_probe(
    src_mac: str, sender_ip: str | None, target_ip: str | None, vlan: int | None
) -> tuple[bytes, str]:
    """A broadcast ARP request (exempt from policy, so only L2 separation stops it)."""
    sender = sender_ip or UNSPECIFIED_V4
    target = target_ip or UNSPECIFIED_V4
    body = pkt.arp(1, src_mac, sender, "00:00:00:00:00:00", target)
    tags = (vlan,) if vlan is not None else ()
    frame = pkt.ethernet(pkt.BROADCAST, src_mac, 0x0806, body, tags=tags)
    tag = f" (802.1Q VLAN {vlan})" if vlan is not None else ""
    return frame, f"ARP who-has {target} tell {sender} from {src_mac}, broadcast{tag}"


def routed_frame(
    *,
    src_mac: str,
    dst_mac: str,
    src: IPv4Address | IPv6Address | None,
    dst: IPv4Address | IPv6Address,
    cls: PacketClass | None,
    vlan: int | None,
    link_local: IPv6Address,
) -> tuple[bytes, str]:
    """An IP packet to a router's MAC: of a class the policies allow, or (``cls`` None) the
    DHCP client / neighbour solicitation that policy exempts."""
    tags = (vlan,) if vlan is not None else ()
    tag = f" (802.1Q VLAN {vlan})" if vlan is not None else ""
    if cls is None:
        if dst.version == 4:
            source = UNSPECIFIED_V4
            l4 = pkt.udp(source, str(dst), 68, 67, pkt.dhcp(1, src_mac))
            body = pkt.ipv4(source, str(dst), 17, l4)
            shown = f"DHCPDISCOVER {source}:68 > {dst}:67 (exempt from policy)"
            return pkt.ethernet(dst_mac, src_mac, 0x0800, body, tags=tags), shown + tag
        l4 = pkt.nd_solicit("::", str(dst), str(link_local), None)
        body = pkt.ipv6("::", str(dst), 58, l4)
        shown = f"neighbour solicitation :: > {dst} (exempt from policy)"
        return pkt.ethernet(dst_mac, src_mac, 0x86DD, body, tags=tags), shown + tag
    assert src is not None  # noqa: S101 - ordinary classes are only built with a source
    s, d = str(src), str(dst)
    if cls.proto == 6:
        l4 = pkt.tcp(s, d, SOURCE_PORT, cls.dport or 0)
    elif cls.proto == 17:
        l4 = pkt.udp(s, d, SOURCE_PORT, cls.dport or 0)
    elif cls.proto == 1:
        l4 = pkt.icmp_echo()
    elif cls.proto == 58:
        l4 = pkt.icmpv6(s, d, 128, 0, b"\0\x01\0\x01")
    else:
        l4 = b"\0" * 8
    name = PROTOCOL_NAMES.get(cls.proto, f"protocol {cls.proto}")
    port = f" port {cls.dport}" if cls.dport is not None else ""
    shown = f"{name} {s} > {d}{port} to router MAC {dst_mac}{tag}"
    if dst.version == 4:
        return pkt.ethernet(
            dst_mac, src_mac, 0x0800, pkt.ipv4(s, d, cls.proto, l4), tags=tags
        ), shown
    return pkt.ethernet(dst_mac, src_mac, 0x86DD, pkt.ipv6(s, d, cls.proto, l4), tags=tags), shown
