"""Programs to logical switches, switch ports, routers and QoS (pure: rows, no database).

One logical switch per segment. A VLAN segment gets a localnet port tagged with its VLAN on
its physical network; an overlay segment asks for its overlay id as the Geneve key
(``requested-tnl-key``). Guest-facing ports carry their locked MAC and addresses both as
``addresses`` (OVN then knows every MAC and address from configuration: no learning, no
flooding of unknown unicast) and as ``port_security`` (source MAC, ARP, ND and IP source
checks). ``requested-chassis`` pins each port to its host's chassis. Everything the data plane
does not enforce (tags, port group names) rides along in ``external_ids`` for read-back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from ipaddress import ip_interface

from tenantry.compiler import PortFlag, PortKind, Programs, SegmentKind
from tenantry.dataplane.ovn import names
from tenantry.dataplane.ovn.bands import AFTER_LB
from tenantry.dataplane.ovn.ports import LogicalPort, logical_ports
from tenantry.dataplane.ovn.rows import Ref, Row
from tenantry.model import Ref as ModelRef
from tenantry.model import TrafficShaping

__all__ = ["RELAXED_FLAGS", "port_metadata", "switch_rows"]

RELAXED_FLAGS = PortFlag.FORGED_TRANSMITS | PortFlag.MAC_CHANGES
_QOS_PRIORITY = 100


def switch_rows(programs: Programs, chassis_of_host: Mapping[str, str] | None) -> list[Row]:
    """Logical switches (with ports, QoS), trunk parent switches and logical routers."""
    ports, parents = logical_ports(programs)
    by_segment: dict[int, list[Row]] = defaultdict(list)
    for port in ports:
        by_segment[port.segment].append(_vif_row(programs, port, chassis_of_host))
    for leg in programs.routers:
        segment = programs.segments[leg.segment]
        if segment is None:
            continue
        by_segment[leg.segment].append(
            Row(
                "Logical_Switch_Port",
                names.router_switch_port(leg.router, segment.network),
                {
                    "type": "router",
                    "addresses": ["router"],
                    "options": {"router-port": names.router_port(leg.router, segment.network)},
                },
            )
        )
    rows: list[Row] = []
    for segment in programs.segments:
        if segment is None:
            continue
        members = list(by_segment.get(segment.id, []))
        other_config: dict[str, str] = {}
        if segment.kind is SegmentKind.VLAN:
            members.append(
                Row(
                    "Logical_Switch_Port",
                    names.localnet_port(segment.network),
                    {
                        "type": "localnet",
                        "options": {"network_name": segment.physical_network},
                        "tag": segment.tag,
                    },
                )
            )
        else:
            other_config["requested-tnl-key"] = str(segment.tag)
        key = names.segment_key(segment.network)
        rows.append(
            Row(
                "Logical_Switch",
                key,
                {
                    "name": key,
                    "other_config": other_config,
                    "external_ids": {
                        "tenantry-network": str(segment.network),
                        "tenantry-kind": str(segment.kind),
                        "tenantry-physical-network": segment.physical_network,
                        "tenantry-tag": str(segment.tag),
                        "tenantry-subnets": " ".join(str(s) for s in segment.subnets),
                        "tenantry-gateways": " ".join(str(g) for g in segment.gateways),
                        "tenantry-service": segment.service or "",
                        "tenantry-management": "true" if segment.management else "false",
                        "tenantry-mtu": str(segment.mtu),
                    },
                },
                {
                    "ports": tuple(members),
                    "acls": (_after_lb_acl(key),),
                    "qos_rules": _qos_rows(programs, key, ports, segment.id),
                },
            )
        )
    rows.extend(_trunk_switch(programs, parent, chassis_of_host) for parent in parents)
    rows.extend(_router_rows(programs))
    return rows


def _after_lb_acl(switch_key: str) -> Row:
    # OVN 23.03 with default_acl_drop also drops, after load balancing, what the ACL stage
    # allowed; this allow in the after-LB stage hands the verdict back to the ACL stage.
    return Row(
        "ACL",
        f"{switch_key}#after-lb",
        {
            "priority": AFTER_LB,
            "direction": "from-lport",
            "match": "1",
            "action": "allow-related",
            "options": {"apply-after-lb": "true"},
        },
    )


def _addresses(programs: Programs, row: int, segment: int | None = None) -> str:
    """``MAC addr...``; for a trunk child only the addresses its VLAN's subnets hold."""
    found = programs.ports.addresses(row)
    owner = programs.segments[segment] if segment is not None else None
    if owner is not None:
        found = tuple(a for a in found if any(a in subnet for subnet in owner.subnets))
    locked = " ".join(str(a) for a in found)
    return f"{programs.port_mac(row)} {locked}".strip()


def port_metadata(programs: Programs, row: int) -> dict[str, str]:
    """What a port row holds that no data plane enforces, for read-back."""
    table = programs.ports
    guest = programs.guests[int(table.guest[row])]
    group = int(table.port_group[row])
    host = int(table.host[row])
    shaping = int(table.shaping[row])
    return {
        "tenantry-tenant": programs.owner_of(row),
        "tenantry-guest": guest.name,
        "tenantry-vnic": programs.vnic_names[int(table.vnic_name[row])],
        "tenantry-kind": "management" if int(table.kind[row]) == PortKind.MANAGEMENT else "vnic",
        "tenantry-port-group": programs.port_groups[group] if group >= 0 else "",
        "tenantry-host": programs.hosts[host] if host >= 0 else "",
        "tenantry-vlan-mode": str(int(table.vlan_mode[row])),
        "tenantry-flags": str(int(table.flags[row])),
        "tenantry-tags": " ".join(sorted(programs.tagsets[int(table.tagset[row])])),
        "tenantry-shaping": _shaping_text(programs.shapings[shaping]) if shaping >= 0 else "",
    }


