"""Frames from raw bytes: Ethernet II, 802.1Q/802.1ad tags, ARP/RARP, IPv4 (options,
fragments), IPv6 (extension headers, fragments, ND), ICMP, ICMPv6, TCP, UDP, DHCPv4/v6.

``decode`` never raises anything but :class:`tenantry.errors.FrameError`, which carries the
byte offset where decoding stopped. Checksums are not verified (a switch does not either).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tenantry.errors import FrameError

__all__ = [
    "ETH_ARP",
    "ETH_IPV4",
    "ETH_IPV6",
    "ETH_RARP",
    "TAG_TPIDS",
    "Arp",
    "Dhcp",
    "Frame",
    "IpHeader",
    "Nd",
    "Transport",
    "decode",
]

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
ETH_RARP = 0x8035
ETH_IPV6 = 0x86DD
TAG_TPIDS = frozenset({0x8100, 0x88A8, 0x9100})
"""802.1Q, 802.1ad and the legacy QinQ TPID."""

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58
IPV6_EXTENSIONS = frozenset({0, 43, 44, 60, 51, 135, 139, 140})
"""Hop-by-hop, routing, fragment, destination options, AH, mobility, HIP, shim6."""
MAX_EXTENSION_HEADERS = 8
"""Longer chains are refused (RFC 7112 evasions hide an RA behind many headers)."""
ND_TYPES = frozenset({133, 134, 135, 136, 137})

_ETH = struct.Struct("!6s6sH")
_TAG = struct.Struct("!HH")
_ARP = struct.Struct("!HHBBH6s4s6s4s")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_IPV6 = struct.Struct("!IHBB16s16s")
_PORTS = struct.Struct("!HH")
_TCP_FLAGS = struct.Struct("!B")


@dataclass(frozen=True, slots=True)
class Arp:
    """An ARP (or RARP) packet for IPv4 over Ethernet."""

    op: int
    sender_mac: int
    sender_ip: int
    target_mac: int
    target_ip: int


@dataclass(frozen=True, slots=True)
class IpHeader:
    """IPv4 or IPv6: addresses as integers, the upper-layer protocol once known."""

    version: int
    src: int
    dst: int
    proto: int | None
    """The upper-layer protocol; None in a non-first fragment or an incomplete header chain."""
    ttl: int
    fragment_offset: int = 0
    more_fragments: bool = False
    fragment_id: int = 0
    is_fragment: bool = False
    extensions: tuple[int, ...] = ()
    """IPv6 extension headers in order."""
    chain_complete: bool = True
    """False for an IPv6 first fragment that ends before its upper-layer header (RFC 7112)."""
    has_options: bool = False


@dataclass(frozen=True, slots=True)
class Transport:
    """TCP/UDP ports, or ICMP/ICMPv6 type, code and echo identifier."""

    sport: int = 0
    dport: int = 0
    icmp_type: int = -1
    icmp_code: int = -1
    icmp_id: int = 0
    tcp_flags: int = 0


@dataclass(frozen=True, slots=True)
class Nd:
    """IPv6 neighbour discovery: the message type, target, and link-layer address options."""

    type: int
    target: int | None = None
    source_mac: int | None = None
    target_mac: int | None = None


@dataclass(frozen=True, slots=True)
class Dhcp:
    """A DHCPv4 (BOOTP) or DHCPv6 message: version, message type, BOOTP op for v4."""

    version: int
    message_type: int
    op: int = 0


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded frame; absent layers are None."""

    dst: int
    src: int
    tags: tuple[tuple[int, int], ...]
    """(TPID, VLAN id) of each 802.1Q/802.1ad tag, outermost first."""
    ethertype: int
    """The type after any tags; 0 for an IEEE 802.3 (LLC) frame such as a BPDU."""
    length: int
    arp: Arp | None = None
    ip: IpHeader | None = None
    l4: Transport | None = None
    nd: Nd | None = None
    dhcp: Dhcp | None = None

    @property
    def is_broadcast(self) -> bool:
        return self.dst == 0xFFFF_FFFF_FFFF

    @property
    def is_multicast(self) -> bool:
        """Group addresses, broadcast included (I/G bit set)."""
        return bool((self.dst >> 40) & 1)

    @property
    def vlan(self) -> int | None:
        """The VLAN id of the outermost tag, if tagged."""
        return self.tags[0][1] if self.tags else None


def _need(data: bytes, offset: int, size: int, what: str) -> None:
    if len(data) < offset + size:
        raise FrameError(f"truncated {what}: needs {size} bytes, {len(data) - offset} left", offset)


