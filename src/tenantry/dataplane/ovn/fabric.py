"""The physical side of a one-machine deployment: hypervisor namespaces and their fabric.

Each chassis runs in its own network namespace (the tap devices of a netdev datapath are then
its own, and deleting the namespace removes them). A "fabric" namespace holds a Linux bridge
that stands in for the physical switch: every chassis has an uplink veth into it. The chassis
puts that uplink on its provider bridge ``br-phys``, which carries both VLAN-backed segments
(OVN localnet ports, tagged) and Geneve (the tunnel address lives on ``br-phys``' local port,
as userspace tunnelling requires). Tapping the fabric bridge shows everything that leaves a
hypervisor, which is what the attack oracle watches.

These are a few ``ip`` commands for the hypervisor plumbing; guests are the lab's business.
"""

from __future__ import annotations

from pathlib import Path

from tenantry.dataplane.ovn.daemons import run_tool

__all__ = [
    "FABRIC_BRIDGE",
    "UPLINK",
    "address_provider_bridge",
    "create_namespace",
    "delete_namespace",
    "link_to_fabric",
    "namespace_exists",
]

FABRIC_BRIDGE = "fabric"
UPLINK = "uplink"


def namespace_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def create_namespace(name: str) -> bool:
    """Create a network namespace with loopback up; False when it already existed."""
    if namespace_exists(name):
        return False
    run_tool(["ip", "netns", "add", name])
    run_tool(["ip", "-n", name, "link", "set", "lo", "up"])
    return True


def delete_namespace(name: str) -> None:
    if namespace_exists(name):
        run_tool(["ip", "netns", "del", name], check=False)


def create_fabric(netns: str) -> bool:
    """The fabric namespace and its bridge (VLAN-transparent); False when it existed."""
    created = create_namespace(netns)
    if created:
        run_tool(["ip", "-n", netns, "link", "add", FABRIC_BRIDGE, "type", "bridge"])
        run_tool(["ip", "-n", netns, "link", "set", FABRIC_BRIDGE, "up"])
    return created


def link_to_fabric(chassis: str, chassis_netns: str, fabric_netns: str) -> None:
    """A veth from the chassis (``uplink``) to a port of the fabric bridge named after it."""
    if _link_exists(chassis_netns, UPLINK):
        return
    run_tool(
        [
            "ip",
            "-n",
            fabric_netns,
            "link",
            "add",
            chassis,
            "type",
            "veth",
            "peer",
            "name",
            UPLINK,
            "netns",
            chassis_netns,
        ]
    )
    run_tool(["ip", "-n", fabric_netns, "link", "set", chassis, "master", FABRIC_BRIDGE, "up"])
    run_tool(["ip", "-n", chassis_netns, "link", "set", UPLINK, "up"])
    for netns, dev in ((fabric_netns, chassis), (chassis_netns, UPLINK)):
        # The userspace datapath computes no checksums for frames the kernel left unfinished.
        run_tool(["ethtool", "-K", dev, "tx", "off"], netns=netns, check=False)


def address_provider_bridge(netns: str | None, bridge: str, address: str) -> None:
    """Put the tunnel address (``ip/prefix``) on the provider bridge's local port."""
    run_tool([*_ip(netns), "addr", "replace", address, "dev", bridge])
    run_tool([*_ip(netns), "link", "set", bridge, "up"])


def _ip(netns: str | None) -> list[str]:
    return ["ip"] if netns is None else ["ip", "-n", netns]


def _link_exists(netns: str, name: str) -> bool:
    out = run_tool(["ip", "-n", netns, "-o", "link", "show", "dev", name], check=False)
    return bool(out.strip())
