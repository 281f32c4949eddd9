"""Incremental compile of network changes that only touch segments and router legs.

A network update that keeps its wire key (kind, physical network, tag), an overlay network
created, or a network deleted that no port uses: the segment is rebuilt (or appended, or
tombstoned) with its id, and router legs on changed networks are rebuilt. Ports, policies,
address sets and chains are shared with the previous programs. Anything that could move
ports or address sets takes the full compile: a new VLAN network (VGT trunks may now carry
it), a changed wire key, the provider's management network, a network carrying a shared
service (its subnets are the service's address set), or a deleted network with ports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from tenantry.compiler._index import CompileIndex
from tenantry.compiler.compile import _segment
from tenantry.compiler.program import Programs, RouterInterface, SegmentKind
from tenantry.model import PROVIDER, Change, Estate, Network, Ref, router_mac

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
    for ref, found in new_ids.items():  # the lineage's ids, once every change was accepted
        if found is None:
            ids.pop(ref, None)
        else:
            ids[ref] = found
    routers = _routers(previous, before, networks, ids)
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
) -> tuple[RouterInterface, ...]:
    """Router legs, with those on changed networks rebuilt (in the full compile's order)."""
    touched = set(networks)
    if not any(
        Ref(ref.owner, name) in touched for ref, r in before.routers.items() for name in r.networks
    ):
        return previous.routers
    found = []
    for ref, router in sorted(before.routers.items()):
        for name in router.networks:
            net_ref = Ref(ref.owner, name)
            network = networks[net_ref] if net_ref in networks else before.networks.get(net_ref)
            seg = ids.get(net_ref)
            if network is None or seg is None:
                continue
            found.append(
                RouterInterface(
                    router=ref,
                    segment=seg,
                    mac=router_mac(ref.owner, ref.name, name),
                    gateways=tuple(s.gateway for s in network.subnets if s.gateway),
                    subnets=tuple(s.cidr for s in network.subnets),
                )
            )
    return tuple(found)