def decode(data: bytes) -> Frame:
    """Decode a frame, or raise FrameError with the offset where it went wrong."""
    _need(data, 0, 14, "Ethernet header")
    dst, src, ethertype = _ETH.unpack_from(data, 0)
    offset = 14
    tags: list[tuple[int, int]] = []
    while ethertype in TAG_TPIDS:
        _need(data, offset, 4, "802.1Q tag")
        tci, ethertype = _TAG.unpack_from(data, offset)
        tags.append((_TAG.unpack_from(data, offset - 2)[0], tci & 0x0FFF))
        offset += 4
        if len(tags) > 4:
            raise FrameError("more than four VLAN tags", offset)
    base = {
        "dst": int.from_bytes(dst, "big"),
        "src": int.from_bytes(src, "big"),
        "tags": tuple(tags),
        "length": len(data),
    }
    if ethertype < 0x0600:
        return Frame(ethertype=0, **base)  # type: ignore[arg-type]
    if ethertype in (ETH_ARP, ETH_RARP):
        return Frame(ethertype=ethertype, arp=_arp(data, offset), **base)  # type: ignore[arg-type]
    if ethertype == ETH_IPV4:
        ip, l4_offset, end = _ipv4(data, offset)
    elif ethertype == ETH_IPV6:
        ip, l4_offset, end = _ipv6(data, offset)
    else:
        return Frame(ethertype=ethertype, **base)  # type: ignore[arg-type]
    l4, nd, dhcp = _upper(data, ip, l4_offset, end)
    return Frame(ethertype=ethertype, ip=ip, l4=l4, nd=nd, dhcp=dhcp, **base)  # type: ignore[arg-type]


def _arp(data: bytes, offset: int) -> Arp:
    _need(data, offset, _ARP.size, "ARP packet")
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = _ARP.unpack_from(data, offset)
    if (htype, ptype, hlen, plen) != (1, ETH_IPV4, 6, 4):
        raise FrameError("ARP is not IPv4 over Ethernet", offset)
    return Arp(
        op,
        int.from_bytes(sha, "big"),
        int.from_bytes(spa, "big"),
        int.from_bytes(tha, "big"),
        int.from_bytes(tpa, "big"),
    )


def _ipv4(data: bytes, offset: int) -> tuple[IpHeader, int, int]:
    _need(data, offset, 20, "IPv4 header")
    vihl, _, total, ident, frag, ttl, proto, _, src, dst = _IPV4.unpack_from(data, offset)
    if vihl >> 4 != 4:
        raise FrameError(f"IP version {vihl >> 4} in an IPv4 ethertype", offset)
    ihl = (vihl & 0x0F) * 4
    if ihl < 20:
        raise FrameError(f"IPv4 header length {ihl} is below 20", offset)
    if total < ihl:
        raise FrameError(f"IPv4 total length {total} is below the header length {ihl}", offset + 2)
    _need(data, offset, total, "IPv4 packet")
    _ipv4_options(data, offset + 20, offset + ihl)
    frag_offset = (frag & 0x1FFF) * 8
    more = bool(frag & 0x2000)
    is_fragment = more or frag_offset > 0
    header = IpHeader(
        version=4,
        src=int.from_bytes(src, "big"),
        dst=int.from_bytes(dst, "big"),
        proto=proto if frag_offset == 0 else None,
        ttl=ttl,
        fragment_offset=frag_offset,
        more_fragments=more,
        fragment_id=ident,
        is_fragment=is_fragment,
        has_options=ihl > 20,
    )
    return header, offset + ihl, offset + total


def _ipv4_options(data: bytes, offset: int, end: int) -> None:
    while offset < end:
        kind = data[offset]
        if kind == 0:
            return
        if kind == 1:
            offset += 1
            continue
        if offset + 1 >= end:
            raise FrameError("IPv4 option without a length", offset)
        length = data[offset + 1]
        if length < 2 or offset + length > end:
            raise FrameError(f"IPv4 option of length {length} overruns the header", offset)
        offset += length


def _ipv6(data: bytes, offset: int) -> tuple[IpHeader, int, int]:
    _need(data, offset, 40, "IPv6 header")
    first, payload, next_header, hop_limit, src, dst = _IPV6.unpack_from(data, offset)
    if first >> 28 != 6:
        raise FrameError(f"IP version {first >> 28} in an IPv6 ethertype", offset)
    end = offset + 40 + payload
    _need(data, offset + 40, payload, "IPv6 payload")
    cursor = offset + 40
    extensions: list[int] = []
    frag_offset = 0
    more = False
    ident = 0
    is_fragment = False
    proto: int | None = next_header
    complete = True
    while proto in IPV6_EXTENSIONS:
        if len(extensions) >= MAX_EXTENSION_HEADERS:
            raise FrameError(f"more than {MAX_EXTENSION_HEADERS} IPv6 extension headers", cursor)
        if proto == 0 and extensions:
            raise FrameError("hop-by-hop options header not first", cursor)
        extensions.append(proto)
        if cursor + 8 > end:
            if is_fragment:
                complete = False
                proto = None
                break
            raise FrameError("truncated IPv6 extension header", cursor)
        following = data[cursor]
        if proto == 44:
            field = int.from_bytes(data[cursor + 2 : cursor + 4], "big")
            frag_offset = field & 0xFFF8
            more = bool(field & 1)
            ident = int.from_bytes(data[cursor + 4 : cursor + 8], "big")
            is_fragment = True
            size = 8
        elif proto == 51:
            size = (data[cursor + 1] + 2) * 4
        else:
            size = (data[cursor + 1] + 1) * 8
        if cursor + size > end:
            raise FrameError("IPv6 extension header overruns the packet", cursor)
        cursor += size
        proto = following
        if is_fragment and frag_offset:
            proto = None
            break
    if proto == 59:
        proto = None  # no next header
    header = IpHeader(
        version=6,
        src=int.from_bytes(src, "big"),
        dst=int.from_bytes(dst, "big"),
        proto=proto,
        ttl=hop_limit,
        fragment_offset=frag_offset,
        more_fragments=more,
        fragment_id=ident,
        is_fragment=is_fragment,
        extensions=tuple(extensions),
        chain_complete=complete,
    )
    return header, cursor, end


