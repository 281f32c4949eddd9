"""Port security: provider-owned checks on what a guest sends, evaluated before anything else."""

from __future__ import annotations

from tenantry.compiler import PortFlag
from tenantry.compiler.addresses import link_local_halves
from tenantry.dataplane.frames import (
    ETH_ARP,
    ETH_IPV4,
    ETH_IPV6,
    ETH_RARP,
    PROTO_ICMPV6,
    PROTO_UDP,
    Frame,
)
from tenantry.dataplane.reference.tables import Tables, address_key
from tenantry.dataplane.verdict import Reason

__all__ = ["check_port_security", "is_policy_exempt"]

ALLOWED_ETHERTYPES = frozenset({ETH_IPV4, ETH_ARP, ETH_IPV6, ETH_RARP})
DHCP_CLIENT_SOURCE_TYPES = frozenset({1, 3})
"""DHCPDISCOVER and DHCPREQUEST may come from 0.0.0.0."""
UNSPECIFIED_V6_TYPES = frozenset({133, 135, 143})
"""Router solicitation, DAD neighbour solicitation and MLDv2 reports may come from ::."""
ROUTER_MESSAGES = frozenset({134, 137})
"""Router advertisements and redirects: only from ports designated to send RAs."""
NEIGHBOUR_SIGNALLING = frozenset({130, 131, 132, 133, 134, 135, 136, 137, 143})


def _locked(tables: Tables, row: int, segment: int, version: int, address: int) -> bool:
    return tables.address_to_row.get((segment, address_key(version, address))) == row


def check_port_security(
    tables: Tables, row: int, segment: int, frame: Frame
) -> tuple[Reason, str] | None:
    """Why port security drops the frame, or None when it passes."""
    ports = tables.programs.ports
    mac = int(ports.mac[row])
    flags = int(ports.flags[row])
    if frame.ethertype == 0:
        return Reason.LLC_FRAME, "IEEE 802.3/LLC frame (BPDU, LACP, ...)"
    if frame.ethertype not in ALLOWED_ETHERTYPES:
        return Reason.ETHERTYPE, f"ethertype 0x{frame.ethertype:04x}"
    if frame.src != mac and (not flags & PortFlag.FORGED_TRANSMITS or (frame.src >> 40) & 1):
        return Reason.FORGED_SOURCE_MAC, f"source MAC {frame.src:012x} is not the port's"
    if frame.arp is not None:
        return _arp(tables, row, segment, frame, mac=mac, flags=flags)
    ip = frame.ip
    if ip is None:
        return None
    if ip.version == 6 and not ip.chain_complete:
        return Reason.INCOMPLETE_HEADER_CHAIN, "first fragment ends inside the header chain"
    if (
        ip.version == 6
        and ip.is_fragment
        and ip.fragment_offset == 0
        and ip.proto in (6, 17, 58)
        and frame.l4 is None
    ):
        return Reason.INCOMPLETE_HEADER_CHAIN, "first fragment ends inside the upper-layer header"
    if ip.version == 4:
        return _ipv4(tables, row, segment, frame, flags)
    return _ipv6(tables, row, segment, frame, mac=mac, flags=flags)


def _arp(
    tables: Tables, row: int, segment: int, frame: Frame, *, mac: int, flags: int
) -> tuple[Reason, str] | None:
    arp = frame.arp
    assert arp is not None  # noqa: S101 - checked by the caller
    if frame.ethertype == ETH_RARP:
        if arp.sender_mac != mac:
            return Reason.RARP_FOREIGN_MAC, "RARP announces another MAC"
        return None
    if arp.sender_mac != mac and not flags & PortFlag.MAC_CHANGES:
        return Reason.MAC_CHANGE, "ARP sender MAC is not the port's MAC"
    if arp.sender_ip != 0 and not _locked(tables, row, segment, 4, arp.sender_ip):
        return Reason.ARP_SPOOF, "ARP claims an address not locked to the port"
    return None


