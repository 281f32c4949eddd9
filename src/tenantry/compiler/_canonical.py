"""The canonical form of programs: everything by name, no ids (for comparing two compiles)."""

from __future__ import annotations

from typing import Any

from tenantry.compiler.program import CompiledPeer, Programs

__all__ = ["canonical_form"]


def canonical_form(programs: Programs) -> dict[str, Any]:
    """See :meth:`Programs.canonical`."""
    segments = {
        str(s.network): (s.key, s.subnets, s.gateways, s.default_action, s.service, s.management)
        for s in programs.segments
        if s is not None
    }

    def seg_name(seg: int) -> str:
        found = programs.segments[seg]
        return "" if found is None else str(found.network)

    used_sets: set[int] = set()

    def peer_form(peer: CompiledPeer) -> tuple[Any, ...]:
        aset = programs.address_sets[peer.address_set] if peer.address_set >= 0 else None
        if aset is None:
            return (peer.kind, peer.cidrs, peer.service)
        used_sets.add(aset.id)
        return (peer.kind, peer.service, str(aset.key), aset.prefixes)

    policies = {
        str(p.ref): (
            p.tier,
            p.order,
            tuple(
                (r.origin, r.action, r.direction, r.protocol, r.ports, peer_form(r.peer), r.log)
                for r in p.rules
            ),
        )
        for p in programs.policies
        if p is not None
    }
    ports: dict[str, Any] = {}
    ptab = programs.ports
    for row in programs.live_rows().tolist():
        chain = programs.chains[int(ptab.chain[row])]
        host = int(ptab.host[row])
        group = int(ptab.port_group[row])
        shaping = int(ptab.shaping[row])
        ports[programs.port_name(row)] = (
            programs.owner_of(row),
            programs.hosts[host] if host >= 0 else None,
            programs.port_groups[group] if group >= 0 else None,
            seg_name(int(ptab.segment[row])) if int(ptab.segment[row]) >= 0 else None,
            tuple((vlan, seg_name(seg)) for vlan, seg in ptab.trunk_of(row)),
            int(ptab.vlan_mode[row]),
            int(ptab.mac[row]),
            int(ptab.flags[row]),
            programs.shapings[shaping] if shaping >= 0 else None,
            programs.tagsets[int(ptab.tagset[row])],
            tuple(ptab.addresses(row)),
            tuple(
                str(p.ref)
                for pid in (chain.policies if chain is not None else ())
                if (p := programs.policies[pid]) is not None
            ),
        )
    members: dict[str, Any] = {}
    for aset in programs.address_sets:
        if aset is not None and aset.id in used_sets:
            members[str(aset.key)] = sorted(programs.port_name(r) for r in aset.ports.tolist())
    routers = sorted(
        (str(r.router), seg_name(r.segment), r.mac, r.gateways, r.subnets) for r in programs.routers
    )
    return {
        "segments": segments,
        "policies": policies,
        "ports": ports,
        "routers": routers,
        "address_set_members": members,
    }