def _upper(
    data: bytes, ip: IpHeader, offset: int, end: int
) -> tuple[Transport | None, Nd | None, Dhcp | None]:
    proto = ip.proto
    if proto is None:
        return None, None, None
    available = end - offset
    if proto in (PROTO_TCP, PROTO_UDP):
        need = 20 if proto == PROTO_TCP else 8
        if available < need:
            if ip.is_fragment and ip.version == 6:
                return None, None, None  # handled as an incomplete chain by the caller
            what = "TCP header" if proto == PROTO_TCP else "UDP header"
            raise FrameError(f"truncated {what}: needs {need} bytes, {available} left", offset)
        sport, dport = _PORTS.unpack_from(data, offset)
        if proto == PROTO_TCP:
            data_offset = (data[offset + 12] >> 4) * 4
            if data_offset < 20 or (data_offset > available and not ip.is_fragment):
                raise FrameError(f"TCP data offset {data_offset} is invalid", offset + 12)
            return Transport(sport, dport, tcp_flags=data[offset + 13]), None, None
        length = int.from_bytes(data[offset + 4 : offset + 6], "big")
        if length < 8 or (length > available and not ip.is_fragment):
            raise FrameError(f"UDP length {length} does not fit the packet", offset + 4)
        transport = Transport(sport, dport)
        return transport, None, _dhcp(data, offset + 8, end, sport=sport, dport=dport, ip=ip)
    if proto in (PROTO_ICMP, PROTO_ICMPV6):
        if available < 4:
            raise FrameError(f"truncated ICMP header: {available} bytes", offset)
        icmp_type, code = data[offset], data[offset + 1]
        ident = int.from_bytes(data[offset + 4 : offset + 6], "big") if available >= 8 else 0
        transport = Transport(icmp_type=icmp_type, icmp_code=code, icmp_id=ident)
        if proto == PROTO_ICMPV6 and icmp_type in ND_TYPES:
            return transport, _nd(data, offset, end, icmp_type), None
        return transport, None, None
    return None, None, None


def _nd(data: bytes, offset: int, end: int, icmp_type: int) -> Nd:
    fixed = {133: 8, 134: 16, 135: 24, 136: 24, 137: 40}[icmp_type]
    if end - offset < fixed:
        raise FrameError(f"truncated ND message (type {icmp_type})", offset)
    target = (
        int.from_bytes(data[offset + 8 : offset + 24], "big")
        if icmp_type in (135, 136, 137)
        else None
    )
    source_mac = target_mac = None
    cursor = offset + fixed
    while cursor < end:
        if cursor + 2 > end:
            raise FrameError("truncated ND option", cursor)
        kind, units = data[cursor], data[cursor + 1]
        if units == 0:
            raise FrameError("ND option of length zero", cursor)
        size = units * 8
        if cursor + size > end:
            raise FrameError("ND option overruns the packet", cursor)
        if kind in (1, 2) and size >= 8:
            mac = int.from_bytes(data[cursor + 2 : cursor + 8], "big")
            if kind == 1:
                source_mac = mac
            else:
                target_mac = mac
        cursor += size
    return Nd(icmp_type, target, source_mac, target_mac)


def _dhcp(
    data: bytes, offset: int, end: int, *, sport: int, dport: int, ip: IpHeader
) -> Dhcp | None:
    ports = {sport, dport}
    if ip.version == 4 and ports <= {67, 68} and ports & {67}:
        if end - offset < 240:
            raise FrameError("truncated DHCP message: needs 240 bytes", offset)
        if data[offset + 236 : offset + 240] != b"\x63\x82\x53\x63":
            raise FrameError("DHCP message without the magic cookie", offset + 236)
        return Dhcp(4, _dhcp_message_type(data, offset + 240, end), op=data[offset])
    if ip.version == 6 and ports <= {546, 547} and ports & {547}:
        if end - offset < 4:
            raise FrameError("truncated DHCPv6 message", offset)
        return Dhcp(6, data[offset])
    return None


def _dhcp_message_type(data: bytes, offset: int, end: int) -> int:
    while offset < end:
        code = data[offset]
        if code == 255:
            break
        if code == 0:
            offset += 1
            continue
        if offset + 1 >= end:
            raise FrameError("DHCP option without a length", offset)
        length = data[offset + 1]
        if offset + 2 + length > end:
            raise FrameError(f"DHCP option {code} overruns the message", offset)
        if code == 53 and length >= 1:
            return data[offset + 2]
        offset += 2 + length
    return 0