def _shaping_text(shaping: TrafficShaping) -> str:
    return f"{shaping.average} {shaping.peak} {shaping.burst}"


def _vif_row(
    programs: Programs, port: LogicalPort, chassis_of_host: Mapping[str, str] | None
) -> Row:
    table = programs.ports
    addresses = _addresses(programs, port.row, port.segment if port.parent else None)
    relaxed = bool(int(table.flags[port.row]) & RELAXED_FLAGS)
    columns: dict[str, object] = {
        "addresses": [addresses],
        # A relaxed port (provider-approved forged transmits or MAC changes) cannot be
        # expressed as OVN port security; its checks become per-port guard ACLs instead.
        "port_security": [] if relaxed else [addresses],
        "options": _chassis_option(programs, port.row, chassis_of_host),
        "external_ids": {**port_metadata(programs, port.row), "tenantry-port": port.name},
    }
    if port.parent is not None:
        columns["parent_name"] = port.parent
        columns["tag"] = port.vlan
    return Row("Logical_Switch_Port", port.name, columns)


def _chassis_option(
    programs: Programs, row: int, chassis_of_host: Mapping[str, str] | None
) -> dict[str, str]:
    host = int(programs.ports.host[row])
    if chassis_of_host is None or host < 0:
        return {}
    chassis = chassis_of_host.get(programs.hosts[host])
    return {} if chassis is None else {"requested-chassis": chassis}


def _trunk_switch(
    programs: Programs, parent: LogicalPort, chassis_of_host: Mapping[str, str] | None
) -> Row:
    key = names.trunk_switch_key(parent.name)
    mac = programs.port_mac(parent.row)
    port = Row(
        "Logical_Switch_Port",
        parent.name,
        {
            "addresses": [mac],
            "port_security": [mac],
            "options": _chassis_option(programs, parent.row, chassis_of_host),
            "external_ids": {
                **port_metadata(programs, parent.row),
                "tenantry-port": parent.name,
                # the order of the locked addresses, which the children split by VLAN
                "tenantry-addresses": " ".join(
                    str(a) for a in programs.ports.addresses(parent.row)
                ),
            },
        },
    )
    return Row(
        "Logical_Switch",
        key,
        {"name": key, "external_ids": {"tenantry-trunk": parent.name}},
        {"ports": (port,)},
    )


def _router_rows(programs: Programs) -> list[Row]:
    legs: dict[ModelRef, list[Row]] = defaultdict(list)
    for leg in programs.routers:
        segment = programs.segments[leg.segment]
        if segment is None:
            continue
        networks = []
        for gateway in leg.gateways:
            subnet = next((s for s in leg.subnets if gateway in s), None)
            if subnet is not None:
                networks.append(str(ip_interface(f"{gateway}/{subnet.prefixlen}")))
        legs[leg.router].append(
            Row(
                "Logical_Router_Port",
                names.router_port(leg.router, segment.network),
                {
                    "mac": leg.mac,
                    "networks": networks,
                    "external_ids": {
                        "tenantry-network": str(segment.network),
                        "tenantry-subnets": " ".join(str(s) for s in leg.subnets),
                        "tenantry-gateways": " ".join(networks),
                    },
                },
            )
        )
    rows = []
    for ref, ports in legs.items():
        key = names.router_key(ref)
        rows.append(
            Row(
                "Logical_Router",
                key,
                {
                    "name": key,
                    "options": {
                        # Neighbours come from configuration, never from what guests claim.
                        "always_learn_from_arp_request": "false",
                        "dynamic_neigh_routers": "true",
                    },
                    "external_ids": {"tenantry-router": str(ref)},
                },
                {"ports": tuple(ports)},
            )
        )
    return rows


def _qos_rows(
    programs: Programs, switch_key: str, ports: list[LogicalPort], segment: int
) -> tuple[Row, ...]:
    table = programs.ports
    profiles = sorted(
        {
            int(table.shaping[port.row])
            for port in ports
            if port.segment == segment and int(table.shaping[port.row]) >= 0
        }
    )
    rows = []
    for index in profiles:
        shaping = programs.shapings[index]
        group = names.group_name(
            names.shaping_group_key(shaping.average, shaping.peak, shaping.burst)
        )
        rows.append(
            Row(
                "QoS",
                f"{switch_key}#shape/{shaping.average}-{shaping.peak}-{shaping.burst}",
                {
                    "priority": _QOS_PRIORITY,
                    "direction": "from-lport",
                    "match": f"inport == @{group}",
                    # OVN 23.03 QoS has a rate and a burst, no peak: the peak is not enforced.
                    "bandwidth": {
                        "rate": max(1, shaping.average // 1000),
                        "burst": max(1, shaping.burst * 8 // 1000),
                    },
                },
            )
        )
    return tuple(rows)


def port_ref(name: str) -> Ref:
    return Ref("Logical_Switch_Port", name)
