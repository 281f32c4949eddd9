"""The attack catalogue (THREATS.md rows 1-7, 11-14, 16, 17): who attacks, with what frames,
and the legitimate twin of each. Every builder returns attacks for each suitable attacker
(one ordinary vNIC per tenant and chassis), so neighbours on the same and on the other
chassis are both in reach; the observatory watches every port and the fabric regardless.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable

from scapy.contrib.geneve import GENEVE
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    fragment6,
)
from scapy.layers.l2 import ARP, LLC, STP, Dot1Q, Ether
from scapy.packet import Raw

from tenantry.dataplane.lab.namespaces import inside
from tenantry.dataplane.lab.probes import (
    BROADCAST,
    Attack,
    Probe,
    attackers,
    control_of,
    flow_frame,
    garp_control,
    ip_bytes,
    mac_bytes,
    random_mac,
    token,
)
from tenantry.dataplane.lab.topology import Endpoint, Flow, Topology

__all__ = ["catalogue"]


def _port() -> int:
    return random.randrange(20000, 60000)  # noqa: S311 - test traffic


NeighbourCache = Callable[[Endpoint], dict[str, str]]
Ipv6Routes = Callable[[Endpoint], list[str]]


def catalogue(topology: Topology, neighbours: NeighbourCache, routes: Ipv6Routes) -> list[Attack]:
    """Every attack the lab can stage, each with its control."""
    found: list[Attack] = []
    for builder in (
        _arp_spoofing,
        _ip_spoofing,
        _forged_mac,
        _mac_flooding,
        _vlan_attacks,
        _sniffing,
        _rogue_dhcp,
        _cross_tenant_scans,
        _shared_service_bypass,
        _management_plane,
        _encapsulated_injection,
        _non_ip,
        _nd_spoofing,
    ):
        found.extend(builder(topology, neighbours))
    found.extend(_rogue_ra(topology, routes))
    found.extend(_syn_retry(topology, neighbours))
    return found


def _syn_retry(topology: Topology, _: NeighbourCache) -> list[Attack]:
    """Row 27: a SYN to a closed port, its RST, the same SYN again (last: it may crash OVS)."""
    for attacker in attackers(topology):
        flow = topology.allowed_flow(attacker)
        if flow is None or flow.proto != "tcp":
            continue
        mark = token()
        frame = flow_frame(flow, b"")  # a bare SYN: one carrying data does not trigger it
        return [
            Attack(
                "tcp-syn-retry",
                "row 27",
                f"the same TCP SYN twice to {flow.dst.name}:{flow.dport} (port closed: RST)",
                Probe(
                    attacker, [frame] * 6, (mark,), forbid_at=(), what="SYN, RST, SYN...", gap=0.5
                ),
                control_of(flow, "the flow itself"),
            )
        ]
    return []


def _arp_spoofing(topology: Topology, cache: NeighbourCache) -> list[Attack]:
    found = []
    for attacker in attackers(topology):
        victims = [n for n in topology.neighbours(attacker) if n.ipv4]
        claims = []
        if attacker.gateway4:
            claims.append(("gateway", attacker.gateway4))
        claims += [("neighbour", victims[0].ipv4[0])] if victims else []
        for kind, claimed in claims:
            frame = Ether(src=attacker.mac, dst=BROADCAST) / ARP(
                op=2, hwsrc=attacker.mac, psrc=claimed, hwdst=BROADCAST, pdst=claimed
            )
            probe = Probe(
                attacker,
                [frame],
                (mac_bytes(attacker.mac) + ip_bytes(claimed),),
                what=f"is-at {claimed} ({kind}) from {attacker.mac}",
            )
            found.append(
                Attack(
                    f"arp-spoof-{kind}",
                    "row 3",
                    f"gratuitous ARP claiming the {kind}'s address {claimed}",
                    probe,
                    garp_control(topology, attacker),
                    [_neighbour_untouched(cache, victims, claimed, attacker.mac)],
                )
            )
        # ARP whose sender MAC is not the frame's source (SHA != eth.src)
        other = random_mac()
        frame = Ether(src=attacker.mac, dst=BROADCAST) / ARP(
            op=2, hwsrc=other, psrc=attacker.ip, hwdst=BROADCAST, pdst=attacker.ip
        )
        found.append(
            Attack(
                "arp-sender-mac-mismatch",
                "row 3",
                "ARP whose sender hardware address is not the port's MAC",
                Probe(
                    attacker,
                    [frame],
                    (mac_bytes(other) + ip_bytes(attacker.ip or "0.0.0.0"),),
                    what=f"ARP sha {other} from {attacker.mac}",
                ),
                garp_control(topology, attacker),
            )
        )
    return found


def _neighbour_untouched(
    cache: NeighbourCache, victims: list[Endpoint], claimed: str, attacker_mac: str
) -> Callable[[], list[str]]:
    def check() -> list[str]:
        leaks = []
        for victim in victims:
            if cache(victim).get(claimed, "").lower() == attacker_mac.lower():
                leaks.append(f"{victim.name}'s neighbour table maps {claimed} to {attacker_mac}")
        return leaks

    return check


def _spoof(topology: Topology, attacker: Endpoint, family: int) -> tuple[Flow, list[str]] | None:
    flow = topology.allowed_flow(attacker, family=family)
    if flow is None:
        return None
    if family == 4:
        foreign = [o.ipv4[0] for o in topology.others(attacker) if o.ipv4][:1]
        near = [n.ipv4[0] for n in topology.neighbours(attacker) if n.ipv4][:1]
        sources = [*near, *foreign, "0.0.0.0", "255.255.255.255"]
        sources += [attacker.gateway4] if attacker.gateway4 else []
    else:
        foreign = [o.ipv6[0] for o in topology.others(attacker) if o.ipv6][:1]
        near = [n.ipv6[0] for n in topology.neighbours(attacker) if n.ipv6][:1]
        sources = [*near, *foreign, "::1", "fe80::dead:beef"]
    return flow, sources


def _ip_spoofing(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    for family in (4, 6):
        for attacker in attackers(topology, need_ipv6=family == 6):
            spoof = _spoof(topology, attacker, family)
            if spoof is None:
                continue
            flow, sources = spoof
            for source in sources:
                mark = token()
                found.append(
                    Attack(
                        f"ipv{family}-source-spoof",
                        "row 2",
                        f"{flow.proto}/{flow.dport} to {flow.dst.name} from source {source}",
                        Probe(
                            attacker,
                            [flow_frame(flow, mark, src_ip=source)],
                            (mark,),
                            what=f"source {source}",
                        ),
                        control_of(flow, "own source address"),
                    )
                )
    return found


def _forged_mac(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    for attacker in attackers(topology):
        flow = topology.allowed_flow(attacker)
        if flow is None:
            continue
        others = [random_mac(), *(n.mac for n in topology.neighbours(attacker)[:1])]
        others += [o.mac for o in topology.others(attacker)[:1]]
        for forged in others:
            mark = token()
            frames = [flow_frame(flow, mark, src_mac=forged)]
            frames.append(Ether(src=forged, dst=BROADCAST) / frames[0].payload.copy())
            found.append(
                Attack(
                    "forged-source-mac",
                    "row 1",
                    f"unicast and broadcast from source MAC {forged}",
                    Probe(attacker, frames, (mark,), what=f"eth.src {forged}"),
                    control_of(flow, "own source MAC"),
                )
            )
    return found


def _mac_flooding(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    for attacker in list(attackers(topology))[:2]:
        mark = token()
        frames = [
            Ether(src=random_mac(), dst=BROADCAST)
            / IP(src=attacker.ip, dst="255.255.255.255")
            / UDP(sport=_port(), dport=9)
            / Raw(mark)
            for _ in range(2000)
        ]
        found.append(
            Attack(
                "mac-flooding",
                "row 13",
                "2,000 frames from random source MACs",
                Probe(attacker, frames, (mark,), what="2000 random source MACs"),
                garp_control(topology, attacker),
            )
        )
    return found


def _vlan_attacks(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    others_vlans = sorted({e.vlan for e in topology.endpoints if e.vlan is not None})
    for attacker in attackers(topology):
        flow = topology.allowed_flow(attacker)
        if flow is None:
            continue
        target = next((v for v in others_vlans if v != attacker.vlan), 4000)
        outer = attacker.vlan or 0
        for name, tags in (
            ("vlan-double-tagging", [Dot1Q(vlan=outer), Dot1Q(vlan=target)]),
            ("vlan-double-tagging-priority", [Dot1Q(vlan=0), Dot1Q(vlan=target)]),
            ("guest-tagged-frame", [Dot1Q(vlan=target)]),
        ):
            mark = token()
            inner = flow_frame(flow, mark)
            frame = Ether(src=attacker.mac, dst=inner.dst)
            for tag in tags:
                frame = frame / tag
            frame = frame / inner.payload.copy()
            found.append(
                Attack(
                    name,
                    "row 14",
                    f"tags {[t.vlan for t in tags]} from a VST/EST port",
                    Probe(attacker, [frame], (mark,), what=f"tags {[t.vlan for t in tags]}"),
                    control_of(flow, "the same frame untagged"),
                )
            )
    return found


def _sniffing(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    for attacker in attackers(topology):
        pair = None
        for talker in topology.neighbours(attacker) + topology.others(attacker):
            if talker.relaxed or talker.trunk:
                continue
            flow = topology.allowed_flow(
                talker, [e for e in topology.endpoints if e.name != attacker.name]
            )
            if flow is not None and not flow.dst.promiscuous:
                pair = flow
                break
        if pair is None:
            continue
        mark = token()
        found.append(
            Attack(
                "promiscuous-sniffing",
                "row 12",
                f"{attacker.name} listens for {pair.src.name} -> {pair.dst.name}",
                Probe(
                    pair.src,
                    [flow_frame(pair, mark)],
                    (mark,),
                    forbid_at=(attacker.name,),
                    what="others' unicast",
                ),
                garp_control(topology, attacker),
            )
        )
        unknown = token()
        frame = Ether(src=pair.src.mac, dst="02:ff:ee:dd:cc:bb") / IP(
            src=pair.src.ip, dst=pair.dst.ip
        )
        found.append(
            Attack(
                "unknown-unicast-flooding",
                "row 12",
                "unicast to a MAC nobody owns",
                Probe(
                    pair.src,
                    [frame / UDP(sport=_port(), dport=9) / Raw(unknown)],
                    (unknown,),
                    what="dst 02:ff:ee:dd:cc:bb",
                ),
                control_of(pair, "the same flow to its owner"),
            )
        )
    return found


def _rogue_dhcp(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    for attacker in attackers(topology):
        if attacker.dhcp_server:
            continue
        mark = token()
        offer = (
            Ether(src=attacker.mac, dst=BROADCAST)
            / IP(src=attacker.ip, dst="255.255.255.255")
            / UDP(sport=67, dport=68)
            / BOOTP(op=2, yiaddr=attacker.ip, siaddr=attacker.ip, chaddr=mac_bytes(BROADCAST))
            / DHCP(options=[("message-type", "offer"), ("router", attacker.ip), "end"])
            / Raw(mark)
        )
        client = token()
        discover = (
            Ether(src=attacker.mac, dst=BROADCAST)
            / IP(src="0.0.0.0", dst="255.255.255.255")
            / UDP(sport=68, dport=67)
            / BOOTP(op=1, chaddr=mac_bytes(attacker.mac))
            / DHCP(options=[("message-type", "discover"), "end"])
            / Raw(client)
        )
        receivers = tuple(n.name for n in topology.neighbours(attacker))
        found.append(
            Attack(
                "rogue-dhcp-server",
                "row 5",
                "DHCPOFFER from a port not designated for it",
                Probe(attacker, [offer], (mark,), what="UDP 67 -> 68 offer"),
                Probe(attacker, [discover], (client,), receivers, what="DHCPDISCOVER"),
            )
        )
    return found


def _rogue_ra(topology: Topology, routes: Ipv6Routes) -> list[Attack]:
    found = []
    for attacker in attackers(topology, need_ipv6=True):
        if attacker.router_advertisements:
            continue
        victims = topology.neighbours(attacker)
        before = {v.name: routes(v) for v in victims}

        def unchanged(
            victims: list[Endpoint] = victims, before: dict[str, list[str]] = before
        ) -> list[str]:
            return [
                f"{v.name}'s IPv6 routes changed: {routes(v)}"
                for v in victims
                if routes(v) != before[v.name]
            ]

        base = IPv6(src=attacker.link_local, dst="ff02::1", hlim=255)
        ether = Ether(src=attacker.mac, dst="33:33:00:00:00:01")
        variants = {
            "rogue-router-advertisement": base / ICMPv6ND_RA(routerlifetime=1800),
            "rogue-ra-hop-by-hop": base / IPv6ExtHdrHopByHop() / ICMPv6ND_RA(routerlifetime=1800),
            "rogue-ra-destination-options": base
            / IPv6ExtHdrDestOpt()
            / IPv6ExtHdrDestOpt()
            / ICMPv6ND_RA(routerlifetime=1800),
        }
        solicit = token()
        control = Probe(
            attacker,
            [
                Ether(src=attacker.mac, dst="33:33:00:00:00:02")
                / IPv6(src=attacker.link_local, dst="ff02::2", hlim=255)
                / ICMPv6ND_RS()
                / Raw(solicit)
            ],
            (solicit,),
            tuple(v.name for v in victims),
            what="router solicitation",
        )
        for name, packet in variants.items():
            mark = token()
            found.append(
                Attack(
                    name,
                    "row 6",
                    "router advertisement from a non-router port",
                    Probe(attacker, [ether / packet / Raw(mark)], (mark,), what=name),
                    control,
                    [unchanged],
                )
            )
        mark = token()
        pieces = fragment6(  # type: ignore[no-untyped-call]
            base / IPv6ExtHdrFragment() / ICMPv6ND_RA() / Raw(mark + b"x" * 1400), 600
        )
        found.append(
            Attack(
                "rogue-ra-fragmented",
                "row 6",
                "router advertisement in fragments",
                Probe(attacker, [ether / p for p in pieces], (mark,), what="fragments"),
                control,
                [unchanged],
            )
        )
    return found


def _cross_tenant_scans(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    for attacker in attackers(topology):
        flow = topology.allowed_flow(attacker)
        if flow is None:
            continue
        targets = [o for o in topology.others(attacker) if o.ipv4][:6]
        for proto, dports in (("icmp", [0]), ("tcp", [22, 80, 443, 445, 5432]), ("udp", [53, 161])):
            mark = token()
            frames = []
            for target in targets:
                for dport in dports:
                    l3 = IP(src=attacker.ip, dst=target.ip)
                    l4 = (
                        ICMP()
                        if proto == "icmp"
                        else (
                            TCP(sport=_port(), dport=dport, flags="S")
                            if proto == "tcp"
                            else UDP(sport=_port(), dport=dport)
                        )
                    )
                    for dst_mac in filter(None, (attacker.router_mac, target.mac)):
                        frames.append(Ether(src=attacker.mac, dst=dst_mac) / l3 / l4 / Raw(mark))
            if frames:
                found.append(
                    Attack(
                        f"cross-tenant-scan-{proto}",
                        "row 11",
                        f"{proto} to {len(targets)} other tenants' addresses, routed and direct",
                        Probe(attacker, frames, (mark,), what="scan"),
                        control_of(flow, "a flow the tenant's policy allows"),
                    )
                )
    return found


def _shared_service_bypass(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    consumers = [e for e in topology.endpoints if e.service_consumer and e.ipv4]
    providers = [e for e in topology.endpoints if e.service_provider and e.ipv4]
    for attacker in consumers:
        peers = [
            c for c in consumers if c.owner != attacker.owner and c.segment == attacker.segment
        ]
        server = next((p for p in providers if p.segment == attacker.segment), None)
        if not peers or server is None:
            continue
        mark = token()
        frames = []
        for peer in peers:
            for l4 in (
                UDP(sport=_port(), dport=53),
                ICMP(),
                TCP(sport=_port(), dport=22, flags="S"),
            ):
                frames.append(
                    Ether(src=attacker.mac, dst=peer.mac)
                    / IP(src=attacker.ip, dst=peer.ip)
                    / l4
                    / Raw(mark)
                )
        frames.append(
            Ether(src=attacker.mac, dst=BROADCAST)
            / IP(src=attacker.ip, dst="255.255.255.255")
            / UDP(sport=_port(), dport=53)
            / Raw(mark)
        )
        legit = topology.allowed_flow(attacker, [server])
        found.append(
            Attack(
                "shared-service-bypass",
                "row 11",
                f"{attacker.name} to other tenants on the shared service segment",
                Probe(attacker, frames, (mark,), what="consumer to consumer"),
                control_of(legit, "its policy's flow to the service")
                if legit is not None
                else garp_control(topology, attacker),
            )
        )
    return found


def _management_plane(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    for attacker in attackers(topology):
        flow = topology.allowed_flow(attacker)
        if flow is None or not topology.infrastructure:
            continue
        mark = token()
        frames = []
        for address in topology.infrastructure:
            for dport in (6641, 6642, 22, 443):
                for dst_mac in filter(None, (attacker.router_mac, BROADCAST)):
                    frames.append(
                        Ether(src=attacker.mac, dst=dst_mac)
                        / IP(src=attacker.ip, dst=address)
                        / TCP(sport=_port(), dport=dport, flags="S")
                        / Raw(mark)
                    )
        found.append(
            Attack(
                "management-plane",
                "row 16",
                f"TCP to {', '.join(topology.infrastructure)} (OVSDB, SSH, HTTPS)",
                Probe(
                    attacker,
                    frames,
                    (mark,),
                    forbid_at=_other_owners(topology, attacker),
                    forbid_untagged_at=_infrastructure_points(topology),
                    what="SYNs to the hypervisors",
                ),
                control_of(flow, "a flow the tenant's policy allows"),
                [_cannot_connect(attacker, topology.infrastructure)],
            )
        )
    return found


def _other_owners(topology: Topology, attacker: Endpoint) -> tuple[str, ...]:
    return tuple(e.name for e in topology.others(attacker))


def _infrastructure_points(topology: Topology) -> tuple[str, ...]:
    """The fabric and the hypervisors' own stacks: a tenant's frames may cross the fabric
    only tagged with their VLAN (or encapsulated by OVN), never untagged."""
    return tuple(
        f"{kind}:{name}" for name in topology.fabric_ports for kind in ("fabric", "hypervisor")
    )


def _cannot_connect(attacker: Endpoint, addresses: tuple[str, ...]) -> Callable[[], list[str]]:
    def check() -> list[str]:
        reached = []
        for address in addresses:
            for port in (6641, 6642, 22):
                with inside(attacker.netns):
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.settimeout(0.3)
                try:
                    sock.connect((address, port))
                    reached.append(f"connected to {address}:{port}")
                except ConnectionRefusedError:
                    reached.append(f"{address}:{port} answered (connection refused)")
                except OSError:
                    pass
                finally:
                    sock.close()
        return reached

    return check


def _encapsulated_injection(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    for attacker in attackers(topology):
        flow = topology.allowed_flow(attacker)
        victims = [o for o in topology.others(attacker) if o.ipv4]
        if flow is None or not victims or not topology.infrastructure:
            continue
        victim = victims[0]
        key = topology.geneve_keys.get(victim.segment, 1)
        mark = token()
        inner = (
            Ether(src=random_mac(), dst=victim.mac)
            / IP(src="10.99.0.1", dst=victim.ip)
            / UDP(sport=_port(), dport=9)
            / Raw(mark)
        )
        frames = [
            Ether(src=attacker.mac, dst=dst_mac)
            / IP(src=attacker.ip, dst=underlay)
            / UDP(sport=_port(), dport=6081)
            / GENEVE(vni=key, proto=0x6558)
            / inner
            for underlay in topology.infrastructure
            for dst_mac in filter(None, (attacker.router_mac, BROADCAST))
        ]
        found.append(
            Attack(
                "encapsulated-injection",
                "row 17",
                f"Geneve toward the underlay carrying a frame for {victim.name}",
                Probe(
                    attacker,
                    frames,
                    (mark,),
                    forbid_at=_other_owners(topology, attacker),
                    forbid_untagged_at=_infrastructure_points(topology),
                    what="Geneve with an inner frame",
                ),
                control_of(flow, "a flow the tenant's policy allows"),
            )
        )
    return found


def _non_ip(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    for attacker in attackers(topology):
        mark = token()
        src = attacker.mac
        frames = [
            Ether(src=src, dst="01:80:c2:00:00:00") / LLC() / STP() / Raw(mark),
            Ether(src=src, dst="01:80:c2:00:00:0e", type=0x88CC) / Raw(mark),
            Ether(src=src, dst="01:80:c2:00:00:03", type=0x888E) / Raw(mark),
            Ether(src=src, dst="01:80:c2:00:00:02", type=0x8809) / Raw(b"\x01" + mark),
            Ether(src=src, dst=BROADCAST, type=0x88B5) / Raw(mark),
            Ether(src=src, dst=BROADCAST, type=0x8035)
            / ARP(op=3, hwsrc=random_mac(), psrc="0.0.0.0", hwdst=src, pdst="0.0.0.0")
            / Raw(mark),
        ]
        found.append(
            Attack(
                "non-ip-layer-2",
                "row 7",
                "BPDU, LLDP, 802.1X, LACP, experimental ethertype, RARP (foreign MAC)",
                Probe(attacker, frames, (mark,), what="6 non-IP frames"),
                garp_control(topology, attacker),
            )
        )
    return found


def _nd_spoofing(topology: Topology, _: NeighbourCache) -> list[Attack]:
    found = []
    for attacker in attackers(topology, need_ipv6=True):
        victims = [n for n in topology.neighbours(attacker) if n.ipv6]
        if not victims:
            continue
        mark = token()
        forged = (
            Ether(src=attacker.mac, dst="33:33:00:00:00:01")
            / IPv6(src=attacker.link_local, dst="ff02::1", hlim=255)
            / ICMPv6ND_NA(tgt=victims[0].ipv6[0], R=0, S=0, O=1)
            / ICMPv6NDOptDstLLAddr(lladdr=attacker.mac)
            / Raw(mark)
        )
        own = token()
        honest = (
            Ether(src=attacker.mac, dst="33:33:00:00:00:01")
            / IPv6(src=attacker.link_local, dst="ff02::1", hlim=255)
            / ICMPv6ND_NA(tgt=attacker.ipv6[0], R=0, S=0, O=1)
            / ICMPv6NDOptDstLLAddr(lladdr=attacker.mac)
            / Raw(own)
        )
        found.append(
            Attack(
                "nd-spoof",
                "row 4",
                f"neighbour advertisement for {victims[0].ipv6[0]}",
                Probe(attacker, [forged], (mark,), what="NA for a neighbour's address"),
                Probe(
                    attacker,
                    [honest],
                    (own,),
                    tuple(v.name for v in victims),
                    what="NA for its own address",
                ),
            )
        )
    return found
