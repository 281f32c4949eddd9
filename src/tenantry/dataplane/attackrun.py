"""Attacks against the lab environment: its topology as the catalogue sees it, the judge of
legitimate flows (the reference backend), the watch points, and one run.

The judge is the reference data plane, so every control is a flow the semantics allow and
every attack is the same flow with one field made illegitimate.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address

from tenantry.compiler import PortFlag, Programs, SegmentKind
from tenantry.dataplane import Disposition, packets
from tenantry.dataplane.environment import LabEnvironment
from tenantry.dataplane.lab import namespaces
from tenantry.dataplane.lab.catalogue import catalogue
from tenantry.dataplane.lab.runner import Finding, RunReport, run_attacks
from tenantry.dataplane.lab.topology import Endpoint, Topology
from tenantry.dataplane.lab.wire import Observatory, WatchPoint
from tenantry.dataplane.reference import ReferenceBackend

__all__ = ["attack_lab", "lab_topology"]


def lab_topology(env: LabEnvironment, programs: Programs) -> Topology:
    """The lab's endpoints with what they hold, and the reference as the judge."""
    rows = {programs.port_name(r): r for r in programs.live_rows().tolist()}
    endpoints = []
    for guest in env.lab.guests.values():
        for nic in guest.nics:
            row = rows.get(nic.iface_id)
            if row is None:
                continue
            endpoints.append(
                _endpoint(programs, row, (guest.name, guest.netns, nic.ifname, guest.chassis))
            )
    reference = ReferenceBackend(programs)
    deployment = env.deployment()
    infrastructure = [c.encap_ip for c in deployment.chassis]
    infrastructure += [a for a in _host_addresses() if a not in infrastructure]
    return Topology(
        tuple(endpoints),
        _judge(reference, rows),
        deployment.fabric_netns,
        tuple(c.name for c in deployment.chassis),
        tuple(infrastructure),
        {
            str(s.network): s.tag
            for s in programs.segments
            if s is not None and s.kind is SegmentKind.OVERLAY
        },
    )


def _endpoint(programs: Programs, row: int, place: tuple[str, str, str, str]) -> Endpoint:
    """The endpoint of a port row; ``place`` is (guest, namespace, device, chassis)."""
    guest, netns, ifname, chassis = place
    table = programs.ports
    flags = int(table.flags[row])
    segment_id = int(table.segment[row])
    segment = programs.segments[segment_id] if segment_id >= 0 else None
    addresses = table.addresses(row)
    leg = next((r for r in programs.routers if r.segment == segment_id), None)
    gateway4 = next((str(g) for g in (leg.gateways if leg else ()) if g.version == 4), None)
    gateway6 = next((str(g) for g in (leg.gateways if leg else ()) if g.version == 6), None)
    return Endpoint(
        name=programs.port_name(row),
        guest=guest,
        netns=netns,
        ifname=ifname,
        owner=programs.owner_of(row),
        segment=str(segment.network) if segment is not None else f"trunk:{programs.port_name(row)}",
        chassis=chassis,
        mac=programs.port_mac(row),
        ipv4=tuple(str(a) for a in addresses if a.version == 4),
        ipv6=tuple(str(a) for a in addresses if a.version == 6),
        link_local=str(table.link_local(row)),
        vlan=segment.tag if segment is not None and segment.kind is SegmentKind.VLAN else None,
        trunk=tuple(v for v, _ in table.trunk_of(row)),
        gateway4=gateway4,
        gateway6=gateway6,
        router_mac=leg.mac if leg else None,
        service_consumer=bool(flags & PortFlag.SERVICE_CONSUMER),
        service_provider=bool(flags & PortFlag.SERVICE_PROVIDER),
        dhcp_server=bool(flags & PortFlag.DHCP_SERVER),
        router_advertisements=bool(flags & PortFlag.ROUTER_ADVERTISEMENTS),
        promiscuous=bool(flags & PortFlag.PROMISCUOUS),
        relaxed=bool(flags & (PortFlag.FORGED_TRANSMITS | PortFlag.MAC_CHANGES)),
    )


