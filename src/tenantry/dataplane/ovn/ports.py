"""Which logical switch ports a port row of the programs becomes.

A vNIC (or management interface) is one logical switch port named like the port
(``acme/web-1/eth0``), which is also its ``iface-id``. A VGT trunk is a parent port, alone in
a switch of its own (so its untagged frames reach nobody: no native VLAN), plus one child port
per granted VLAN (``acme/fw/eth0@110``, ``parent_name`` + ``tag``) on that VLAN's segment;
OVN hands a frame tagged with another VLAN to no port at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenantry.compiler import Programs
from tenantry.dataplane.ovn.names import trunk_child

__all__ = ["LogicalPort", "logical_ports"]


@dataclass(frozen=True)
class LogicalPort:
    """One guest-facing logical switch port: its name, port row, segment, and trunk VLAN."""

    name: str
    row: int
    segment: int
    parent: str | None = None
    vlan: int | None = None


def logical_ports(programs: Programs) -> tuple[list[LogicalPort], list[LogicalPort]]:
    """Guest-facing logical ports (vNICs, management, trunk children) and trunk parents."""
    ports: list[LogicalPort] = []
    parents: list[LogicalPort] = []
    table = programs.ports
    for row in programs.live_rows().tolist():
        name = programs.port_name(row)
        segment = int(table.segment[row])
        if segment >= 0:
            ports.append(LogicalPort(name, row, segment))
            continue
        parents.append(LogicalPort(name, row, -1))
        ports.extend(
            LogicalPort(trunk_child(name, vlan), row, seg, parent=name, vlan=vlan)
            for vlan, seg in table.trunk_of(row)
        )
    return ports, parents
