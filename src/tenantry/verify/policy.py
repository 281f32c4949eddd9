"""Judging a packet class against a port's chain, and the classes worth judging.

Rules only tell destination ports apart by ranges and protocols by number, so the points
where some rule's range starts or ends cut the (protocol, port) space into classes that
every chain treats alike; judging one member of each class decides them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from tenantry.compiler import ANY_PROTOCOL, CompiledRule, PeerKind, Programs
from tenantry.model import TIER_ORDER, Action, DefaultAction, Direction

__all__ = ["PacketClass", "allows", "packet_classes"]

OTHER_PROTOCOL = 132
"""A protocol no rule names explicitly stands for every such protocol (SCTP here)."""


@dataclass(frozen=True, slots=True)
class PacketClass:
    """One (protocol, destination port) class; ``dport`` is None for ICMP and others."""

    proto: int
    dport: int | None


def _peer_matches(
    programs: Programs, rule: CompiledRule, address: IPv4Address | IPv6Address
) -> bool:
    peer = rule.peer
    if peer.kind is PeerKind.ANY:
        return True
    if peer.kind is PeerKind.CIDR:
        return any(address.version == c.version and address in c for c in peer.cidrs)
    aset = programs.address_sets[peer.address_set] if peer.address_set >= 0 else None
    if aset is None:
        return False
    if address.version == 4:
        return aset.prefixes.contains_v4(int(address))
    value = int(address)
    return aset.prefixes.contains_v6(value >> 64, value & 0xFFFF_FFFF_FFFF_FFFF)


def _matches(
    programs: Programs, rule: CompiledRule, cls: PacketClass, peer: IPv4Address | IPv6Address
) -> bool:
    if rule.protocol not in (ANY_PROTOCOL, cls.proto):
        return False
    if rule.ports and (
        cls.dport is None or not any(lo <= cls.dport <= hi for lo, hi in rule.ports)
    ):
        return False
    return _peer_matches(programs, rule, peer)


def allows(
    programs: Programs,
    row: int,
    *,
    direction: Direction,
    cls: PacketClass,
    peer: IPv4Address | IPv6Address,
    segment: int,
) -> bool:
    """Whether a port's chain lets the class through in ``direction`` (peer: the other end)."""
    skipping = -1
    for policy in programs.chain_policies(row):
        tier = TIER_ORDER.index(policy.tier)
        if tier == skipping:
            continue
        for rule in policy.rules:
            if rule.direction is not direction or not _matches(programs, rule, cls, peer):
                continue
            if rule.action is Action.PASS:
                skipping = tier
                break
            return rule.action is Action.ALLOW
    found = programs.segments[segment]
    return found is not None and found.default_action is DefaultAction.ALLOW


def packet_classes(programs: Programs, rows: tuple[int, ...], version: int) -> list[PacketClass]:
    """One representative per (protocol, destination port) class the ports' chains tell apart."""
    icmp = 1 if version == 4 else 58
    protos = {6, 17, icmp, OTHER_PROTOCOL}
    cuts: dict[int, set[int]] = {6: {0}, 17: {0}}
    for row in rows:
        for policy in programs.chain_policies(row):
            for rule in policy.rules:
                if rule.protocol != ANY_PROTOCOL:
                    protos.add(rule.protocol)
                for proto in (6, 17) if rule.protocol == ANY_PROTOCOL else (rule.protocol,):
                    for lo, hi in rule.ports:
                        cuts.setdefault(proto, {0}).update({lo, hi + 1})
    out: list[PacketClass] = []
    for proto in sorted(protos):
        if proto in (6, 17):
            out.extend(PacketClass(proto, p) for p in sorted(cuts[proto]) if p <= 65535)
        else:
            out.append(PacketClass(proto, None))
    return out
