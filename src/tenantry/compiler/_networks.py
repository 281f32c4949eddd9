"""Incremental compile of network changes that only touch segments and router legs.

A network update that keeps its wire key (kind, physical network, tag), an overlay network
created, or a network deleted that no port uses: the segment is rebuilt (or appended, or
tombstoned) with its id, and router legs on updated networks are rebuilt in place. Ports, policies,
address sets and chains are shared with the previous programs. Anything that could move
ports or address sets takes the full compile: a new VLAN network (VGT trunks may now carry
it), a changed wire key, the provider's management network, a network carrying a shared
service (its subnets are the service's address set), a deleted network with ports, or a
network created or deleted that a router joins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from tenantry.compiler._index import CompileIndex
from tenantry.compiler.compile import _segment
from tenantry.compiler.program import Programs, RouterInterface, SegmentKind
from tenantry.model import PROVIDER, Change, Estate, Network, Ref

__all__ = ["recompile_networks"]


def recompile_networks(
    previous: Programs, index: CompileIndex, before: Estate, changes: Sequence[Change]
) -> Programs | None:
    """The programs after network-only ``changes``, or None when they need a full compile."""
    services = {service.network for service in before.shared_services.values()}
    management = before.provider.management_network
    ids = _segment_ids(index, previous)
    segments = list(previous.segments)
    networks: dict[Ref, Network | None] = {}
    new_ids: dict[Ref, int | None] = {}
    for change in changes:
        ref = change.ref
        if ref.owner == PROVIDER and (ref.name == management or ref.name in services):
            return None
        old_id = ids.get(ref)
        old = segments[old_id] if old_id is not None else None
        network = change.after
        if network is None:
            if old is None or _in_use(previous, old.id):
                return None
            segments[old.id] = None
            new_ids[ref] = None
        else:
            assert isinstance(network, Network)  # noqa: S101 - guaranteed by Kind.NETWORK
            new = _segment(len(segments) if old is None else old.id, ref, network, before)
            if old is None:
                if new.kind is not SegmentKind.OVERLAY:
                    return None  # a new VLAN may join VGT trunks: ports change
                segments.append(new)
                new_ids[ref] = new.id
            elif new.key != old.key:
                return None
            else:
                segments[old.id] = new
        networks[ref] = network
    routers = _routers(previous, before, networks, ids)
    if routers is None:
        return None
    for ref, found in new_ids.items():  # the lineage's ids, once every change was accepted
        if found is None:
            ids.pop(ref, None)
        else:
            ids[ref] = found
    return replace(previous, segments=tuple(segments), routers=routers)


def _segment_ids(index: CompileIndex, previous: Programs) -> dict[Ref, int]:
    """Network -> segment id of the lineage (built on the first network change)."""
    if index.segment_ids is None:
        index.segment_ids = {s.network: s.id for s in previous.segments if s is not None}
    return index.segment_ids


def _in_use(programs: Programs, segment: int) -> bool:
    """Whether a live port sits on the segment or reaches it through a trunk."""
    ports = programs.ports
    if np.any(ports.live & (ports.segment == segment)):
        return True
    trunk_rows = np.repeat(np.arange(len(ports)), np.diff(ports.trunk_offsets))
    return bool(np.any(ports.live[trunk_rows[ports.trunk_segments == segment]]))


def _routers(
    previous: Programs, before: Estate, networks: dict[Ref, Network | None], ids: dict[Ref, int]
) -> tuple[RouterInterface, ...] | None:
    """Router legs with those on updated networks rebuilt in place; the previous tuple when no
    router joins a changed network; None (full compile) when one joins a created or deleted
    network (its legs would appear or go)."""
    owners = {ref.owner for ref in networks}
    routed: set[Ref] = set()
    for ref, router in before.routers.items():
        if ref.owner in owners:  # most routers belong to other owners: one cheap test each
            routed.update(Ref(ref.owner, name) for name in router.networks)
    touched = routed.intersection(networks)
    if not touched:
        return previous.routers
    rebuilt: dict[int, Network] = {}
    for ref in touched:
        network = networks[ref]
        if network is None or ref not in ids:  # deleted, or created (``ids`` is before)
            return None
        rebuilt[ids[ref]] = network
    legs = list(previous.routers)
    for i, leg in enumerate(legs):
        network = rebuilt.get(leg.segment)
        if network is not None:
            legs[i] = replace(
                leg,
                gateways=tuple(s.gateway for s in network.subnets if s.gateway),
                subnets=tuple(s.cidr for s in network.subnets),
            )
    return tuple(legs)
