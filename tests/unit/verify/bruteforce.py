"""A brute-force oracle: send candidate frames from every port through the reference
classifier and record which tenants' ports receive them.

Obviously correct rather than fast: every port sends broadcast ARP, unicast ARP to every MAC,
and to every router MAC a DHCP client message and a neighbour solicitation for every address
plus ordinary TCP/UDP/ICMP packets of several classes. Small estates only (about 20 ports).
"""

from __future__ import annotations

from collections import deque

from tenantry.compiler import PortFlag, Programs
from tenantry.dataplane import Disposition
from tenantry.dataplane import packets as pkt
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.model import PROVIDER

__all__ = ["composed_reach", "cross_tenant_deliveries"]

PORTS = (0, 22, 53, 443, 8000, 8080, 8081, 65535)


def _frames(programs: Programs, row: int) -> list[bytes]:
    ports = programs.ports
    mac = programs.port_mac(row)
    contexts: list[tuple[int, ...]] = [()]
    contexts += [(vlan,) for vlan, _ in ports.trunk_of(row)]
    live = programs.live_rows().tolist()
    macs = sorted({programs.port_mac(r) for r in live})
    own = list(ports.addresses(row))
    own4 = [str(a) for a in own if a.version == 4]
    own6 = [str(a) for a in own if a.version == 6] + [str(ports.link_local(row))]
    every = sorted({a for r in live for a in ports.addresses(r)}, key=str)
    every6 = [str(a) for a in every if a.version == 6] + [str(ports.link_local(r)) for r in live]
    every4 = [str(a) for a in every if a.version == 4]
    routers = sorted({leg.mac for leg in programs.routers})
    out: list[bytes] = []
    for tags in contexts:
        for sender in [*own4, "0.0.0.0"]:
            body = pkt.arp(1, mac, sender, "00:00:00:00:00:00", "0.0.0.0")
            out.append(pkt.ethernet(pkt.BROADCAST, mac, 0x0806, body, tags=tags))
        for dst in macs:
            body = pkt.arp(1, mac, "0.0.0.0", "00:00:00:00:00:00", "0.0.0.0")
            out.append(pkt.ethernet(dst, mac, 0x0806, body, tags=tags))
        for router in routers:
            for dst in every4:
                udp = pkt.udp("0.0.0.0", dst, 68, 67, pkt.dhcp(1, mac))
                out.append(
                    pkt.ethernet(router, mac, 0x0800, pkt.ipv4("0.0.0.0", dst, 17, udp), tags=tags)
                )
                for src in own4[:1]:
                    out.append(
                        pkt.ethernet(
                            router, mac, 0x0800, pkt.ipv4(src, dst, 1, pkt.icmp_echo()), tags=tags
                        )
                    )
                    for port in PORTS:
                        for proto, l4 in (
                            (6, pkt.tcp(src, dst, 40000, port)),
                            (17, pkt.udp(src, dst, 40000, port)),
                        ):
                            out.append(
                                pkt.ethernet(
                                    router, mac, 0x0800, pkt.ipv4(src, dst, proto, l4), tags=tags
                                )
                            )
            for dst in every6:
                ns = pkt.nd_solicit("::", dst, own6[-1], None)
                out.append(
                    pkt.ethernet(router, mac, 0x86DD, pkt.ipv6("::", dst, 58, ns), tags=tags)
                )
                for src in own6[:1]:
                    tcp = pkt.tcp(src, dst, 40000, 443)
                    out.append(
                        pkt.ethernet(router, mac, 0x86DD, pkt.ipv6(src, dst, 6, tcp), tags=tags)
                    )
    return out


def cross_tenant_deliveries(programs: Programs) -> set[tuple[str, str]]:
    """(sender tenant, receiver tenant) for every frame delivered across tenants."""
    backend = ReferenceBackend(programs)
    found: set[tuple[str, str]] = set()
    for row in programs.live_rows().tolist():
        sender = programs.owner_of(row)
        if sender == PROVIDER:
            continue
        for frame in _frames(programs, row):
            backend.conntrack.connections.clear()
            backend.conntrack.fragments.clear()
            verdict = backend.classify(frame, row)
            if verdict.action is not Disposition.FORWARD:
                continue
            for egress in verdict.egress:
                receiver = programs.owner_of(egress)
                if receiver not in (PROVIDER, sender):
                    found.add((sender, receiver))
    return found


def _deliveries(programs: Programs) -> dict[int, set[int]]:
    """Sending port -> every port some frame of it is delivered to (all senders)."""
    backend = ReferenceBackend(programs)
    found: dict[int, set[int]] = {}
    for row in programs.live_rows().tolist():
        for frame in _frames(programs, row):
            backend.conntrack.connections.clear()
            backend.conntrack.fragments.clear()
            verdict = backend.classify(frame, row)
            if verdict.action is Disposition.FORWARD:
                found.setdefault(row, set()).update(verdict.egress)
    return found


def composed_reach(programs: Programs) -> set[tuple[str, str]]:
    """(tenant, tenant) pairs joined by deliveries composed through guests that forward: a
    guest that receives a frame may send from any of its vNICs (service endpoints do not)."""
    ports = programs.ports
    live = programs.live_rows().tolist()
    sent = _deliveries(programs)
    by_guest: dict[int, list[int]] = {}
    for row in live:
        by_guest.setdefault(int(ports.guest[row]), []).append(row)
    endpoints = {
        int(ports.guest[r]) for r in live if int(ports.flags[r]) & PortFlag.SERVICE_PROVIDER
    }
    owners = {row: programs.owner_of(row) for row in live}
    found: set[tuple[str, str]] = set()
    for tenant in sorted(set(owners.values()) - {PROVIDER}):
        senders = {row for row in live if owners[row] == tenant}
        received: set[int] = set()
        queue = deque(senders)
        while queue:
            for row in sent.get(queue.popleft(), ()):
                if row in received:
                    continue
                received.add(row)
                guest = int(ports.guest[row])
                if guest in endpoints:
                    continue
                for port in by_guest[guest]:
                    if port not in senders:
                        senders.add(port)
                        queue.append(port)
        found.update((tenant, owners[r]) for r in received if owners[r] not in (PROVIDER, tenant))
    return found