def _judge(
    reference: ReferenceBackend, rows: dict[str, int]
) -> Callable[[Endpoint, Endpoint, str, int, int], bool]:
    def judge(src: Endpoint, dst: Endpoint, proto: str, dport: int, family: int) -> bool:
        sources, targets = (src.ipv4, dst.ipv4) if family == 4 else (src.ipv6, dst.ipv6)
        if not sources or not targets:
            return False
        routed = src.segment != dst.segment
        if routed and src.router_mac is None:
            return False
        dst_mac = src.router_mac if routed and src.router_mac else dst.mac
        a, b = sources[0], targets[0]
        if proto == "icmp":
            number = 1 if family == 4 else 58
            l4 = (
                packets.icmp_echo(9)
                if family == 4
                else packets.icmpv6(a, b, 128, 0, b"\0\x09\0\x01")
            )
        elif proto == "tcp":
            number, l4 = 6, packets.tcp(a, b, 41000, dport)
        else:
            number, l4 = 17, packets.udp(a, b, 41000, dport)
        if family == 4:
            frame = packets.ethernet(dst_mac, src.mac, 0x0800, packets.ipv4(a, b, number, l4))
        else:
            frame = packets.ethernet(dst_mac, src.mac, 0x86DD, packets.ipv6(a, b, number, l4))
        reference.conntrack.connections.clear()
        verdict = reference.classify(frame, rows[src.name])
        return verdict.action is Disposition.FORWARD and rows[dst.name] in verdict.egress

    return judge


def _host_addresses() -> list[str]:
    """The machine's own IPv4 addresses (its management plane), loopback aside."""
    found = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = str(info[4][0])
            if not IPv4Address(address).is_loopback and address not in found:
                found.append(address)
    except OSError:
        pass
    return found


def watch_points(env: LabEnvironment, topology: Topology) -> list[WatchPoint]:
    """Every guest vNIC, every fabric port, every hypervisor's own stack (br-phys)."""
    points = [WatchPoint(e.name, e.netns, e.ifname) for e in topology.endpoints]
    deployment = env.deployment()
    if deployment.fabric_netns is not None:
        points += [
            WatchPoint(f"fabric:{c.name}", deployment.fabric_netns, c.name)
            for c in deployment.chassis
        ]
    points += [
        WatchPoint(f"hypervisor:{c.name}", c.netns, "br-phys")
        for c in deployment.chassis
        if c.physical_networks
    ]
    return points


def attack_lab(
    env: LabEnvironment,
    programs: Programs,
    names: Sequence[str] = (),
    progress: Callable[[Finding], None] | None = None,
) -> RunReport:
    """Run the catalogue (or the named attacks) against the running lab."""
    topology = lab_topology(env, programs)
    by_name = {e.name: e for e in topology.endpoints}

    def cache(endpoint: Endpoint) -> dict[str, str]:
        return namespaces.neighbour_table(by_name[endpoint.name].netns)

    def routes(endpoint: Endpoint) -> list[str]:
        return namespaces.ipv6_routes(by_name[endpoint.name].netns)

    attacks = catalogue(topology, cache, routes)
    if names:
        attacks = [
            a for a in attacks if a.name in names or any(a.name.startswith(n) for n in names)
        ]
    observatory = Observatory(watch_points(env, topology))
    try:
        return run_attacks(
            attacks,
            observatory,
            env.liveness,
            progress=progress,
            recover=lambda: _recover(env, programs),
        )
    finally:
        observatory.close()


def _recover(env: LabEnvironment, programs: Programs, timeout: float = 30.0) -> None:
    """After a daemon crash: wait for its monitor to restart it, the ports to come back up,
    and reinstall the flows a restarted ovs-vswitchd forgot (the RA guard)."""
    deadline = time.monotonic() + timeout
    while any(pid is None for pid in env.liveness().values()):
        if time.monotonic() > deadline:
            return
        time.sleep(0.2)
    time.sleep(2.0)  # ovn-controller reconnects and reinstalls its flows
    env.wait_until_ports_up(timeout)
    env.guard(programs)
