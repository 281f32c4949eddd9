"""Compiling one policy: rules with merged port sets and peers resolved to address-set keys."""

from __future__ import annotations

from collections.abc import Callable

from tenantry.compiler._rule_columns import RuleColumns
from tenantry.compiler.program import (
    ANY_PROTOCOL,
    AddressSetKey,
    CompiledPeer,
    CompiledPolicy,
    CompiledRule,
    PeerKind,
    RuleOrigin,
)
from tenantry.model import PROTOCOL_NUMBERS, PROVIDER, IpNetwork, Peer, Policy, Ref, Selector

__all__ = ["compile_policy", "merge_ranges", "peer_key", "selector_key"]

ANY_PEER = CompiledPeer(PeerKind.ANY)


def merge_ranges(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Sorted, non-overlapping, non-adjacent ranges covering the same ports."""
    found = _MERGED.get(ranges)
    if found is not None:
        return found
    if len(_MERGED) > 65_536:
        _MERGED.clear()
    found = _MERGED[ranges] = _merge(ranges)
    return found


_MERGED: dict[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]] = {}
"""Port sets repeat across policies; merging is pure, so results are remembered."""


def _merge(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def selector_key(
    owner: str, selector: Selector, intern: dict[object, object] | None = None
) -> AddressSetKey:
    """The scope a selector picks from: the owner's vNICs, or (provider) the named tenants'."""
    if intern is not None:
        # selectors repeat (every policy naming the same tags): look the raw form up first
        raw = (owner, selector.tags, selector.tenants)
        found = intern.get(raw)
        if found is not None:
            return found  # type: ignore[return-value]
        key = selector_key(owner, selector)
        tags = intern.setdefault(key.tags, key.tags)
        key = AddressSetKey(owner=key.owner, tags=tags, tenants=key.tenants)  # type: ignore[arg-type]
        key = intern.setdefault(key, key)  # type: ignore[assignment]
        intern[raw] = key
        return key
    tenants = None
    if owner == PROVIDER and selector.tenants is not None:
        tenants = tuple(sorted(set(selector.tenants)))
    return AddressSetKey(owner=owner, tags=tuple(sorted(set(selector.tags))), tenants=tenants)


def peer_key(
    owner: str, peer: Peer, intern: dict[object, object] | None = None
) -> AddressSetKey | None:
    """The address set a peer needs, if any."""
    if peer.selector is not None:
        return selector_key(owner, peer.selector, intern)
    if peer.service is not None:
        return AddressSetKey(owner=PROVIDER, service=peer.service)
    return None


def compile_policy(
    policy_id: int,
    ref: Ref,
    policy: Policy,
    address_set: Callable[[AddressSetKey], int],
    intern: dict[object, object],
    *,
    columns: RuleColumns | None = None,
) -> CompiledPolicy:
    """One policy, with each peer's address set id from ``address_set``.

    ``intern`` shares equal port tuples and peers between rules (memory at scale). With
    ``columns`` (a full compile), the rules go there instead of into rule objects.
    """
    if columns is not None:
        _add_rules(columns, ref.owner, policy, address_set, intern)
        columns.end_policy(policy_id)
        rules: tuple[CompiledRule, ...] | RuleColumns = columns
    else:
        rules = tuple(_rule_objects(ref, policy, address_set, intern))
    scope = selector_key(ref.owner, policy.applies_to, intern)
    return CompiledPolicy(policy_id, ref, policy.tier, policy.order, scope, rules)


def _rule_objects(
    ref: Ref,
    policy: Policy,
    address_set: Callable[[AddressSetKey], int],
    intern: dict[object, object],
) -> list[CompiledRule]:
    rules = []
    for index, rule in enumerate(policy.rules):
        peer = rule.peer
        key = peer_key(ref.owner, peer, intern)
        if key is not None:
            kind = PeerKind.SERVICE if peer.service is not None else PeerKind.SELECTOR
            compiled_peer = CompiledPeer(kind, address_set=address_set(key), service=peer.service)
        elif peer.cidr is not None:
            compiled_peer = CompiledPeer(PeerKind.CIDR, cidrs=(peer.cidr,))
        else:
            compiled_peer = ANY_PEER
        ports = merge_ranges(rule.ports)
        rules.append(
            CompiledRule(
                origin=RuleOrigin(ref, index),
                tier=policy.tier,
                action=rule.action,
                direction=rule.direction,
                protocol=PROTOCOL_NUMBERS.get(rule.protocol, ANY_PROTOCOL),
                ports=intern.setdefault(ports, ports),  # type: ignore[arg-type]
                peer=intern.setdefault(compiled_peer, compiled_peer),  # type: ignore[arg-type]
                log=rule.log,
            )
        )
    return rules


def _add_rules(
    columns: RuleColumns,
    owner: str,
    policy: Policy,
    address_set: Callable[[AddressSetKey], int],
    intern: dict[object, object],
) -> None:
    """The rules of a full compile: no rule or peer objects (``RuleColumns`` interns peers)."""
    add = columns.add
    raw: tuple[PeerKind, int, str | None, IpNetwork | None]
    for rule in policy.rules:
        peer = rule.peer
        if peer.selector is not None:
            aset = address_set(selector_key(owner, peer.selector, intern))
            raw = (PeerKind.SELECTOR, aset, None, None)
        elif peer.service is not None:
            aset = address_set(_service_key(peer.service, intern))
            raw = (PeerKind.SERVICE, aset, peer.service, None)
        elif peer.cidr is not None:
            raw = (PeerKind.CIDR, -1, None, peer.cidr)
        else:
            raw = _ANY_RAW
        add(
            rule.action,
            rule.direction,
            PROTOCOL_NUMBERS.get(rule.protocol, ANY_PROTOCOL),
            merge_ranges(rule.ports),
            raw,
            rule.log,
        )


_ANY_RAW: tuple[PeerKind, int, str | None, IpNetwork | None] = (PeerKind.ANY, -1, None, None)


def _service_key(service: str, intern: dict[object, object]) -> AddressSetKey:
    raw = ("service", service)
    found = intern.get(raw)
    if found is None:
        found = intern[raw] = AddressSetKey(owner=PROVIDER, service=service)
    return found  # type: ignore[return-value]


def applies(owner: str, scope: AddressSetKey) -> bool:
    """Whether ports of ``owner`` are in a selector scope (tags aside)."""
    if scope.owner != PROVIDER:
        return owner == scope.owner
    return scope.tenants is None or owner in scope.tenants
