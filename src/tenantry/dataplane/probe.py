"""Probe frames from fields, as ``tenantry trace --from VNIC --to ...`` describes them."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address

from tenantry.compiler import Programs
from tenantry.dataplane import packets as pkt
from tenantry.errors import InputError, NotFoundError

__all__ = ["PROTOCOLS", "Probe", "build_probe"]

PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6", "arp")


@dataclass(frozen=True)
class Probe:
    """A frame to classify, the port that sends it, and what it is in words."""

    ingress: int
    frame: bytes
    description: str


def _row(programs: Programs, name: str) -> int:
    row = programs.port_row(name)
    if row is None:
        raise NotFoundError(f"port {name} not found", hint="Name a port as tenant/guest/vnic.")
    return row


def _first(programs: Programs, row: int, version: int) -> str | None:
    found = [str(a) for a in programs.ports.addresses(row) if a.version == version]
    if version == 6 and not found:
        return str(programs.ports.link_local(row))
    return found[0] if found else None


def _next_hop(programs: Programs, ingress: int, segment: int, dst_ip: str, fallback: str) -> str:
    """The target's MAC on the same segment, else the router leg's MAC on the sender's."""
    address = ip_address(dst_ip)
    target_seg = programs.segments[segment]
    if target_seg is not None and any(address in net for net in target_seg.subnets):
        return fallback
    for leg in programs.routers:
        if leg.segment == segment:
            return leg.mac
    del ingress
    return fallback


def build_probe(
    programs: Programs,
    *,
    source: str,
    to: str | None = None,
    proto: str = "tcp",
    dport: int | None = None,
    sport: int = 40000,
    dst_ip: str | None = None,
    src_ip: str | None = None,
    dst_mac: str | None = None,
    src_mac: str | None = None,
    vlan: int | None = None,
    ipv6: bool = False,
) -> Probe:
    """A frame from port ``source`` to port ``to`` (or to ``dst_ip``/``dst_mac``)."""
    if proto not in PROTOCOLS:
        raise InputError(f"--proto {proto!r}: use one of {', '.join(PROTOCOLS)}")
    ingress = _row(programs, source)
    version = 6 if ipv6 or proto == "icmpv6" or (dst_ip is not None and ":" in dst_ip) else 4
    target = _row(programs, to) if to is not None else None
    if dst_ip is None and target is not None:
        dst_ip = _first(programs, target, version)
    if dst_ip is None:
        raise InputError("give --to PORT or --dst-ip ADDRESS")
    unspecified = "::" if version == 6 else "0.0.0.0"  # noqa: S104 - an address, not a bind
    src_ip = src_ip or _first(programs, ingress, version) or unspecified
    trunk = programs.ports.trunk_of(ingress)
    segment = int(programs.ports.segment[ingress])
    if trunk:
        vlan, segment = _trunk_choice(programs, trunk, vlan, src_ip)
    own_mac = src_mac or programs.port_mac(ingress)
    if dst_mac is None:
        fallback = programs.port_mac(target) if target is not None else pkt.BROADCAST
        dst_mac = _next_hop(programs, ingress, segment, dst_ip, fallback)
    tags = (vlan,) if vlan is not None else ()
    frame = _frame(
        proto,
        version=version,
        src_mac=own_mac,
        dst_mac=dst_mac,
        src_ip=src_ip,
        dst_ip=dst_ip,
        sport=sport,
        dport=dport,
        tags=tags,
    )
    shown = f"{source} > {to or dst_ip} {proto}"
    if proto in ("tcp", "udp"):
        shown += f" {sport} > {dport if dport is not None else 80}"
    return Probe(ingress, frame, shown)


def _trunk_choice(
    programs: Programs, trunk: tuple[tuple[int, int], ...], vlan: int | None, src_ip: str
) -> tuple[int, int]:
    if vlan is not None:
        return vlan, dict(trunk).get(vlan, -1)
    address = ip_address(src_ip)
    for tag, seg in trunk:
        found = programs.segments[seg]
        if found is not None and any(address in net for net in found.subnets):
            return tag, seg
    return trunk[0]


def _frame(
    proto: str,
    *,
    version: int,
    src_mac: str,
    dst_mac: str,
    src_ip: str,
    dst_ip: str,
    sport: int,
    dport: int | None,
    tags: tuple[int, ...],
) -> bytes:
    if proto == "arp":
        body = pkt.arp(1, src_mac, src_ip, "00:00:00:00:00:00", dst_ip)
        return pkt.ethernet(dst_mac if dst_mac else pkt.BROADCAST, src_mac, 0x0806, body, tags=tags)
    port = dport if dport is not None else 80
    if proto == "tcp":
        l4, number = pkt.tcp(src_ip, dst_ip, sport, port), 6
    elif proto == "udp":
        l4, number = pkt.udp(src_ip, dst_ip, sport, port), 17
    elif version == 4:
        l4, number = pkt.icmp_echo(), 1
    else:
        l4, number = pkt.icmpv6(src_ip, dst_ip, 128, 0, b"\0\x01\0\x01"), 58
    if version == 4:
        return pkt.ethernet(
            dst_mac, src_mac, 0x0800, pkt.ipv4(src_ip, dst_ip, number, l4), tags=tags
        )
    return pkt.ethernet(dst_mac, src_mac, 0x86DD, pkt.ipv6(src_ip, dst_ip, number, l4), tags=tags)
