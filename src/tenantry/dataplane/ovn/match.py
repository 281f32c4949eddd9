"""ACL matches for compiled rules: rendered from a small spec, and parsed back from the database.

A rule's match is a conjunction, always written in this order and spacing:

    <scope> && <protocol> [&& <ports>] [&& <peer>] [&& !(<excluded match>)]...

``scope`` is ``inport == @group`` (egress, the vNIC sends) or ``outport == @group`` (ingress,
the vNIC receives); the peer is the destination for egress and the source for ingress. An
exclusion is the match of a ``pass`` rule earlier in the same tier: the packets it passes
skip this rule (OVN 23.03 has no ``pass``). :func:`parse` accepts exactly what :func:`render`
writes, so anything else found in an owned ACL is a hand edit, reported as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network

from tenantry.compiler import ANY_PROTOCOL

__all__ = ["MatchSpec", "PeerSpec", "parse", "render"]

_PROTOCOL_WORDS = {6: "tcp", 17: "udp", 1: "icmp4", 58: "icmp6", ANY_PROTOCOL: "ip"}
_WORD_PROTOCOLS = {word: number for number, word in _PROTOCOL_WORDS.items()}
IpNetwork = IPv4Network | IPv6Network


@dataclass(frozen=True)
class PeerSpec:
    """Any address, a list of prefixes, or an address set (by its name without ``_ipN``)."""

    cidrs: tuple[IpNetwork, ...] = ()
    address_set: str | None = None

    @property
    def is_any(self) -> bool:
        return not self.cidrs and self.address_set is None


@dataclass(frozen=True)
class MatchSpec:
    """What one rule matches on one port group."""

    egress: bool
    group: str
    protocol: int
    ports: tuple[tuple[int, int], ...] = ()
    peer: PeerSpec = PeerSpec()
    exclusions: tuple[MatchSpec, ...] = ()


def render(spec: MatchSpec) -> str:
    """The OVN match expression of a spec."""
    scope = "inport" if spec.egress else "outport"
    terms = [f"{scope} == @{spec.group}", _protocol_word(spec.protocol)]
    if spec.ports:
        terms.append(_render_ports(_PROTOCOL_WORDS[spec.protocol], spec.ports))
    if not spec.peer.is_any:
        terms.append(_render_peer(spec.peer, "dst" if spec.egress else "src"))
    terms.extend(f"!({render(excluded)})" for excluded in spec.exclusions)
    return " && ".join(terms)


def _protocol_word(protocol: int) -> str:
    return _PROTOCOL_WORDS.get(protocol, f"ip.proto == {protocol}")


def _render_ports(word: str, ports: tuple[tuple[int, int], ...]) -> str:
    singles = [str(low) for low, high in ports if low == high]
    ranges = [(low, high) for low, high in ports if low != high]
    parts = []
    if singles:
        parts.append(f"{word}.dst == {{{', '.join(singles)}}}")
    parts.extend(f"({word}.dst >= {low} && {word}.dst <= {high})" for low, high in ranges)
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def _render_peer(peer: PeerSpec, field: str) -> str:
    if peer.address_set is not None:
        return f"(ip4.{field} == ${peer.address_set}_ip4 || ip6.{field} == ${peer.address_set}_ip6)"
    v4 = [str(net) for net in peer.cidrs if net.version == 4]
    v6 = [str(net) for net in peer.cidrs if net.version == 6]
    parts = []
    if v4:
        parts.append(f"ip4.{field} == {{{', '.join(v4)}}}")
    if v6:
        parts.append(f"ip6.{field} == {{{', '.join(v6)}}}")
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


# ---------------------------------------------------------------------- parsing

_SCOPE = re.compile(r"^(inport|outport) == @([A-Za-z_][A-Za-z0-9_]*)$")
_PROTO_NUMBER = re.compile(r"^ip\.proto == (\d+)$")
_PORT_SET = re.compile(r"^(tcp|udp)\.dst == \{([0-9, ]+)\}$")
_PORT_RANGE = re.compile(r"^\((tcp|udp)\.dst >= (\d+) && (?:tcp|udp)\.dst <= (\d+)\)$")
_SET_PEER = re.compile(
    r"^\(ip4\.(src|dst) == \$([A-Za-z0-9_]+)_ip4 \|\| ip6\.(?:src|dst) == \$\2_ip6\)$"
)
_CIDR_PEER = re.compile(r"^ip([46])\.(src|dst) == \{([0-9a-fA-F.:/, ]+)\}$")


def parse(text: str) -> MatchSpec:
    """The spec of a match that :func:`render` wrote; ValueError for anything else."""
    terms = _split(text, " && ")
    scope = _SCOPE.match(terms[0]) if terms else None
    if scope is None or len(terms) < 2:
        raise ValueError(f"not a tenantry rule match: {text[:200]!r}")
    egress = scope.group(1) == "inport"
    protocol = _parse_protocol(terms[1])
    ports: tuple[tuple[int, int], ...] = ()
    peer = PeerSpec()
    exclusions: list[MatchSpec] = []
    for term in terms[2:]:
        if term.startswith("!(") and term.endswith(")"):
            exclusions.append(parse(term[2:-1]))
        elif (found := _parse_ports(term)) is not None:
            ports = found
        else:
            peer = _parse_peer(term, "dst" if egress else "src")
    return MatchSpec(egress, scope.group(2), protocol, ports, peer, tuple(exclusions))


def _parse_protocol(term: str) -> int:
    if term in _WORD_PROTOCOLS:
        return _WORD_PROTOCOLS[term]
    number = _PROTO_NUMBER.match(term)
    if number is None:
        raise ValueError(f"not a protocol term: {term!r}")
    return int(number.group(1))


def _parse_ports(term: str) -> tuple[tuple[int, int], ...] | None:
    parts = _alternatives(term)
    found: list[tuple[int, int]] = []
    for part in parts:
        if (single := _PORT_SET.match(part)) is not None:
            found.extend((int(p), int(p)) for p in single.group(2).split(", "))
        elif (ranged := _PORT_RANGE.match(part)) is not None:
            found.append((int(ranged.group(2)), int(ranged.group(3))))
        else:
            return None
    return tuple(sorted(found))


def _parse_peer(term: str, field: str) -> PeerSpec:
    if (named := _SET_PEER.match(term)) is not None and named.group(1) == field:
        return PeerSpec(address_set=named.group(2))
    parts = _alternatives(term)
    cidrs: list[IpNetwork] = []
    for part in parts:
        found = _CIDR_PEER.match(part)
        if found is None or found.group(2) != field:
            raise ValueError(f"not a peer term: {term[:200]!r}")
        cidrs.extend(ip_network(item.strip()) for item in found.group(3).split(","))
    return PeerSpec(cidrs=tuple(cidrs))


def _alternatives(term: str) -> list[str]:
    """``(a || b)`` as ``[a, b]``; any other term as itself."""
    if term.startswith("(") and term.endswith(")"):
        inner = _split(term[1:-1], " || ")
        if len(inner) > 1:
            return inner
    return [term]


def _split(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside parentheses and braces."""
    parts: list[str] = []
    depth = 0
    start = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif depth == 0 and text.startswith(separator, index):
            parts.append(text[start:index])
            index += len(separator)
            start = index
            continue
        index += 1
    parts.append(text[start:])
    return parts
