"""Judging one packet against one port's chain: tiers in order, first match decides, ``pass``
skips the rest of its tier, the segment's default action decides what no rule did."""

from __future__ import annotations

from dataclasses import dataclass

from tenantry.compiler import ANY_PROTOCOL, PeerKind, RuleOrigin
from tenantry.dataplane.reference.tables import RuleMatcher, Tables
from tenantry.model import Action, Direction

__all__ = ["Judgement", "PacketKey", "judge"]


@dataclass(frozen=True, slots=True)
class PacketKey:
    """What policy looks at: IP version, addresses, protocol and destination port."""

    version: int
    src: int
    dst: int
    proto: int
    dport: int | None
    """Destination port for TCP/UDP; None otherwise."""


@dataclass(frozen=True, slots=True)
class Judgement:
    """The outcome of one side's policy: allowed or not, and the rule that decided (if any)."""

    allowed: bool
    rule: RuleOrigin | None
    log: bool = False
    passed: tuple[RuleOrigin, ...] = ()
    """``pass`` rules that skipped the rest of their tier on the way."""


def _peer_matches(tables: Tables, matcher: RuleMatcher, version: int, peer: int) -> bool:
    kind = matcher.peer_kind
    if kind is PeerKind.ANY:
        return True
    if kind is PeerKind.CIDR:
        bits = 32 if version == 4 else 128
        return any(
            v == version and (peer >> (bits - plen)) == (net >> (bits - plen))
            for v, net, plen in matcher.cidrs
        )
    return tables.membership(matcher.address_set).contains(version, peer)


def _matches(tables: Tables, matcher: RuleMatcher, key: PacketKey, peer: int) -> bool:
    if matcher.protocol not in (ANY_PROTOCOL, key.proto):
        return False
    if matcher.ports:
        dport = key.dport
        if dport is None or not any(low <= dport <= high for low, high in matcher.ports):
            return False
    return _peer_matches(tables, matcher, key.version, peer)


def judge(
    tables: Tables, chain: int, direction: Direction, key: PacketKey, default_allow: bool
) -> Judgement:
    """The decision of the chain for a packet seen in ``direction`` from its port."""
    peer = key.dst if direction is Direction.EGRESS else key.src
    skipping = -1
    passed: list[RuleOrigin] = []
    for matcher in tables.chain_rules(chain, direction):
        if matcher.tier == skipping or not _matches(tables, matcher, key, peer):
            continue
        rule = matcher.rule
        if rule.action is Action.PASS:
            skipping = matcher.tier
            passed.append(rule.origin)
            continue
        return Judgement(rule.action is Action.ALLOW, rule.origin, rule.log, tuple(passed))
    return Judgement(default_allow, None, False, tuple(passed))
