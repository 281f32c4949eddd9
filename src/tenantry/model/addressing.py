"""Addresses: unique MACs, unique IPs inside their subnets, one network per segment."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from ipaddress import IPv4Address, IPv6Address

from tenantry.errors import Violation
from tenantry.model._violations import Collector
from tenantry.model.estate import Estate
from tenantry.model.ids import PROVIDER, Ref
from tenantry.model.kinds import Kind
from tenantry.model.network import Network, vlan_in

__all__ = ["check_addressing", "link_local", "router_mac", "segment_key"]


def router_mac(owner: str, router: str, network: str) -> str:
    """The MAC of a router's interface on a network: stable, unicast, locally administered."""
    digest = hashlib.sha256(f"{owner}/{router}/{network}".encode()).digest()
    return "0a:" + ":".join(f"{b:02x}" for b in digest[:5])


def link_local(mac: str) -> IPv6Address:
    """The EUI-64 IPv6 link-local address derived from a MAC (always allowed as a source)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    groups = [f"{eui[i] << 8 | eui[i + 1]:x}" for i in range(0, 8, 2)]
    return IPv6Address("fe80::" + ":".join(groups))


def segment_key(network: Network) -> tuple[str, str, int]:
    """What identifies a segment on the wire: (vlan, physical network, id) or (overlay, '', id)."""
    segment = network.segment
    if segment.type == "vlan":
        return ("vlan", segment.physical_network, segment.vlan)
    return ("overlay", "", segment.overlay)


def check_addressing(estate: Estate) -> list[Violation]:
    """MAC uniqueness, IP uniqueness and containment, segment uniqueness and VLAN ranges."""
    out = Collector()
    _check_segments(estate, out)
    _check_macs(estate, out)
    _check_ips(estate, out)
    return out.violations


def _check_segments(estate: Estate, out: Collector) -> None:
    holders: dict[tuple[str, str, int], Ref] = {}
    for ref, network in sorted(estate.networks.items()):
        key = segment_key(network)
        what = f"VLAN {key[2]} on {key[1]}" if key[0] == "vlan" else f"overlay id {key[2]}"
        other = holders.get(key)
        if other is not None:
            rule = "segment-tenant-unique" if other.owner != ref.owner else "segment-unique"
            whose = "another tenant's" if other.owner != ref.owner else "another"
            out.add(
                rule,
                f"{what} is already {whose} network {other}",
                kind=Kind.NETWORK,
                ref=ref,
                field="segment",
                objects=(f"network {other}", f"network {ref}"),
            )
        else:
            holders[key] = ref
        segment = network.segment
        if segment.type == "vlan":
            physical = estate.physical_networks.get(Ref(PROVIDER, segment.physical_network))
            if physical is not None and not vlan_in(physical.vlan_ranges, segment.vlan):
                out.add(
                    "vlan-range",
                    f"VLAN {segment.vlan} is outside {segment.physical_network}'s ranges",
                    kind=Kind.NETWORK,
                    ref=ref,
                    field="segment.vlan",
                )
        for i, subnet in enumerate(network.subnets):
            for j in range(i):
                if network.subnets[j].cidr.overlaps(subnet.cidr):
                    out.add(
                        "subnet-overlap",
                        f"{subnet.cidr} overlaps {network.subnets[j].cidr}",
                        kind=Kind.NETWORK,
                        ref=ref,
                        field=f"subnets[{i}].cidr",
                    )


def _check_macs(estate: Estate, out: Collector) -> None:
    seen: dict[str, str] = {}

    def claim(mac: str, holder: str, kind: Kind, ref: Ref, field: str) -> None:
        other = seen.get(mac)
        if other is not None:
            out.add(
                "mac-unique",
                f"MAC {mac} is already used by {other}",
                kind=kind,
                ref=ref,
                field=field,
                objects=(other, holder),
            )
        else:
            seen[mac] = holder

    for ref, guest in sorted(estate.guests.items()):
        for i, vnic in enumerate(guest.vnics):
            claim(vnic.mac, f"vnic {ref}/{vnic.name}", Kind.GUEST, ref, f"vnics[{i}].mac")
        if guest.management.mac is not None:
            claim(
                guest.management.mac, f"guest {ref} management", Kind.GUEST, ref, "management.mac"
            )
    for ref, router in sorted(estate.routers.items()):
        for i, network in enumerate(router.networks):
            mac = router_mac(ref.owner, ref.name, network)
            claim(mac, f"router {ref} on {network}", Kind.ROUTER, ref, f"networks[{i}]")


def _check_ips(estate: Estate, out: Collector) -> None:
    used: dict[Ref, dict[IPv4Address | IPv6Address, str]] = defaultdict(dict)

    def claim(
        network: Ref, address: IPv4Address | IPv6Address, holder: str, loc: tuple[Kind, Ref, str]
    ) -> None:
        kind, ref, field = loc
        net = estate.networks.get(network)
        if net is None:
            return
        if not any(address in subnet.cidr for subnet in net.subnets):
            out.add(
                "ip-in-subnet",
                f"{address} is outside every subnet of network {network}",
                kind=kind,
                ref=ref,
                field=field,
            )
        other = used[network].get(address)
        if other is not None:
            out.add(
                "ip-unique",
                f"{address} is already used by {other} in network {network}",
                kind=kind,
                ref=ref,
                field=field,
                objects=(other, holder),
            )
        else:
            used[network][address] = holder

    for ref, declared in sorted(estate.networks.items()):
        for i, subnet in enumerate(declared.subnets):
            if subnet.gateway is not None:
                loc = (Kind.NETWORK, ref, f"subnets[{i}].gateway")
                claim(ref, subnet.gateway, f"gateway of {ref}", loc)
    for entry in sorted(estate.vnics.values(), key=lambda e: e.ref):
        index = next(i for i, v in enumerate(entry.guest.vnics) if v is entry.vnic)
        networks = estate.segment_networks(entry)
        for j, address in enumerate(entry.vnic.addresses):
            loc = (Kind.GUEST, entry.guest_ref, f"vnics[{index}].addresses[{j}]")
            if address.version == 6 and address.is_link_local:
                out.add(
                    "ip-link-local",
                    "link-local addresses are derived from the MAC; do not list them",
                    kind=Kind.GUEST,
                    ref=entry.guest_ref,
                    field=loc[2],
                )
                continue
            homes = [n for n in networks if _contains(estate, n, address)] or list(networks[:1])
            for network in homes:
                claim(network, address, f"vnic {entry.ref}", loc)
    mgmt = estate.provider.management_network
    if mgmt is not None:
        for ref, guest in sorted(estate.guests.items()):
            if guest.management.address is not None:
                loc = (Kind.GUEST, ref, "management.address")
                claim(Ref(PROVIDER, mgmt), guest.management.address, f"guest {ref}", loc)


def _contains(estate: Estate, network: Ref, address: IPv4Address | IPv6Address) -> bool:
    net = estate.networks.get(network)
    return net is not None and any(address in s.cidr for s in net.subnets)
