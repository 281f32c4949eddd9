"""Northbound rows back into programs: what OVN enforces, in the IR verification reads.

Enforced facts come from enforcing columns: MACs and locked addresses from ``port_security``,
segments from localnet tags and tunnel keys, VLAN trunks from child ports, DHCP/RA designation
and shared-service isolation from guard port group membership, default actions from the
default ACLs, rules from parsed ACL matches (priority gives their order, ACL action and
direction their action and direction), chains from port group membership, address sets from
their addresses. What no data plane enforces (tags, port group names, rule origins) comes from
``external_ids``. Finally the programs read back are translated again and compared with the
database: any row they do not reproduce exactly (a hand edit) raises EnforcementDriftError,
so verification never proves something about rules it cannot see.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from ipaddress import ip_address, ip_network
from typing import Any

from tenantry.compiler import (
    AddressSet,
    AddressSetKey,
    CompiledPeer,
    CompiledPolicy,
    CompiledRule,
    PeerKind,
    PrefixSet,
    Programs,
    RouterInterface,
    RuleOrigin,
    Segment,
    SegmentKind,
)
from tenantry.dataplane.ovn import names
from tenantry.dataplane.ovn.match import parse
from tenantry.dataplane.ovn.nb import NorthboundClient
from tenantry.dataplane.ovn.portrows import PortColumns
from tenantry.dataplane.ovn.rows import KEY_OWNER
from tenantry.dataplane.ovn.sync import external_ids
from tenantry.dataplane.ovn.translate import GLOBAL_OPTIONS, desired_rows
from tenantry.errors import EnforcementDriftError
from tenantry.model import Action, DefaultAction, Direction, Ref, Tier

__all__ = ["read_programs"]

Snapshot = dict[str, list[dict[str, Any]]]
_TABLES = (
    "Logical_Switch",
    "Logical_Switch_Port",
    "Port_Group",
    "ACL",
    "Address_Set",
    "Logical_Router",
    "Logical_Router_Port",
)


def snapshot(client: NorthboundClient) -> Snapshot:
    """The owned rows of the tables read back, as plain dicts (uuid references as strings)."""
    found: Snapshot = {}
    client.settle()
    with client.lock:
        for table in _TABLES:
            rows = []
            for row in client.idl.tables[table].rows.values():
                ids = external_ids(row)
                if ids.get(KEY_OWNER) != client.owner:
                    continue
                entry = {"_uuid": str(row.uuid)}
                for column in client.idl.tables[table].columns:
                    entry[column] = _plain(getattr(row, column))
                rows.append(entry)
            found[table] = rows
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "uuid"):
        return str(value.uuid)
    return value


def read_programs(
    client: NorthboundClient, chassis_of_host: Mapping[str, str] | None = None
) -> Programs:
    """Programs rebuilt from the database; EnforcementDriftError when it holds hand edits."""
    programs = build_programs(snapshot(client))
    differences = client.drift(desired_rows(programs, chassis_of_host), options=GLOBAL_OPTIONS)
    if differences:
        shown = "; ".join(str(change) for change in differences[:5])
        more = f" (and {len(differences) - 5} more)" if len(differences) > 5 else ""
        raise EnforcementDriftError(
            f"the Northbound database holds {len(differences)} row(s) that the programs read "
            f"back do not reproduce: {shown}{more}"
        )
    return programs


def build_programs(snap: Snapshot) -> Programs:
    """Programs from a snapshot (pure)."""
    lsp_by_uuid = {row["_uuid"]: row for row in snap["Logical_Switch_Port"]}
    groups = {row["name"]: row for row in snap["Port_Group"]}
    members = {name: {lsp_by_uuid[u]["name"] for u in row["ports"] if u in lsp_by_uuid}
               for name, row in groups.items()}  # fmt: skip
    segments = _segments(snap, lsp_by_uuid, groups)
    segment_ids = {str(s.network): s.id for s in segments}
    guard = {key: members.get(names.group_name(key), set()) for key in names.INFRA_GROUPS}
    columns = PortColumns()
    for switch in sorted(snap["Logical_Switch"], key=lambda r: r["name"]):
        network = switch["external_ids"].get("tenantry-network")
        trunk = switch["external_ids"].get("tenantry-trunk")
        for uuid in switch["ports"]:
            port = lsp_by_uuid.get(uuid)
            if port is None or port["type"] or port["parent_name"]:
                continue
            if network is not None:
                columns.add(port, segment_ids[network], (), guard)
            elif trunk is not None:
                children = [
                    child
                    for child in snap["Logical_Switch_Port"]
                    if child["parent_name"] == [port["name"]] and child["tag"]
                ]
                pairs = tuple(
                    sorted(
                        (int(child["tag"][0]), segment_ids[_network_of(snap, child)])
                        for child in children
                    )
                )
                columns.add(port, -1, pairs, guard, children)
    address_sets, set_ids = _address_sets(snap, columns)
    policies = _policies(snap, groups, set_ids)
    table, chains = columns.table(policies, members)
    return Programs(
        owners=columns.owners(),
        hosts=tuple(columns.hosts),
        guests=tuple(columns.guests),
        vnic_names=tuple(columns.vnic_names),
        port_groups=tuple(columns.port_groups),
        shapings=tuple(columns.shapings),
        tagsets=tuple(columns.tagsets),
        segments=tuple(segments),
        ports=table,
        routers=_routers(snap, segment_ids),
        policies=tuple(policies),
        address_sets=tuple(address_sets),
        chains=chains,
    )


def _network_of(snap: Snapshot, port: Mapping[str, Any]) -> str:
    for switch in snap["Logical_Switch"]:
        if port["_uuid"] in switch["ports"]:
            return str(switch["external_ids"].get("tenantry-network", ""))
    raise EnforcementDriftError(f"logical switch port {port['name']} is on no tenantry switch")


def _segments(
    snap: Snapshot, lsp_by_uuid: Mapping[str, Any], groups: Mapping[str, Any]
) -> list[Segment]:
    found = []
    switches = [s for s in snap["Logical_Switch"] if "tenantry-network" in s["external_ids"]]
    for index, switch in enumerate(sorted(switches, key=lambda s: s["name"])):
        ids = switch["external_ids"]
        network = Ref.parse(ids["tenantry-network"])
        localnet = [
            lsp_by_uuid[u]
            for u in switch["ports"]
            if lsp_by_uuid.get(u, {}).get("type") == "localnet"
        ]
        if localnet and localnet[0]["tag"]:
            kind, tag = SegmentKind.VLAN, int(localnet[0]["tag"][0])
            physical = str(localnet[0]["options"].get("network_name", ""))
        elif "requested-tnl-key" in switch["other_config"]:
            kind, tag, physical = (
                SegmentKind.OVERLAY,
                int(switch["other_config"]["requested-tnl-key"]),
                "",
            )
        else:
            raise EnforcementDriftError(f"switch {switch['name']} has neither VLAN nor overlay key")
        segment_group = groups.get(names.group_name(names.segment_group_key(network)))
        allows = segment_group is not None and bool(segment_group["acls"])
        found.append(
            Segment(
                id=index,
                network=network,
                kind=kind,
                physical_network=physical,
                tag=tag,
                subnets=tuple(ip_network(s) for s in ids.get("tenantry-subnets", "").split()),
                gateways=tuple(ip_address(g) for g in ids.get("tenantry-gateways", "").split()),
                default_action=DefaultAction.ALLOW if allows else DefaultAction.DENY,
                service=ids.get("tenantry-service") or None,
                management=ids.get("tenantry-management") == "true",
                mtu=int(ids.get("tenantry-mtu", "1500")),
            )
        )
    return found


def _address_sets(snap: Snapshot, columns: PortColumns) -> tuple[list[AddressSet], dict[str, int]]:
    by_key: dict[str, dict[int, Mapping[str, Any]]] = {}
    for row in snap["Address_Set"]:
        key = row["external_ids"].get("tenantry-set")
        if key is not None:
            by_key.setdefault(key, {})[4 if row["name"].endswith("_ip4") else 6] = row
    found: list[AddressSet] = []
    ids: dict[str, int] = {}
    for key in sorted(by_key):
        pair = by_key[key]
        first = next(iter(pair.values()))
        owner, tags, tenants, service = json.loads(first["external_ids"]["tenantry-set-key"])
        addresses = [a for family in sorted(pair) for a in pair[family]["addresses"]]
        member_names = first["external_ids"].get("tenantry-members", "").split()
        ids[names.address_set_base(key)] = len(found)
        found.append(
            AddressSet(
                id=len(found),
                key=AddressSetKey(
                    owner, tuple(tags), None if tenants is None else tuple(tenants), service
                ),
                prefixes=PrefixSet.of(ip_network(a, strict=False) for a in addresses),
                ports=columns.rows_of(member_names),
            )
        )
    return found, ids


def _policies(
    snap: Snapshot, groups: Mapping[str, Any], set_ids: Mapping[str, int]
) -> list[CompiledPolicy]:
    acl_by_uuid = {row["_uuid"]: row for row in snap["ACL"]}
    # A provider policy in a tenant tier is written once per tenant ("scope"), each with its
    # own priorities; read one scope of it (the same rules, in the same order).
    rule_acls: dict[str, dict[str, dict[int, Mapping[str, Any]]]] = {}
    for group in groups.values():
        for uuid in group["acls"]:
            acl = acl_by_uuid[uuid]
            origin = acl["external_ids"].get("tenantry-rule")
            if origin is not None:
                policy, _, index = origin.rpartition("#")
                scope = acl["external_ids"].get("tenantry-scope", "")
                by_scope = rule_acls.setdefault(policy, {}).setdefault(scope, {})
                by_scope.setdefault(int(index), acl)
    found: list[CompiledPolicy] = []
    for name in sorted(groups):
        group = groups[name]
        ids = group["external_ids"]
        if "tenantry-policy" not in ids:
            continue
        ref = Ref.parse(ids["tenantry-policy"])
        tier = Tier(ids["tenantry-tier"])
        metadata = json.loads(ids["tenantry-rules"])
        scopes = rule_acls.get(str(ref), {})
        recorded = json.loads(ids["tenantry-passes"])
        scope = min(scopes) if scopes else min((p["scope"] for p in recorded), default="")
        passes = {p["priority"]: p["rule"] for p in recorded if p["scope"] == scope}
        entries: list[tuple[int, CompiledRule]] = []
        for index, found_acl in scopes.get(scope, {}).items():
            entries.append(
                (found_acl["priority"], _rule(ref, tier, found_acl, metadata[index], set_ids))
            )
        for priority, index in passes.items():
            entries.append((priority, _pass_rule(ref, tier, metadata[index], set_ids)))
        applies = json.loads(ids["tenantry-applies-to"])
        found.append(
            CompiledPolicy(
                id=len(found),
                ref=ref,
                tier=tier,
                order=int(ids["tenantry-order"]),
                applies_to=AddressSetKey(
                    applies[0], tuple(applies[1]), None if applies[2] is None else tuple(applies[2])
                ),
                rules=tuple(rule for _, rule in sorted(entries, key=lambda e: -e[0])),
            )
        )
    return found


def _rule(
    ref: Ref,
    tier: Tier,
    acl: Mapping[str, Any],
    metadata: Mapping[str, Any],
    set_ids: Mapping[str, int],
) -> CompiledRule:
    try:
        spec = parse(acl["match"])
    except ValueError as exc:
        raise EnforcementDriftError(f"ACL of policy {ref}: {exc}") from exc
    if spec.peer.address_set is not None:
        aset = set_ids.get(spec.peer.address_set, -1)
        kind = PeerKind.SERVICE if metadata.get("service") else PeerKind.SELECTOR
        peer = CompiledPeer(kind, address_set=aset, service=metadata.get("service"))
    elif spec.peer.cidrs:
        peer = CompiledPeer(PeerKind.CIDR, cidrs=spec.peer.cidrs)
    else:
        peer = CompiledPeer(PeerKind.ANY)
    action = {"allow-related": Action.ALLOW, "drop": Action.DENY}.get(acl["action"])
    if action is None:
        raise EnforcementDriftError(f"ACL of policy {ref} has action {acl['action']!r}")
    return CompiledRule(
        origin=RuleOrigin(ref, int(metadata["origin"])),
        tier=tier,
        action=action,
        direction=Direction.EGRESS if acl["direction"] == "from-lport" else Direction.INGRESS,
        protocol=spec.protocol,
        ports=spec.ports,
        peer=peer,
        log=bool(acl["log"]),
    )


def _pass_rule(
    ref: Ref, tier: Tier, metadata: Mapping[str, Any], set_ids: Mapping[str, int]
) -> CompiledRule:
    # A pass rule writes no ACL; its match lives in metadata, and its effect (the exclusions
    # in every later rule of its tier) is checked when the programs are translated again.
    shown = metadata["pass"]
    acl = {
        "match": shown["match"],
        "action": "allow-related",
        "direction": "from-lport" if shown["direction"] == "egress" else "to-lport",
        "log": False,
    }
    rule = _rule(ref, tier, acl, metadata, set_ids)
    return CompiledRule(
        rule.origin, tier, Action.PASS, rule.direction, rule.protocol, rule.ports, rule.peer
    )


def _routers(snap: Snapshot, segment_ids: Mapping[str, int]) -> tuple[RouterInterface, ...]:
    lrp_by_uuid = {row["_uuid"]: row for row in snap["Logical_Router_Port"]}
    found = []
    for router in sorted(snap["Logical_Router"], key=lambda r: r["name"]):
        ref = Ref.parse(router["external_ids"]["tenantry-router"])
        for uuid in router["ports"]:
            port = lrp_by_uuid[uuid]
            network = port["external_ids"]["tenantry-network"]
            gateways = tuple(ip_address(n.split("/")[0]) for n in _in_written_order(port))
            found.append(
                RouterInterface(
                    router=ref,
                    segment=segment_ids[network],
                    mac=port["mac"],
                    gateways=gateways,
                    subnets=tuple(
                        ip_network(s) for s in port["external_ids"]["tenantry-subnets"].split()
                    ),
                )
            )
    return tuple(found)


def _in_written_order(port: Mapping[str, Any]) -> list[str]:
    order = port["external_ids"].get("tenantry-gateways", "").split()
    networks = list(port["networks"])
    return sorted(networks, key=lambda n: order.index(n) if n in order else len(order))
