"""VLAN modes: VST/EST ports take untagged frames only; VGT trunks only their listed VLANs."""

from __future__ import annotations

from tenantry.dataplane import Reason
from tenantry.dataplane import packets as pkt
from tenantry.dataplane.reference import ReferenceBackend
from tests.helpers.dataplane import Ports, assert_denies, assert_permits

A1, A3, FW = "acme/a1/eth0", "acme/a3/eth0", "acme/fw/eth0"


def _tcp(ports: Ports, src: str, dst: str, src_ip: str, dst_ip: str, **kw: object) -> bytes:
    l4 = pkt.tcp(src_ip, dst_ip, 40000, 443)
    return pkt.ethernet(
        ports[dst].mac, ports[src].mac, 0x0800, pkt.ipv4(src_ip, dst_ip, 6, l4), **kw
    )  # type: ignore[arg-type]


def test_guest_tagged_frame_on_a_vst_port_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """No double tagging: a VST guest cannot choose its VLAN."""
    frame = _tcp(ports, A1, "acme/a2/eth0", "10.1.0.11", "10.1.0.12", tags=(111,))
    assert_denies(reference, frame, ingress=A1, reason=Reason.GUEST_TAGGED)


def test_priority_tagged_frame_on_a_vst_port_is_dropped(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """A VID 0 priority tag is still a guest tag."""
    frame = _tcp(ports, A1, "acme/a2/eth0", "10.1.0.11", "10.1.0.12", tags=(0,))
    assert_denies(reference, frame, ingress=A1, reason=Reason.GUEST_TAGGED)


def test_untagged_frame_on_a_vst_port_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """The port group tags for the guest."""
    frame = _tcp(ports, A1, "acme/a2/eth0", "10.1.0.11", "10.1.0.12")
    assert_permits(reference, frame, ingress=A1, to="acme/a2/eth0")


def test_stacked_tags_are_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """802.1Q-in-802.1Q from a trunk: refused whatever the inner VLAN."""
    frame = _tcp(ports, FW, "acme/a2/eth0", "10.1.0.5", "10.1.0.12", tags=(110, 120))
    assert_denies(reference, frame, ingress=FW, reason=Reason.STACKED_TAGS)


def test_8021ad_outer_tag_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """An 802.1ad service tag is provider business, never a guest's."""
    frame = _tcp(ports, FW, "acme/a2/eth0", "10.1.0.5", "10.1.0.12", tags=(110,), tpids=(0x88A8,))
    assert_denies(reference, frame, ingress=FW, reason=Reason.STACKED_TAGS)


def _arp(
    ports: Ports,
    src: str,
    sender_ip: str,
    target_ip: str,
    *,
    dst: str = pkt.BROADCAST,
    **kw: object,
) -> bytes:
    mac = ports[src].mac
    body = pkt.arp(1, mac, sender_ip, "00:00:00:00:00:00", target_ip)
    return pkt.ethernet(dst, mac, 0x0806, body, **kw)  # type: ignore[arg-type]


def test_trunk_tag_in_its_list_passes(reference: ReferenceBackend, ports: Ports) -> None:
    """A VGT trunk reaches the network of each VLAN in its list."""
    frame = _arp(ports, FW, "10.1.0.5", "10.1.0.12", tags=(110,))
    assert_permits(reference, frame, ingress=FW, to="acme/a2/eth0")


def test_trunk_tag_outside_its_list_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """VLAN 120 (bravo's) is not in acme's trunk list."""
    frame = _arp(ports, FW, "10.1.0.5", "10.2.0.11", tags=(120,))
    assert_denies(reference, frame, ingress=FW, reason=Reason.VLAN_NOT_IN_TRUNK)


def test_untagged_frame_on_a_trunk_is_dropped(reference: ReferenceBackend, ports: Ports) -> None:
    """There is no native VLAN."""
    frame = _arp(ports, FW, "10.1.0.5", "10.1.0.12")
    assert_denies(reference, frame, ingress=FW, reason=Reason.UNTAGGED_ON_TRUNK)


def test_trunk_frame_stays_on_the_vlan_it_was_tagged_with(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """Tagged 111, a frame for an app-network MAC is unknown on the db segment."""
    frame = _arp(ports, FW, "10.1.1.5", "10.1.0.12", dst=ports["acme/a2/eth0"].mac, tags=(111,))
    assert_denies(reference, frame, ingress=FW, reason=Reason.UNKNOWN_UNICAST)


def test_trunk_address_counts_only_on_its_own_vlan(
    reference: ReferenceBackend, ports: Ports
) -> None:
    """The trunk's db address is valid on VLAN 111; its app address is not."""
    assert_permits(
        reference, _arp(ports, FW, "10.1.1.5", "10.1.1.13", tags=(111,)), ingress=FW, to=A3
    )
    wrong = _arp(ports, FW, "10.1.0.5", "10.1.1.13", tags=(111,))
    assert_denies(reference, wrong, ingress=FW, reason=Reason.ARP_SPOOF)
