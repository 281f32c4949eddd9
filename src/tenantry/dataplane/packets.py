"""Building frames from fields (for trace, tests and the lab): the inverse of ``frames.decode``.

Every builder returns bytes; addresses are given as text (``02:00:00:00:00:01``,
``10.0.0.1``, ``fd00::1``). IPv4 header and TCP/UDP/ICMP checksums are filled in.
"""

from __future__ import annotations

import struct
from ipaddress import IPv4Address, IPv6Address, ip_address

from tenantry.dataplane.frames import ETH_ARP, ETH_IPV4, ETH_IPV6, PROTO_ICMPV6

__all__ = [
    "BROADCAST",
    "arp",
    "dhcp",
    "dhcpv6",
    "ethernet",
    "icmp_echo",
    "icmpv6",
    "ipv4",
    "ipv6",
    "mac_bytes",
    "nd_advert",
    "nd_solicit",
    "router_advert",
    "tcp",
    "udp",
]

BROADCAST = "ff:ff:ff:ff:ff:ff"


def mac_bytes(mac: str) -> bytes:
    """``02:00:00:00:00:01`` as 6 bytes."""
    return bytes.fromhex(mac.replace(":", "").replace("-", ""))


def ethernet(
    dst: str,
    src: str,
    ethertype: int,
    payload: bytes = b"",
    *,
    tags: tuple[int, ...] = (),
    tpids: tuple[int, ...] = (),
) -> bytes:
    """An Ethernet II frame, with 802.1Q tags (outermost first; TPIDs default to 0x8100)."""
    header = mac_bytes(dst) + mac_bytes(src)
    for i, vid in enumerate(tags):
        tpid = tpids[i] if i < len(tpids) else 0x8100
        header += struct.pack("!HH", tpid, vid & 0x0FFF)
    return header + struct.pack("!H", ethertype) + payload


def arp(op: int, sender_mac: str, sender_ip: str, target_mac: str, target_ip: str) -> bytes:
    """An ARP packet (op 1 request, 2 reply) for IPv4 over Ethernet."""
    return struct.pack(
        "!HHBBH6s4s6s4s",
        1,
        ETH_IPV4,
        6,
        4,
        op,
        mac_bytes(sender_mac),
        IPv4Address(sender_ip).packed,
        mac_bytes(target_mac),
        IPv4Address(target_ip).packed,
    )


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(
    src: str,
    dst: str,
    proto: int,
    payload: bytes,
    *,
    ttl: int = 64,
    ident: int = 1,
    fragment_offset: int = 0,
    more_fragments: bool = False,
    options: bytes = b"",
) -> bytes:
    """An IPv4 packet (options padded to 32 bits; offset in bytes, a multiple of 8)."""
    options += b"\0" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    frag = (fragment_offset // 8) | (0x2000 if more_fragments else 0)
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x40 | ihl,
        0,
        ihl * 4 + len(payload),
        ident,
        frag,
        ttl,
        proto,
        0,
        IPv4Address(src).packed,
        IPv4Address(dst).packed,
    )
    header += options
    checksum = _checksum(header)
    return header[:10] + struct.pack("!H", checksum) + header[12:] + payload