def _ipv4(
    tables: Tables, row: int, segment: int, frame: Frame, flags: int
) -> tuple[Reason, str] | None:
    ip = frame.ip
    assert ip is not None  # noqa: S101 - checked by the caller
    if ip.src == 0:
        dhcp = frame.dhcp
        if dhcp is None or dhcp.message_type not in DHCP_CLIENT_SOURCE_TYPES:
            return Reason.IPV4_SOURCE, "0.0.0.0 is only for DHCPDISCOVER/DHCPREQUEST"
    elif not _locked(tables, row, segment, 4, ip.src):
        return Reason.IPV4_SOURCE, "IPv4 source is not locked to the port"
    l4 = frame.l4
    if (
        ip.proto == PROTO_UDP
        and l4 is not None
        and l4.sport == 67
        and not flags & PortFlag.DHCP_SERVER
    ):
        return Reason.ROGUE_DHCP, "DHCP server reply from a port not designated for it"
    return None


def _ipv6(
    tables: Tables, row: int, segment: int, frame: Frame, *, mac: int, flags: int
) -> tuple[Reason, str] | None:
    ip = frame.ip
    assert ip is not None  # noqa: S101 - checked by the caller
    l4 = frame.l4
    icmp_type = l4.icmp_type if l4 is not None and ip.proto == PROTO_ICMPV6 else -1
    hi, lo = link_local_halves(mac)
    own_link_local = (hi << 64) | lo
    if ip.src == 0:
        if icmp_type not in UNSPECIFIED_V6_TYPES:
            return Reason.IPV6_SOURCE, ":: is only for DAD, router solicitation and MLD"
    elif ip.src != own_link_local and not _locked(tables, row, segment, 6, ip.src):
        return Reason.IPV6_SOURCE, "IPv6 source is not locked to the port"
    if icmp_type in ROUTER_MESSAGES and not flags & PortFlag.ROUTER_ADVERTISEMENTS:
        return Reason.ROGUE_RA, "router advertisement/redirect from a port not designated"
    nd = frame.nd
    if nd is not None:
        claimed = nd.source_mac if nd.type in (133, 135) else nd.target_mac
        if claimed is not None and claimed != mac and not flags & PortFlag.MAC_CHANGES:
            return Reason.MAC_CHANGE, "ND link-layer address option is not the port's MAC"
        claims = nd.type == 136 or (nd.type == 135 and ip.src == 0)
        if (
            claims
            and nd.target is not None
            and nd.target != own_link_local
            and not _locked(tables, row, segment, 6, nd.target)
        ):
            what = "NA for a target" if nd.type == 136 else "DAD probe for an address"
            return Reason.ND_SPOOF, f"{what} not locked to the port"
    if (
        ip.proto == PROTO_UDP
        and l4 is not None
        and l4.sport == 547
        and not flags & PortFlag.DHCP_SERVER
    ):
        return Reason.ROGUE_DHCP, "DHCPv6 server reply from a port not designated for it"
    return None


def is_policy_exempt(frame: Frame, flags: int) -> bool:
    """ARP, RARP, ND and DHCP (client messages and designated servers' replies) skip policy."""
    if frame.arp is not None:
        return True
    ip = frame.ip
    l4 = frame.l4
    if ip is None or l4 is None:
        return False
    if ip.proto == PROTO_ICMPV6:
        return l4.icmp_type in NEIGHBOUR_SIGNALLING
    if ip.proto != PROTO_UDP:
        return False
    if ip.version == 4:
        client = l4.sport == 68 and l4.dport == 67
        server = l4.sport == 67 and l4.dport == 68 and bool(flags & PortFlag.DHCP_SERVER)
    else:
        client = l4.sport == 546 and l4.dport == 547
        server = l4.sport == 547 and l4.dport == 546 and bool(flags & PortFlag.DHCP_SERVER)
    return client or server
