"""ACL matches for compiled rules: rendered from a small spec, and parsed back from the database.

A rule's match is a conjunction, always written in this order and spacing:

    <scope> && <protocol> [&& <ports>] [&& <peer>] [&& (<not the pass rule>)]...

``scope`` is ``inport == @group`` (egress, the vNIC sends) or ``outport == @group`` (ingress,
the vNIC receives); the peer is the destination for egress and the source for ingress. The
protocol is ``ip``, ``tcp``, ``udp`` or ``ip.proto == N`` (so ``1`` means protocol 1 in either
IP version, as the semantics say).

An exclusion stands for "unless an earlier ``pass`` rule of this tier matched" (OVN 23.03 has
no ``pass``). OVN refuses ``!`` over predicates such as ``ip4`` and over ``inport``, and adds a
field's prerequisites positively even under ``!``, so an exclusion is written as the explicit
disjunction of what makes the pass rule *not* match: another protocol, a port outside its
ports, a peer outside its peer (per IP family). Its port scope is handled by the caller, who
gives each set of ports its own port group (see ``policies``).

:func:`parse` accepts exactly what :func:`render` writes; anything else in an owned ACL is a
hand edit, reported as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network

from tenantry.compiler import ANY_PROTOCOL

__all__ = ["MatchSpec", "PeerSpec", "Unless", "matches_everything", "meets", "parse", "render"]

_PROTOCOL_WORDS = {6: "tcp", 17: "udp", ANY_PROTOCOL: "ip"}
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
class Unless:
    """What a ``pass`` rule matches besides its ports (protocol, destination ports, peer)."""

    protocol: int
    ports: tuple[tuple[int, int], ...] = ()
    peer: PeerSpec = PeerSpec()


@dataclass(frozen=True)
class MatchSpec:
    """What one rule matches on one port group, unless one of ``exclusions`` matches."""

    egress: bool
    group: str
    protocol: int
    ports: tuple[tuple[int, int], ...] = ()
    peer: PeerSpec = PeerSpec()
    exclusions: tuple[Unless, ...] = ()


def matches_everything(unless: Unless, protocol: int = ANY_PROTOCOL) -> bool:
    """Whether the pass rule matches every packet a rule of ``protocol`` matches (apart from
    ports and peer, which the rule may narrow further): then the rule is skipped altogether."""
    same = unless.protocol in (ANY_PROTOCOL, protocol)
    return same and not unless.ports and unless.peer.is_any


def meets(unless: Unless, protocol: int) -> bool:
    """Whether a pass rule can match packets of a rule with ``protocol`` at all."""
    return ANY_PROTOCOL in (unless.protocol, protocol) or unless.protocol == protocol


def render(spec: MatchSpec) -> str:
    """The OVN match expression of a spec."""
    scope = "inport" if spec.egress else "outport"
    field = "dst" if spec.egress else "src"
    terms = [f"{scope} == @{spec.group}", _protocol_word(spec.protocol)]
    if spec.ports:
        terms.append(_render_ports(_word(spec.protocol), spec.ports))
    if not spec.peer.is_any:
        terms.append(_render_peer(spec.peer, field))
    terms.extend(_render_unless(unless, field, spec.protocol) for unless in spec.exclusions)
    return " && ".join(terms)


def _word(protocol: int) -> str:
    return _PROTOCOL_WORDS.get(protocol, "tcp")


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
    v4, v6 = _families(peer)
    parts = []
    if v4:
        parts.append(f"ip4.{field} == {{{', '.join(v4)}}}")
    if v6:
        parts.append(f"ip6.{field} == {{{', '.join(v6)}}}")
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def _families(peer: PeerSpec) -> tuple[list[str], list[str]]:
    v4 = [str(net) for net in peer.cidrs if net.version == 4]
    v6 = [str(net) for net in peer.cidrs if net.version == 6]
    return v4, v6


def _render_unless(unless: Unless, field: str, protocol: int) -> str:
    """``(not the protocol || not the ports || not the peer)``.

    ``ip.proto`` may only be tested for equality, so "another protocol" is the set of all
    others; it is written only when the rule itself matches any protocol (a rule of another
    single protocol never meets the pass rule, and the caller leaves that exclusion out).
    """
    alternatives = []
    if unless.protocol != ANY_PROTOCOL and protocol == ANY_PROTOCOL:
        others = ", ".join(str(n) for n in range(256) if n != unless.protocol)
        alternatives.append(f"ip.proto == {{{others}}}")
    if unless.ports:
        word = _word(unless.protocol)
        singles = [str(low) for low, high in unless.ports if low == high]
        outside = [f"{word}.dst != {{{', '.join(singles)}}}"] if singles else []
        outside += [
            f"({word}.dst < {low} || {word}.dst > {high})"
            for low, high in unless.ports
            if low != high
        ]
        alternatives.append(outside[0] if len(outside) == 1 else "(" + " && ".join(outside) + ")")
    if not unless.peer.is_any:
        alternatives.append(_render_not_peer(unless.peer, field))
    if not alternatives:
        raise ValueError("an exclusion that covers the whole rule: skip the rule instead")
    return "(" + " || ".join(alternatives) + ")"


def _render_not_peer(peer: PeerSpec, field: str) -> str:
    if peer.address_set is not None:
        name = peer.address_set
        return f"(ip4.{field} != ${name}_ip4 || ip6.{field} != ${name}_ip6)"
    v4, v6 = _families(peer)
    # A family the peer does not name is outside it altogether.
    four = f"ip4.{field} != {{{', '.join(v4)}}}" if v4 else "ip4"
    six = f"ip6.{field} != {{{', '.join(v6)}}}" if v6 else "ip6"
    return f"({four} || {six})"


# ---------------------------------------------------------------------- parsing

_SCOPE = re.compile(r"^(inport|outport) == @([A-Za-z_][A-Za-z0-9_]*)$")
_PROTO_NUMBER = re.compile(r"^ip\.proto == (\d+)$")
_PORT_SET = re.compile(r"^(tcp|udp)\.dst == \{([0-9, ]+)\}$")
_PORT_RANGE = re.compile(r"^\((tcp|udp)\.dst >= (\d+) && (?:tcp|udp)\.dst <= (\d+)\)$")
_SET_PEER = re.compile(r"^\(ip4\.(src|dst) == \$([A-Za-z0-9_]+)_ip4 \|\| ip6\.\1 == \$\2_ip6\)$")
_CIDR_PEER = re.compile(r"^ip([46])\.(src|dst) == \{([0-9a-fA-F.:/, ]+)\}$")
_NOT_PROTO = re.compile(r"^ip\.proto == \{([0-9, ]+)\}$")
_NOT_PORT_SET = re.compile(r"^(tcp|udp)\.dst != \{([0-9, ]+)\}$")
_NOT_PORT_RANGE = re.compile(r"^\((tcp|udp)\.dst < (\d+) \|\| (?:tcp|udp)\.dst > (\d+)\)$")
_NOT_SET_PEER = re.compile(
    r"^\(ip4\.(src|dst) != \$([A-Za-z0-9_]+)_ip4 \|\| ip6\.\1 != \$\2_ip6\)$"
)
_NOT_CIDR = re.compile(r"^ip([46])\.(src|dst) != \{([0-9a-fA-F.:/, ]+)\}$")


def parse(text: str) -> MatchSpec:
    """The spec of a match that :func:`render` wrote; ValueError for anything else."""
    terms = _split(text, " && ")
    scope = _SCOPE.match(terms[0]) if terms else None
    if scope is None or len(terms) < 2:
        raise ValueError(f"not a tenantry rule match: {text[:200]!r}")
    egress = scope.group(1) == "inport"
    field = "dst" if egress else "src"
    protocol = _parse_protocol(terms[1])
    ports: tuple[tuple[int, int], ...] = ()
    peer = PeerSpec()
    exclusions: list[Unless] = []
    for term in terms[2:]:
        if "!=" in term or " < " in term or term.startswith("(ip.proto == {"):
            exclusions.append(_parse_unless(term, field, protocol))
        elif (found := _parse_ports(term)) is not None:
            ports = found
        else:
            peer = _parse_peer(term, field)
    return MatchSpec(egress, scope.group(2), protocol, ports, peer, tuple(exclusions))


def _parse_protocol(term: str) -> int:
    if term in _WORD_PROTOCOLS:
        return _WORD_PROTOCOLS[term]
    number = _PROTO_NUMBER.match(term)
    if number is None:
        raise ValueError(f"not a protocol term: {term!r}")
    return int(number.group(1))


def _parse_ports(term: str) -> tuple[tuple[int, int], ...] | None:
    found: list[tuple[int, int]] = []
    for part in _alternatives(term):
        if (single := _PORT_SET.match(part)) is not None:
            found.extend((int(p), int(p)) for p in single.group(2).split(", "))
        elif (ranged := _PORT_RANGE.match(part)) is not None:
            found.append((int(ranged.group(2)), int(ranged.group(3))))
        else:
            return None
    return tuple(sorted(found))


def _parse_peer(term: str, field: str) -> PeerSpec:
    named = _SET_PEER.match(term)
    if named is not None and named.group(1) == field:
        return PeerSpec(address_set=named.group(2))
    cidrs: list[IpNetwork] = []
    for part in _alternatives(term):
        found = _CIDR_PEER.match(part)
        if found is None or found.group(2) != field:
            raise ValueError(f"not a peer term: {term[:200]!r}")
        cidrs.extend(ip_network(item.strip()) for item in found.group(3).split(","))
    return PeerSpec(cidrs=tuple(cidrs))


def _parse_unless(term: str, field: str, rule_protocol: int) -> Unless:
    """An exclusion; its protocol is the rule's own when the rule names one (then it is not
    written, and any other protocol could not meet the rule)."""
    if not (term.startswith("(") and term.endswith(")")):
        raise ValueError(f"not an exclusion: {term[:200]!r}")
    protocol = rule_protocol
    ports: list[tuple[int, int]] = []
    peer = PeerSpec()
    for part in _split(term[1:-1], " || "):
        if (others := _NOT_PROTO.match(part)) is not None:
            missing = set(range(256)) - {int(n) for n in others.group(1).split(", ")}
            protocol = missing.pop() if len(missing) == 1 else ANY_PROTOCOL
        elif (named := _NOT_SET_PEER.match(part)) is not None and named.group(1) == field:
            peer = PeerSpec(address_set=named.group(2))
        elif part.startswith(("(ip4", "(ip6")):
            peer = _parse_not_cidrs(part, field)
        else:
            ports.extend(_parse_not_ports(part))
            if protocol == ANY_PROTOCOL:
                # Ports imply their protocol (the rule's own, so it was not written).
                protocol = _WORD_PROTOCOLS[part.lstrip("(").split(".", 1)[0]]
    return Unless(protocol, tuple(sorted(ports)), peer)


def _parse_not_ports(term: str) -> list[tuple[int, int]]:
    parts = _split(term[1:-1], " && ") if term.startswith("(") and " && " in term else [term]
    found: list[tuple[int, int]] = []
    for part in parts:
        if (single := _NOT_PORT_SET.match(part)) is not None:
            found.extend((int(p), int(p)) for p in single.group(2).split(", "))
        elif (ranged := _NOT_PORT_RANGE.match(part)) is not None:
            found.append((int(ranged.group(2)), int(ranged.group(3))))
        else:
            raise ValueError(f"not an exclusion term: {term[:200]!r}")
    return found


def _parse_not_cidrs(term: str, field: str) -> PeerSpec:
    cidrs: list[IpNetwork] = []
    for part in _split(term[1:-1], " || "):
        if part in ("ip4", "ip6"):
            continue
        found = _NOT_CIDR.match(part)
        if found is None or found.group(2) != field:
            raise ValueError(f"not an exclusion peer: {term[:200]!r}")
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