def ipv6(
    src: str,
    dst: str,
    next_header: int,
    payload: bytes,
    *,
    hop_limit: int = 64,
    extensions: tuple[tuple[int, bytes], ...] = (),
) -> bytes:
    """An IPv6 packet; ``extensions`` are (header type, body) pairs placed before the payload.

    Each body is padded to the header's size unit; type 44 takes (offset, more, id) packed
    by :func:`fragment_header`.
    """
    chain = b""
    types = [kind for kind, _ in extensions] + [next_header]
    for i, (kind, body) in enumerate(extensions):
        following = types[i + 1]
        if kind == 44:
            chain += bytes([following, 0]) + body
            continue
        raw = bytes([following, 0]) + body
        raw += b"\0" * (-len(raw) % 8)
        chain += bytes([following, len(raw) // 8 - 1]) + raw[2:]
    body = chain + payload
    first_type = types[0]
    header = struct.pack(
        "!IHBB16s16s",
        6 << 28,
        len(body),
        first_type,
        hop_limit,
        IPv6Address(src).packed,
        IPv6Address(dst).packed,
    )
    return header + body


def fragment_header(offset: int, more: bool, ident: int) -> bytes:
    """The 6 bytes after next-header/reserved of an IPv6 fragment header."""
    return struct.pack("!HI", (offset & 0xFFF8) | int(more), ident)


def _pseudo(src: str, dst: str, proto: int, length: int) -> bytes:
    s, d = ip_address(src), ip_address(dst)
    if s.version == 4:
        return s.packed + d.packed + struct.pack("!BBH", 0, proto, length)
    return s.packed + d.packed + struct.pack("!IxxxB", length, proto)


def tcp(
    src: str, dst: str, sport: int, dport: int, *, flags: int = 0x02, payload: bytes = b""
) -> bytes:
    """A TCP segment (default: SYN) with its checksum over ``src``/``dst``."""
    header = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 65535, 0, 0)
    segment = header + payload
    checksum = _checksum(_pseudo(src, dst, 6, len(segment)) + segment)
    return segment[:16] + struct.pack("!H", checksum) + segment[18:]


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes = b"") -> bytes:
    """A UDP datagram with its checksum over ``src``/``dst``."""
    datagram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    checksum = _checksum(_pseudo(src, dst, 17, len(datagram)) + datagram) or 0xFFFF
    return datagram[:6] + struct.pack("!H", checksum) + datagram[8:]


def icmp_echo(ident: int = 1, seq: int = 1, *, reply: bool = False) -> bytes:
    """An ICMP echo request (or reply)."""
    body = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq) + b"ping"
    return body[:2] + struct.pack("!H", _checksum(body)) + body[4:]


def icmpv6(src: str, dst: str, icmp_type: int, code: int, body: bytes) -> bytes:
    """An ICMPv6 message with its checksum."""
    message = struct.pack("!BBH", icmp_type, code, 0) + body
    checksum = _checksum(_pseudo(src, dst, PROTO_ICMPV6, len(message)) + message)
    return message[:2] + struct.pack("!H", checksum) + message[4:]


def _lladdr(kind: int, mac: str | None) -> bytes:
    return b"" if mac is None else bytes([kind, 1]) + mac_bytes(mac)


def nd_solicit(src: str, dst: str, target: str, source_mac: str | None) -> bytes:
    """A neighbour solicitation (ICMPv6 135) with an optional source link-layer option."""
    body = b"\0" * 4 + IPv6Address(target).packed + _lladdr(1, source_mac)
    return icmpv6(src, dst, 135, 0, body)


def nd_advert(src: str, dst: str, target: str, target_mac: str | None) -> bytes:
    """A neighbour advertisement (ICMPv6 136, solicited+override) with a target link-layer
    option."""
    body = b"\x60\0\0\0" + IPv6Address(target).packed + _lladdr(2, target_mac)
    return icmpv6(src, dst, 136, 0, body)


def router_advert(src: str, dst: str, source_mac: str | None) -> bytes:
    """A router advertisement (ICMPv6 134)."""
    body = struct.pack("!BBHII", 64, 0, 1800, 0, 0) + _lladdr(1, source_mac)
    return icmpv6(src, dst, 134, 0, body)


def dhcp(message_type: int, client_mac: str, *, server: bool = False) -> bytes:
    """A minimal DHCPv4 message (BOOTP + magic cookie + option 53) as a UDP payload."""
    op = 2 if server else 1
    bootp = struct.pack("!BBBBIHH", op, 1, 6, 0, 0x1234, 0, 0x8000) + b"\0" * 16
    bootp += mac_bytes(client_mac) + b"\0" * 10 + b"\0" * 192
    return bootp + b"\x63\x82\x53\x63" + bytes([53, 1, message_type, 255])


def dhcpv6(message_type: int) -> bytes:
    """A minimal DHCPv6 message (type and transaction id) as a UDP payload."""
    return bytes([message_type, 0, 0, 1])


ETHERTYPES = {"ipv4": ETH_IPV4, "ipv6": ETH_IPV6, "arp": ETH_ARP}
