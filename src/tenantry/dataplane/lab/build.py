"""Lab plans from compiled programs: one guest per estate guest, one vNIC per port row.

Addresses get the prefix length of the subnet that holds them; a vNIC whose segment has a
router leg gets that leg's gateway as default route (the first such vNIC of the guest, per
family). A VGT trunk vNIC carries no address itself: each VLAN of its trunk becomes a tagged
subinterface holding the trunk's addresses of that VLAN's subnets.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv6Address

from tenantry.compiler import PortKind, Programs
from tenantry.dataplane.lab.plan import GuestPlan, LabPlan, NicPlan, VlanPlan
from tenantry.model import Estate, Ref

__all__ = ["plan_lab"]

IpAddress = IPv4Address | IPv6Address


def plan_lab(
    programs: Programs, estate: Estate, chassis_of_host: Mapping[str, str], prefix: str
) -> LabPlan:
    """The lab guests for the programs, on the chassis their hosts map to."""
    rows_by_guest: dict[int, list[int]] = {}
    for row in programs.live_rows().tolist():
        rows_by_guest.setdefault(int(programs.ports.guest[row]), []).append(row)
    chassis_names = sorted(set(chassis_of_host.values()))
    guests = []
    for index, (guest_id, rows) in enumerate(sorted(rows_by_guest.items())):
        ref = programs.guests[guest_id]
        host = int(programs.ports.host[rows[0]])
        chassis = chassis_of_host.get(programs.hosts[host]) if host >= 0 else None
        if chassis is None:
            chassis = chassis_names[index % len(chassis_names)]
        routed: set[int] = set()
        nics = tuple(_nic(programs, row, routed) for row in rows)
        model = estate.guests.get(Ref(ref.owner, ref.name))
        cpu = memory = None
        if model is not None:
            cpu = float(model.cpu.limit or model.cpu.count)
            memory = int(model.memory.limit or model.memory.size)
        guests.append(GuestPlan(str(ref), chassis, nics, cpu, memory))
    return LabPlan(prefix, tuple(guests))


def _with_prefix(programs: Programs, segment: int, address: IpAddress) -> str:
    found = programs.segments[segment] if segment >= 0 else None
    for subnet in found.subnets if found is not None else ():
        if address in subnet:
            return f"{address}/{subnet.prefixlen}"
    return f"{address}/{address.max_prefixlen}"


def _gateways(programs: Programs, segment: int, routed: set[int]) -> tuple[str, ...]:
    """The router gateways of a segment, for families without a default route yet."""
    found = []
    for leg in programs.routers:
        if leg.segment != segment:
            continue
        for gateway in leg.gateways:
            if gateway.version not in routed:
                routed.add(gateway.version)
                found.append(str(gateway))
    return tuple(found)


def _nic(programs: Programs, row: int, routed: set[int]) -> NicPlan:
    table = programs.ports
    name = programs.port_name(row)
    if int(table.kind[row]) == PortKind.MANAGEMENT:
        ifname = "mgmt0"
    else:
        ifname = programs.vnic_names[int(table.vnic_name[row])]
    addresses = table.addresses(row)
    segment = int(table.segment[row])
    if segment >= 0:
        return NicPlan(
            ifname,
            name,
            programs.port_mac(row),
            tuple(_with_prefix(programs, segment, a) for a in addresses),
            _gateways(programs, segment, routed),
        )
    vlans = []
    for vlan, seg in table.trunk_of(row):
        found = programs.segments[seg]
        held = [a for a in addresses if found is not None and any(a in s for s in found.subnets)]
        vlans.append(
            VlanPlan(
                vlan,
                tuple(_with_prefix(programs, seg, a) for a in held),
                _gateways(programs, seg, routed),
            )
        )
    return NicPlan(ifname, name, programs.port_mac(row), vlans=tuple(vlans))
