"""Broadcast domains on the wire: segments that the wire cannot tell apart are one domain.

A program names segments by id, but the wire knows only keys: a VLAN id on a physical
network, or an overlay id. Two segments with one key, or with one VLAN id on two physical
networks that a host NIC joins, are a single broadcast domain. ``wire_programs`` rewrites
programs so that each domain is one segment: what the reference backend then enforces is
what the wire does, which is how counterexamples through merged segments are replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from tenantry.compiler import Programs, RouterInterface, Segment, SegmentKind
from tenantry.verify.facts import PhysicalFacts

__all__ = ["Domains", "map_domains", "wire_programs"]


@dataclass(frozen=True)
class Domains:
    """Segment id -> domain id (the smallest segment id of the domain), and why segments merged."""

    of: npt.NDArray[np.int32]
    """Indexed by segment id; -1 for tombstones. One extra trailing -1 so that -1 maps to -1."""
    causes: dict[int, str]
    """Domain id -> why several segments are one domain (only for merged domains)."""

    def members(self, domain: int) -> list[int]:
        """The segment ids of a domain."""
        return np.flatnonzero(self.of[:-1] == domain).tolist()


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        parent = self.parent.setdefault(item, item)
        if parent != item:
            parent = self.parent[item] = self.find(parent)
        return parent

    def join(self, first: str, second: str) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def map_domains(programs: Programs, facts: PhysicalFacts) -> Domains:
    """Which segments share a broadcast domain on the wire."""
    physnets = _Union()
    bridged: dict[str, list[str]] = {}
    for bridge in facts.bridges:
        physnets.join(bridge.first, bridge.second)
        bridged.setdefault(physnets.find(bridge.first), []).append(bridge.why)
    of = np.full(len(programs.segments) + 1, -1, np.int32)
    first: dict[tuple[str, str, int], int] = {}
    merged: dict[int, list[Segment]] = {}
    for segment in programs.segments:
        if segment is None:
            continue
        physnet = physnets.find(segment.physical_network) if segment.physical_network else ""
        key = (str(segment.kind), physnet, segment.tag)
        domain = first.setdefault(key, segment.id)
        of[segment.id] = domain
        merged.setdefault(domain, []).append(segment)
    causes: dict[int, str] = {}
    for domain, segments in merged.items():
        if len(segments) < 2:
            continue
        names = ", ".join(str(s.network) for s in segments)
        head = segments[0]
        if head.kind is SegmentKind.OVERLAY:
            causes[domain] = f"segments {names} share overlay id {head.tag}"
            continue
        nets = sorted({s.physical_network for s in segments})
        cause = f"segments {names} share VLAN {head.tag}"
        if len(nets) > 1:
            reasons = "; ".join(bridged.get(physnets.find(nets[0]), []))
            cause += f" on physical networks {', '.join(nets)}, which are bridged ({reasons})"
        else:
            cause += f" on {nets[0]}"
        causes[domain] = cause
    return Domains(of, causes)


def wire_programs(programs: Programs, domains: Domains) -> Programs:
    """The programs as the wire enforces them: each domain one segment (identity if none merge)."""
    if not domains.causes:
        return programs
    of = domains.of
    segments: list[Segment | None] = list(programs.segments)
    for domain in domains.causes:
        parts = [programs.segments[s] for s in domains.members(domain)]
        whole = [p for p in parts if p is not None]
        head = whole[0]
        segments[domain] = replace(
            head,
            subnets=tuple(n for p in whole for n in p.subnets),
            gateways=tuple(g for p in whole for g in p.gateways),
        )
        for part in whole[1:]:
            segments[part.id] = None
    ports = programs.ports
    table = replace(
        ports,
        segment=of[ports.segment].astype(np.int32),
        trunk_segments=of[ports.trunk_segments].astype(np.int32),
    )
    routers = tuple(
        RouterInterface(leg.router, int(of[leg.segment]), leg.mac, leg.gateways, leg.subnets)
        for leg in programs.routers
    )
    return replace(programs, segments=tuple(segments), ports=table, routers=routers, index=None)
