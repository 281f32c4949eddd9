"""Forwarding from configuration: no learning, no flooding of unknown unicast, broadcast kept
inside the segment, shared services isolate their consumers, routers join only their owner's
networks."""

from __future__ import annotations

from tenantry.dataplane import Disposition, Reason
from tenantry.dataplane import packets as pkt
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.model import router_mac
from tests.helpers.dataplane import Ports, assert_denies, assert_permits

A1, A2, A3 = "acme/a1/eth0", "acme/a2/eth0", "acme/a3/eth0"
A1_DNS, B1_DNS, DNS = "acme/a1/eth1", "bravo/b1/eth1", "dns-1/eth0"
B1, B2 = "bravo/b1/eth0", "bravo/b2/eth0"
BCAST = pkt.BROADCAST


def names(reference: ReferenceBackend, rows: tuple[int, ...]) -> set[str]:
    return {reference.programs.port_name(r) for r in rows}


def test_unknown_unicast_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """Unicast to a MAC no port of the segment owns is never flooded."""
    frame = ports.tcp(A1, A2, 443, dst_mac="02:ff:ff:ff:ff:ff")
    assert_denies(reference, frame, ingress=A1, reason=Reason.UNKNOWN_UNICAST)


def test_another_tenants_mac_is_unknown_on_this_segment(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """Cross-tenant unicast: bravo's MAC does not exist on acme's segment."""
    frame = ports.tcp(A1, B1, 443, dst_ip=ports[A2].ip)
    assert_denies(reference, frame, ingress=A1, reason=Reason.UNKNOWN_UNICAST)


def test_known_unicast_reaches_only_its_port(reference: ReferenceBackend, ports: Ports) -> None:
    """A frame to a neighbour's MAC goes to that port alone."""
    verdict = assert_permits(reference, ports.tcp(A1, A2, 443), ingress=A1)
    assert names(reference, verdict.egress) == {A2}


def test_broadcast_stays_in_the_segment(reference: ReferenceBackend, ports: Ports) -> None:
    """An ARP broadcast reaches the segment's other ports and no one else."""
    a1 = ports[A1]
    frame = pkt.ethernet(BCAST, a1.mac, 0x0806, pkt.arp(1, a1.mac, a1.ip, BCAST, ports[A2].ip))
    verdict = assert_permits(reference, frame, ingress=A1)
    assert names(reference, verdict.egress) == {A2, "acme/infra/eth0", "acme/fw/eth0"}


def test_broadcast_on_a_trunk_vlan_stays_on_that_vlan(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """A trunk's broadcast on VLAN 111 reaches the db segment only."""
    fw = ports["acme/fw/eth0"]
    arp = pkt.arp(1, fw.mac, "10.1.1.5", BCAST, "10.1.1.13")
    verdict = assert_permits(
        reference, pkt.ethernet(BCAST, fw.mac, 0x0806, arp, tags=(111,)), ingress="acme/fw/eth0"
    )
    assert names(reference, verdict.egress) == {A3}


def test_promiscuous_port_sees_unicast_of_its_segment(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """A port group that accepts promiscuous mode gets copies of its segment's unicast."""
    verdict = assert_permits(reference, ports.tcp(B1, B2, 80), ingress=B1)
    assert B2 in names(reference, verdict.egress)


def test_non_promiscuous_port_gets_only_its_own_unicast(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """a2 never receives a1 -> infra unicast (promiscuous mode is off by default)."""
    frame = ports.udp(A1, "acme/infra/eth0", 67, sport=68)
    verdict = reference.classify(frame, A1)
    assert A2 not in names(reference, verdict.egress)


def test_tenant_reaches_the_shared_service_endpoint(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """A granted tenant's vNIC reaches the provider's DNS server on the service segment."""
    assert_permits(reference, ports.udp(A1_DNS, DNS, 53), ingress=A1_DNS, to=DNS)


def test_two_tenants_never_reach_each_other_through_a_shared_service(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """Consumers of one service are isolated from each other (private-VLAN isolated ports)."""
    frame = ports.udp(A1_DNS, B1_DNS, 53)
    assert_denies(reference, frame, ingress=A1_DNS, reason=Reason.SERVICE_ISOLATION)


def test_service_broadcast_reaches_only_the_provider(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """An ARP broadcast from a consumer reaches the service endpoints only."""
    a = ports[A1_DNS]
    frame = pkt.ethernet(BCAST, a.mac, 0x0806, pkt.arp(1, a.mac, a.ip, BCAST, "10.250.0.53"))
    verdict = assert_permits(reference, frame, ingress=A1_DNS)
    assert names(reference, verdict.egress) == {DNS}


def test_provider_endpoint_reaches_every_consumer(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """The service endpoint's broadcast reaches each consumer."""
    d = ports[DNS]
    frame = pkt.ethernet(BCAST, d.mac, 0x0806, pkt.arp(1, d.mac, d.ip, BCAST, "10.250.0.101"))
    verdict = assert_permits(reference, frame, ingress=DNS)
    assert names(reference, verdict.egress) == {A1_DNS, B1_DNS}


def test_bridged_guests_of_two_tenants_share_the_management_segment(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """Management interfaces are ordinary ports of one provider segment: ARP crosses tenants
    there (isolation mode exists to prevent exactly this)."""
    m = ports["acme/a2/.management"]
    frame = pkt.ethernet(BCAST, m.mac, 0x0806, pkt.arp(1, m.mac, m.ip, BCAST, "192.168.10.111"))
    verdict = assert_permits(reference, frame, ingress="acme/a2/.management")
    assert names(reference, verdict.egress) == {"bravo/b1/.management"}


def test_arp_for_the_gateway_is_answered_by_the_router(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """The router answers ARP for its gateway address; the request is not flooded."""
    a1 = ports[A1]
    verdict = reference.classify(
        pkt.ethernet(BCAST, a1.mac, 0x0806, pkt.arp(1, a1.mac, a1.ip, BCAST, "10.1.0.1")), A1
    )
    assert verdict.action is Disposition.REPLY
    assert verdict.egress == ()


def _routed(ports: Ports, src: str, dst_ip: str, dport: int, *, ttl: int = 64) -> bytes:
    a = ports[src]
    gateway = router_mac("acme", "core", "app")
    l4 = pkt.tcp(a.ip, dst_ip, 40000, dport)
    return pkt.ethernet(gateway, a.mac, 0x0800, pkt.ipv4(a.ip, dst_ip, 6, l4, ttl=ttl))


def test_router_forwards_between_its_owners_networks(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """web -> db on 5432 is routed from app to db and allowed by both sides' policies."""
    assert_permits(reference, _routed(ports, A1, "10.1.1.13", 5432), ingress=A1, to=A3)


def test_routed_traffic_still_passes_the_destinations_ingress_policy(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """web -> db on 22 is routed, then denied by db's ingress policy."""
    frame = _routed(ports, A1, "10.1.1.13", 22)
    verdict = assert_denies(reference, frame, ingress=A1)
    assert verdict.reason in (Reason.POLICY_DENY, Reason.DEFAULT_DENY)


def test_router_never_routes_to_another_tenant(reference: ReferenceBackend, ports: Ports) -> None:
    """bravo's subnet is not joined by acme's router: no route."""
    frame = _routed(ports, A1, "10.2.0.11", 443)
    assert_denies(reference, frame, ingress=A1, reason=Reason.NO_ROUTE)


def test_routed_packet_with_ttl_one_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """TTL is decremented on the way through; 1 cannot be forwarded."""
    frame = _routed(ports, A1, "10.1.1.13", 5432, ttl=1)
    assert_denies(reference, frame, ingress=A1, reason=Reason.TTL_EXCEEDED)


def test_ping_to_the_gateway_is_answered(reference: ReferenceBackend, ports: Ports) -> None:
    """Echo to the gateway is answered when the sender's egress policy allows it."""
    b1 = ports[B1]
    frame = pkt.ethernet(
        "02:00:00:00:00:99", b1.mac, 0x0800, pkt.ipv4(b1.ip, "10.2.0.1", 1, pkt.icmp_echo())
    )
    assert_denies(reference, frame, ingress=B1, reason=Reason.UNKNOWN_UNICAST)
