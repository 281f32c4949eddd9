"""Port security: each attack dropped with its own reason, each legitimate twin delivered."""

from __future__ import annotations

from tenantry.dataplane import Reason
from tenantry.dataplane import packets as pkt
from tenantry.dataplane.reference import ReferenceBackend
from tests.helpers.dataplane import Ports, assert_denies, assert_permits

A1, A2, INFRA = "acme/a1/eth0", "acme/a2/eth0", "acme/infra/eth0"
B1, B2 = "bravo/b1/eth0", "bravo/b2/eth0"
BCAST = pkt.BROADCAST


def test_forged_source_mac_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """A frame claiming another vNIC's MAC as its source never leaves the port."""
    frame = ports.tcp(A1, A2, 443, src_mac=ports[B1].mac)
    assert_denies(reference, frame, ingress=A1, reason=Reason.FORGED_SOURCE_MAC)


def test_configured_source_mac_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """The same frame from the port's own MAC is delivered."""
    assert_permits(reference, ports.tcp(A1, A2, 443), ingress=A1, to=A2)


def test_forged_transmits_accept_lets_a_foreign_source_mac_out(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """A port group that accepts forged transmits relaxes exactly that check."""
    frame = ports.tcp(B2, B1, 80, src_mac="02:00:00:99:99:99")
    assert_permits(reference, frame, ingress=B2, to=B1)


def test_multicast_source_mac_is_dropped_even_when_forging_is_allowed(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """A group address is never a valid source."""
    frame = ports.tcp(B2, B1, 80, src_mac="03:00:00:00:00:01")
    assert_denies(reference, frame, ingress=B2, reason=Reason.FORGED_SOURCE_MAC)


def test_gratuitous_arp_for_the_gateway_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """ARP poisoning: a guest announcing the gateway's IP with its own MAC."""
    a1 = ports[A1]
    frame = pkt.ethernet(BCAST, a1.mac, 0x0806, pkt.arp(2, a1.mac, "10.1.0.1", BCAST, "10.1.0.1"))
    assert_denies(reference, frame, ingress=A1, reason=Reason.ARP_SPOOF)


def test_gratuitous_arp_for_a_neighbours_ip_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """ARP poisoning: a guest claiming a neighbour's IP."""
    a1 = ports[A1]
    frame = pkt.ethernet(
        BCAST, a1.mac, 0x0806, pkt.arp(2, a1.mac, ports[A2].ip, BCAST, ports[A2].ip)
    )
    assert_denies(reference, frame, ingress=A1, reason=Reason.ARP_SPOOF)


def test_gratuitous_arp_for_its_own_ip_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """Announcing one's own locked address is legitimate."""
    a1 = ports[A1]
    frame = pkt.ethernet(BCAST, a1.mac, 0x0806, pkt.arp(2, a1.mac, a1.ip, BCAST, a1.ip))
    assert_permits(reference, frame, ingress=A1, to=A2)


def test_arp_probe_from_zero_address_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """RFC 5227 probes use sender IP 0.0.0.0."""
    a1 = ports[A1]
    frame = pkt.ethernet(
        BCAST, a1.mac, 0x0806, pkt.arp(1, a1.mac, "0.0.0.0", "00:00:00:00:00:00", a1.ip)
    )
    assert_permits(reference, frame, ingress=A1)


def test_arp_with_a_foreign_sender_mac_is_a_mac_change(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """ARP whose sender hardware address is not the port's MAC is dropped."""
    a1 = ports[A1]
    frame = pkt.ethernet(
        BCAST, a1.mac, 0x0806, pkt.arp(1, "02:00:00:77:77:77", a1.ip, BCAST, ports[A2].ip)
    )
    assert_denies(reference, frame, ingress=A1, reason=Reason.MAC_CHANGE)


def test_arp_request_for_a_neighbour_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """An ordinary who-has from the port's own MAC and IP is flooded to the segment."""
    a1 = ports[A1]
    frame = pkt.ethernet(
        BCAST, a1.mac, 0x0806, pkt.arp(1, a1.mac, a1.ip, "00:00:00:00:00:00", ports[A2].ip)
    )
    assert_permits(reference, frame, ingress=A1, to=A2)


def test_ipv4_source_of_another_tenant_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """IP spoofing: a source address not locked to the port."""
    frame = ports.tcp(A1, A2, 443, src_ip=ports[B1].ip)
    assert_denies(reference, frame, ingress=A1, reason=Reason.IPV4_SOURCE)


def test_ipv4_source_of_the_gateway_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """The gateway's address is the router's, never a guest's."""
    frame = ports.tcp(A1, A2, 443, src_ip="10.1.0.1")
    assert_denies(reference, frame, ingress=A1, reason=Reason.IPV4_SOURCE)


def test_zero_source_is_dropped_outside_dhcp(reference: ReferenceBackend, ports: Ports) -> None:
    """0.0.0.0 is only for DHCPDISCOVER/REQUEST."""
    frame = ports.udp(A1, A2, 53, src_ip="0.0.0.0")
    assert_denies(reference, frame, ingress=A1, reason=Reason.IPV4_SOURCE)


def test_dhcp_discover_from_zero_source_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """A client without an address may broadcast DHCPDISCOVER; the DHCP server receives it."""
    a1 = ports[A1]
    payload = pkt.udp("0.0.0.0", "255.255.255.255", 68, 67, pkt.dhcp(1, a1.mac))
    frame = pkt.ethernet(BCAST, a1.mac, 0x0800, pkt.ipv4("0.0.0.0", "255.255.255.255", 17, payload))
    assert_permits(reference, frame, ingress=A1, to=INFRA)


def test_rogue_dhcp_offer_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """A guest answering DHCP (UDP source port 67) is not the designated server."""
    a2 = ports[A2]
    payload = pkt.udp(a2.ip, "255.255.255.255", 67, 68, pkt.dhcp(2, ports[A1].mac, server=True))
    frame = pkt.ethernet(BCAST, a2.mac, 0x0800, pkt.ipv4(a2.ip, "255.255.255.255", 17, payload))
    assert_denies(reference, frame, ingress=A2, reason=Reason.ROGUE_DHCP)


def test_designated_dhcp_server_offer_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """The port group's designated DHCP server may offer."""
    infra = ports[INFRA]
    payload = pkt.udp(infra.ip, "255.255.255.255", 67, 68, pkt.dhcp(2, ports[A1].mac, server=True))
    frame = pkt.ethernet(
        BCAST, infra.mac, 0x0800, pkt.ipv4(infra.ip, "255.255.255.255", 17, payload)
    )
    assert_permits(reference, frame, ingress=INFRA, to=A1)


def _ra(src_mac: str, extensions: tuple[tuple[int, bytes], ...] = ()) -> bytes:
    ll = "fe80::ff:fe01:2"
    body = pkt.router_advert(ll, "ff02::1", src_mac)
    return pkt.ethernet(
        "33:33:00:00:00:01",
        src_mac,
        0x86DD,
        pkt.ipv6(ll, "ff02::1", 58, body, extensions=extensions),
    )


def test_rogue_router_advertisement_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """A guest sending RAs is not the designated router."""
    assert_denies(reference, _ra(ports[A2].mac), ingress=A2, reason=Reason.ROGUE_RA)


def test_router_advertisement_behind_extension_headers_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """RFC 7113 evasion: hop-by-hop and destination options before the RA."""
    pad = b"\x01\x04\0\0\0\0"
    frame = _ra(ports[A2].mac, ((0, pad), (60, pad), (60, pad)))
    assert_denies(reference, frame, ingress=A2, reason=Reason.ROGUE_RA)


def test_fragmented_router_advertisement_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """RFC 7113 evasion: a first fragment that ends inside the header chain."""
    a2 = ports[A2]
    ll = "fe80::ff:fe01:2"
    chain = ((60, b"\x01\x0c" + b"\0" * 12), (44, pkt.fragment_header(0, True, 99)))
    packet = pkt.ipv6(ll, "ff02::1", 60, b"", extensions=chain)
    frame = pkt.ethernet("33:33:00:00:00:01", a2.mac, 0x86DD, packet)
    assert_denies(reference, frame, ingress=A2, reason=Reason.INCOMPLETE_HEADER_CHAIN)


def test_designated_router_advertisement_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """The designated port may advertise, even behind extension headers."""
    infra = ports[INFRA]
    ll = "fe80::ff:fe01:4"
    body = pkt.router_advert(ll, "ff02::1", infra.mac)
    packet = pkt.ipv6(ll, "ff02::1", 58, body, extensions=((0, b"\x01\x04\0\0\0\0"),))
    frame = pkt.ethernet("33:33:00:00:00:01", infra.mac, 0x86DD, packet)
    assert_permits(reference, frame, ingress=INFRA, to=A1)


def test_neighbour_advertisement_for_a_foreign_target_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """ND spoofing: an NA claiming a neighbour's address."""
    a1 = ports[A1]
    body = pkt.nd_advert("fd00:1::11", "ff02::1", "fd00:1::12", a1.mac)
    frame = pkt.ethernet(
        "33:33:00:00:00:01", a1.mac, 0x86DD, pkt.ipv6("fd00:1::11", "ff02::1", 58, body)
    )
    assert_denies(reference, frame, ingress=A1, reason=Reason.ND_SPOOF)


def test_neighbour_advertisement_for_its_own_address_passes(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """An NA for the port's own locked address is legitimate."""
    a1 = ports[A1]
    body = pkt.nd_advert("fd00:1::11", "ff02::1", "fd00:1::11", a1.mac)
    frame = pkt.ethernet(
        "33:33:00:00:00:01", a1.mac, 0x86DD, pkt.ipv6("fd00:1::11", "ff02::1", 58, body)
    )
    assert_permits(reference, frame, ingress=A1, to=A2)


def test_dad_probe_for_a_foreign_address_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """A DAD solicitation (source ::) for a neighbour's address would deny it that address."""
    a1 = ports[A1]
    body = pkt.nd_solicit("::", "ff02::1:ff00:12", "fd00:1::12", None)
    frame = pkt.ethernet(
        "33:33:ff:00:00:12", a1.mac, 0x86DD, pkt.ipv6("::", "ff02::1:ff00:12", 58, body)
    )
    assert_denies(reference, frame, ingress=A1, reason=Reason.ND_SPOOF)


def test_dad_probe_for_its_own_address_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """DAD for the port's own address is how IPv6 brings an address up."""
    a1 = ports[A1]
    body = pkt.nd_solicit("::", "ff02::1:ff00:11", "fd00:1::11", None)
    frame = pkt.ethernet(
        "33:33:ff:00:00:11", a1.mac, 0x86DD, pkt.ipv6("::", "ff02::1:ff00:11", 58, body)
    )
    assert_permits(reference, frame, ingress=A1)


def test_neighbour_solicitation_with_a_foreign_link_layer_address_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """An NS whose source link-layer option names another MAC is a MAC change."""
    a1 = ports[A1]
    body = pkt.nd_solicit("fd00:1::11", "ff02::1:ff00:12", "fd00:1::12", "02:00:00:66:66:66")
    frame = pkt.ethernet(
        "33:33:ff:00:00:12", a1.mac, 0x86DD, pkt.ipv6("fd00:1::11", "ff02::1:ff00:12", 58, body)
    )
    assert_denies(reference, frame, ingress=A1, reason=Reason.MAC_CHANGE)


def test_neighbour_solicitation_with_its_own_link_layer_address_passes(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """An ordinary NS for a neighbour is flooded."""
    a1 = ports[A1]
    body = pkt.nd_solicit("fd00:1::11", "ff02::1:ff00:12", "fd00:1::12", a1.mac)
    frame = pkt.ethernet(
        "33:33:ff:00:00:12", a1.mac, 0x86DD, pkt.ipv6("fd00:1::11", "ff02::1:ff00:12", 58, body)
    )
    assert_permits(reference, frame, ingress=A1, to=A2)


def test_ipv6_source_not_locked_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """IPv6 spoofing: a global address of a neighbour."""
    a1 = ports[A1]
    body = pkt.icmpv6("fd00:1::12", "fd00:1::2", 128, 0, b"\0\x07\0\x01")
    frame = pkt.ethernet(
        ports[INFRA].mac, a1.mac, 0x86DD, pkt.ipv6("fd00:1::12", "fd00:1::2", 58, body)
    )
    assert_denies(reference, frame, ingress=A1, reason=Reason.IPV6_SOURCE)


def test_ipv6_link_local_derived_from_the_mac_passes(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """The EUI-64 link-local of the port's MAC is always an allowed source."""
    a1 = ports[A1]
    body = pkt.nd_solicit("fe80::ff:fe01:1", "fe80::ff:fe01:4", "fe80::ff:fe01:4", a1.mac)
    frame = pkt.ethernet(
        ports[INFRA].mac, a1.mac, 0x86DD, pkt.ipv6("fe80::ff:fe01:1", "fe80::ff:fe01:4", 58, body)
    )
    assert_permits(reference, frame, ingress=A1, to=INFRA)


def test_ipv6_link_local_of_another_mac_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """A link-local derived from someone else's MAC is a spoof."""
    a1 = ports[A1]
    body = pkt.icmpv6("fe80::ff:fe01:2", "fe80::ff:fe01:4", 128, 0, b"\0\x07\0\x01")
    frame = pkt.ethernet(
        ports[INFRA].mac, a1.mac, 0x86DD, pkt.ipv6("fe80::ff:fe01:2", "fe80::ff:fe01:4", 58, body)
    )
    assert_denies(reference, frame, ingress=A1, reason=Reason.IPV6_SOURCE)


def test_bpdu_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """Spanning-tree BPDUs (802.3/LLC) never leave a guest."""
    a1 = ports[A1]
    llc = b"\x42\x42\x03" + b"\0" * 35
    frame = (
        pkt.mac_bytes("01:80:c2:00:00:00")
        + pkt.mac_bytes(a1.mac)
        + len(llc).to_bytes(2, "big")
        + llc
    )
    assert_denies(reference, frame, ingress=A1, reason=Reason.LLC_FRAME)


def test_lldp_and_8021x_and_lacp_are_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """Link-layer control protocols are not guest traffic."""
    a1 = ports[A1]
    for ethertype in (0x88CC, 0x888E, 0x8809, 0x88B5):
        frame = pkt.ethernet("01:80:c2:00:00:0e", a1.mac, ethertype, b"\0" * 46)
        assert_denies(reference, frame, ingress=A1, reason=Reason.ETHERTYPE)


def test_rarp_with_a_foreign_mac_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """RARP announcing another MAC is dropped."""
    a1 = ports[A1]
    body = pkt.arp(3, "02:00:00:55:55:55", "0.0.0.0", "02:00:00:55:55:55", "0.0.0.0")
    frame = pkt.ethernet(BCAST, a1.mac, 0x8035, body)
    assert_denies(reference, frame, ingress=A1, reason=Reason.RARP_FOREIGN_MAC)


def test_rarp_self_announce_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """RARP announcing the port's own MAC (after a migration) is flooded."""
    a1 = ports[A1]
    body = pkt.arp(3, a1.mac, "0.0.0.0", a1.mac, "0.0.0.0")
    assert_permits(reference, pkt.ethernet(BCAST, a1.mac, 0x8035, body), ingress=A1, to=A2)
