"""Network namespaces and veths through pyroute2 (netlink), no shelling out.

:func:`inside` moves the calling thread into a namespace for a moment: a socket opened there
stays in that namespace after we leave, which is how scapy sends and sniffs from guests
without a process per guest. ``/proc/sys/net`` written from inside configures that namespace.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyroute2 import IPRoute, NetlinkError, NetNS, netns
from pyroute2.ethtool import Ethtool

from tenantry.errors import BackendUnavailableError

__all__ = [
    "add_vlan",
    "configure_guest_nic",
    "create_namespace",
    "create_veth",
    "delete_link",
    "delete_namespace",
    "inside",
    "ipv6_routes",
    "namespace_exists",
    "neighbour_table",
]

_OFFLOADS = ("tx-checksum-ip-generic", "tx-checksum-ipv4", "tx-checksum-ipv6")


def namespace_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def create_namespace(name: str) -> None:
    """A new namespace with loopback up, IPv6 DAD off (lab addresses are unique by admission)."""
    try:
        netns.create(name)
        with NetNS(name) as ns:
            ns.link("set", index=ns.link_lookup(ifname="lo")[0], state="up")
        with inside(name):
            Path("/proc/sys/net/ipv6/conf/default/accept_dad").write_text("0\n")
    except (OSError, NetlinkError) as exc:
        raise BackendUnavailableError(f"cannot create network namespace {name}: {exc}") from exc


def delete_namespace(name: str) -> None:
    if namespace_exists(name):
        try:
            netns.remove(name)
        except OSError as exc:
            raise BackendUnavailableError(f"cannot delete namespace {name}: {exc}") from exc


@contextmanager
def inside(name: str | None) -> Iterator[None]:
    """Run the block with this thread in namespace ``name`` (None: stay where we are)."""
    if name is None:
        yield
        return
    netns.pushns(name)
    try:
        yield
    finally:
        netns.popns()


def create_veth(host_netns: str | None, host_dev: str, guest_netns: str, guest_dev: str) -> None:
    """A veth pair: ``host_dev`` in the hypervisor's namespace, ``guest_dev`` in the guest's."""
    try:
        with _netlink(host_netns) as host:
            if host.link_lookup(ifname=host_dev):
                host.link("del", ifname=host_dev)
            host.link(
                "add",
                ifname=host_dev,
                kind="veth",
                peer={"ifname": guest_dev, "net_ns_fd": guest_netns},
            )
            host.link("set", index=host.link_lookup(ifname=host_dev)[0], state="up")
        _checksum_offload_off(host_netns, host_dev)
    except (OSError, NetlinkError) as exc:
        raise BackendUnavailableError(f"cannot create veth {host_dev}/{guest_dev}: {exc}") from exc


def configure_guest_nic(
    guest_netns: str, dev: str, mac: str, addresses: tuple[str, ...], gateways: tuple[str, ...]
) -> None:
    """MAC, addresses (``ip/prefix``), link up, default routes, checksum offload off."""
    try:
        with NetNS(guest_netns) as ns:
            index = ns.link_lookup(ifname=dev)[0]
            ns.link("set", index=index, address=mac)
            ns.link("set", index=index, state="up")
            _address(ns, index, addresses, gateways)
        _checksum_offload_off(guest_netns, dev)
    except (OSError, NetlinkError, IndexError) as exc:
        raise BackendUnavailableError(
            f"cannot configure {dev} in namespace {guest_netns}: {exc}"
        ) from exc


def _address(ns: NetNS, index: int, addresses: tuple[str, ...], gateways: tuple[str, ...]) -> None:
    """Give the link ``index`` its addresses and default routes through ``gateways``."""
    for address in addresses:
        iface = ipaddress.ip_interface(address)
        ns.addr("add", index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)
    for gateway in gateways:
        family_default = "default" if ipaddress.ip_address(gateway).version == 4 else "::/0"
        ns.route("replace", dst=family_default, gateway=gateway, oif=index)


def add_vlan(
    guest_netns: str, parent: str, vlan: int, addresses: tuple[str, ...], gateways: tuple[str, ...]
) -> str:
    """A VLAN subinterface ``<parent>.<vlan>`` (the guest tags its own frames); its name."""
    name = f"{parent}.{vlan}"[:15]
    try:
        with NetNS(guest_netns) as ns:
            parent_index = ns.link_lookup(ifname=parent)[0]
            ns.link("add", ifname=name, kind="vlan", link=parent_index, vlan_id=vlan)
            index = ns.link_lookup(ifname=name)[0]
            ns.link("set", index=index, state="up")
            _address(ns, index, addresses, gateways)
    except (OSError, NetlinkError, IndexError) as exc:
        raise BackendUnavailableError(f"cannot add VLAN {vlan} on {parent}: {exc}") from exc
    return name


def delete_link(netns_name: str | None, dev: str) -> None:
    """Delete a link (a veth deletes its peer too); a missing one is fine."""
    if netns_name is not None and not namespace_exists(netns_name):
        return
    try:
        with _netlink(netns_name) as ns:
            if ns.link_lookup(ifname=dev):
                ns.link("del", ifname=dev)
    except (OSError, NetlinkError) as exc:
        raise BackendUnavailableError(f"cannot delete link {dev}: {exc}") from exc


def _netlink(netns_name: str | None) -> IPRoute:
    return NetNS(netns_name) if netns_name else IPRoute()


def _checksum_offload_off(netns_name: str | None, dev: str) -> None:
    # The userspace datapath forwards partial checksums unfinished; TCP then fails.
    with inside(netns_name), Ethtool() as tool:
        features = tool.get_features(dev)
        for name in _OFFLOADS:
            if name in features.features:
                features.features[name].enable = False
        tool.set_features(dev, features)


def neighbour_table(netns: str) -> dict[str, str]:
    """A guest's neighbour cache: IP address → MAC (what ARP/ND poisoning would change)."""
    found: dict[str, str] = {}
    try:
        with NetNS(netns) as ns:
            for entry in ns.get_neighbours():
                address = entry.get_attr("NDA_DST")
                mac = entry.get_attr("NDA_LLADDR")
                if address and mac:
                    found[str(address)] = str(mac)
    except (OSError, NetlinkError) as exc:
        raise BackendUnavailableError(f"cannot read neighbours in {netns}: {exc}") from exc
    return found


def ipv6_routes(netns: str) -> list[str]:
    """A guest's IPv6 routes, as text (what a rogue router advertisement would add)."""
    try:
        with NetNS(netns) as ns:
            return sorted(
                f"{route.get_attr('RTA_DST') or 'default'}/{route['dst_len']} via "
                f"{route.get_attr('RTA_GATEWAY') or '-'}"
                for route in ns.get_routes(family=10)
                if route["table"] == 254
            )
    except (OSError, NetlinkError) as exc:
        raise BackendUnavailableError(f"cannot read routes in {netns}: {exc}") from exc
