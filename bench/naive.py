"""Naive peers the benchmarks compare against (never used by tenantry itself).

``expand_per_vnic`` is what a compiler without shared policies, port groups and address sets
does: for every vNIC, every rule of every policy that applies to it, crossed with every
address its peer stands for. ``LinearClassifier`` judges a packet by scanning every rule
installed on the estate in order, as a data plane without a classifier does.
"""

from __future__ import annotations

from collections import defaultdict

from tenantry.model import PROVIDER, TIER_ORDER, Estate, Policy, Ref

__all__ = ["expand_per_vnic"]


def _selected(
    estate: Estate, owner: str, tags: tuple[str, ...], tenants: tuple[str, ...] | None
) -> list[object]:
    found = []
    wanted = set(tags)
    for guest_ref, guest in estate.guests.items():
        if owner not in (PROVIDER, guest_ref.owner):
            continue
        if owner == PROVIDER and tenants is not None and guest_ref.owner not in tenants:
            continue
        for vnic in guest.vnics:
            if wanted <= set(guest.tags) | set(vnic.tags):
                found.extend(vnic.addresses)
    return found


def expand_per_vnic(estate: Estate) -> int:
    """Entries of a per-vNIC expansion: (vNIC, rule, peer address, port range) tuples."""
    by_owner: dict[str, list[tuple[Ref, Policy]]] = defaultdict(list)
    for ref, policy in estate.policies.items():
        by_owner[ref.owner].append((ref, policy))
    guests_by_owner: dict[str, list[object]] = defaultdict(list)
    for guest_ref, guest in estate.guests.items():
        guests_by_owner[guest_ref.owner].append(guest)
    entries: list[tuple[object, ...]] = []
    for guest_ref, guest in estate.guests.items():
        owner = guest_ref.owner
        for vnic in guest.vnics:
            tags = set(guest.tags) | set(vnic.tags)
            candidates = by_owner[owner] + (by_owner[PROVIDER] if owner != PROVIDER else [])
            applying = []
            for ref, policy in candidates:
                scope = policy.applies_to
                if (
                    ref.owner == PROVIDER
                    and scope.tenants is not None
                    and owner not in scope.tenants
                ):
                    continue
                if set(scope.tags) <= tags:
                    applying.append((TIER_ORDER.index(policy.tier), policy.order, ref, policy))
            applying.sort(key=lambda item: (item[0], item[1], item[2].name))
            for _, _, ref, policy in applying:
                for index, rule in enumerate(policy.rules):
                    peer = rule.peer
                    if peer.selector is not None:
                        addresses = _selected_in(
                            guests_by_owner,
                            estate,
                            ref.owner,
                            peer.selector.tags,
                            peer.selector.tenants,
                        )
                    elif peer.service is not None:
                        network = estate.service_network(peer.service)
                        net = estate.networks.get(network) if network else None
                        addresses = [s.cidr for s in net.subnets] if net else []
                    elif peer.cidr is not None:
                        addresses = [peer.cidr]
                    else:
                        addresses = [None]
                    ranges = rule.ports or ((0, 65535),)
                    entries.extend(
                        (vnic.mac, ref, index, address, low, high)
                        for address in addresses
                        for low, high in ranges
                    )
    return len(entries)


def _selected_in(
    guests_by_owner: dict[str, list[object]],
    estate: Estate,
    owner: str,
    tags: tuple[str, ...],
    tenants: tuple[str, ...] | None,
) -> list[object]:
    if owner == PROVIDER:
        return _selected(estate, owner, tags, tenants)
    wanted = set(tags)
    found: list[object] = []
    for guest in guests_by_owner[owner]:
        for vnic in guest.vnics:  # type: ignore[attr-defined]
            if wanted <= set(guest.tags) | set(vnic.tags):  # type: ignore[attr-defined]
                found.extend(vnic.addresses)
    return found
