"""Programs to port groups, ACLs, address sets and the log meter (pure: rows, no database).

A compiled policy is one port group (the ports its chains reach) holding one ACL per rule,
whatever the number of ports: peers that are selectors or services are address sets, CIDRs are
literal. Fixed guard ACLs (see ``bands``) hang off infrastructure port groups whose membership
says what each port may do (send DHCP replies, send router advertisements, is an isolated
consumer of a shared service).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from tenantry.compiler import CompiledPolicy, CompiledRule, PeerKind, PortFlag, Programs
from tenantry.dataplane.ovn import names
from tenantry.dataplane.ovn.bands import (
    DEFAULT_ALLOW,
    GUARD_ALLOW,
    GUARD_DROP,
    RARP_ALLOW,
    PlacedRule,
    default_scopes,
    place_rules,
)
from tenantry.dataplane.ovn.match import (
    MatchSpec,
    PeerSpec,
    Unless,
    matches_everything,
    meets,
    render,
)
from tenantry.dataplane.ovn.ports import LogicalPort, logical_ports
from tenantry.dataplane.ovn.rows import Ref, Row
from tenantry.dataplane.ovn.switches import RELAXED_FLAGS
from tenantry.model import PROVIDER, Action, DefaultAction, Direction, Tier

__all__ = ["EXEMPT_ICMP6_TYPES", "LOG_RATE", "infrastructure_rows", "policy_rows"]

LOG_RATE = 100
"""Logged packets per second, all ACLs together (the meter's drop band)."""
EXEMPT_ICMP6_TYPES = "{130, 131, 132, 133, 134, 135, 136, 137, 143}"
_DHCP_CLIENT = "((udp.src == 68 && udp.dst == 67) || (udp.src == 546 && udp.dst == 547))"
_DHCP_SERVER = "((udp.src == 67 && udp.dst == 68) || (udp.src == 547 && udp.dst == 546))"
_ACL_NAME_LIMIT = 63


def _lsp(name: str) -> Ref:
    return Ref("Logical_Switch_Port", name)


def _acl(key: str, priority: int, egress: bool, match: str, action: str, **extra: object) -> Row:
    columns: dict[str, object] = {
        "priority": priority,
        "direction": "from-lport" if egress else "to-lport",
        "match": match,
        "action": action,
    }
    columns.update(extra)
    return Row("ACL", key, columns)


def _group(key: str, members: Iterable[str], acls: Iterable[Row], **external: str) -> Row:
    return Row(
        "Port_Group",
        names.group_name(key),
        {
            "ports": sorted(_lsp(name) for name in set(members)),
            "external_ids": {"tenantry-group": key, **external},
        },
        {"acls": tuple(acls)},
    )


# ---------------------------------------------------------------------- policies


def policy_rows(programs: Programs, owners: set[str] | None = None) -> list[Row]:
    """Port groups with ACLs for the policies (of ``owners``, or all), and their address sets."""
    lsps_of_row = _PortNames(programs)
    live = [p for p in programs.policies if p is not None]
    rows_of: dict[int, frozenset[int]] = {}

    def ports_of(policy: CompiledPolicy) -> frozenset[int]:
        if policy.id not in rows_of:
            rows_of[policy.id] = frozenset(programs.ports_of_policy(policy.id).tolist())
        return rows_of[policy.id]

    def scopes(policy: CompiledPolicy) -> tuple[str, ...]:
        if policy.tier in (Tier.PROVIDER, Tier.BASELINE) or policy.ref.owner != PROVIDER:
            return default_scopes(policy)
        return tuple(scope_rows(policy))

    def scope_rows(policy: CompiledPolicy) -> dict[str, frozenset[int]]:
        """The policy's ports by the scope its priorities are placed in (see bands)."""
        if policy.tier in (Tier.PROVIDER, Tier.BASELINE) or policy.ref.owner != PROVIDER:
            return {default_scopes(policy)[0]: ports_of(policy)}
        by_owner: dict[str, set[int]] = {}
        for row in ports_of(policy):
            by_owner.setdefault(programs.owner_of(row), set()).add(row)
        return {owner: frozenset(rows) for owner, rows in by_owner.items()}

    # Only the bands the wanted owners' rules live in need placing (all, for a full build).
    # (A provider change may touch every tenant's band: its policies can sit in tenant tiers.)
    wanted = None if owners is None or PROVIDER in owners else set(owners)
    placed = place_rules(live, scopes, wanted)

    rows: list[Row] = []
    used_sets: set[int] = set()
    for policy in live:
        if owners is not None and policy.ref.owner not in owners:
            continue
        key = names.policy_key(policy.ref)
        member_rows = ports_of(policy)
        acls: list[Row] = []
        partitions: dict[str, tuple[list[int], list[Row]]] = {}
        passes = []
        for scope, scoped in sorted(scope_rows(policy).items()):
            for index, rule in enumerate(policy.rules):
                place = placed[(policy.id, index, scope)]
                if rule.peer.address_set >= 0:
                    used_sets.add(rule.peer.address_set)
                if rule.action is Action.PASS:
                    passes.append({"rule": index, "priority": place.priority, "scope": scope})
                    continue
                for subset, excluded in _by_exclusions(programs, place, scoped, ports_of):
                    if subset == member_rows:
                        acls.append(_rule_acl(programs, place, key, excluded))
                        continue
                    part = f"{key}#{index}@{scope}/{','.join(str(j) for j in excluded)}"
                    partitions[part] = (
                        sorted(subset),
                        [_rule_acl(programs, place, part, excluded)],
                    )
        rows.append(
            _group(
                key,
                [name for row in sorted(member_rows) for name in lsps_of_row.get(row, [])],
                acls,
                **{
                    "tenantry-policy": str(policy.ref),
                    "tenantry-tier": str(policy.tier),
                    "tenantry-order": str(policy.order),
                    "tenantry-applies-to": json.dumps(
                        [
                            policy.applies_to.owner,
                            list(policy.applies_to.tags),
                            None
                            if policy.applies_to.tenants is None
                            else list(policy.applies_to.tenants),
                        ]
                    ),
                    "tenantry-rules": json.dumps(
                        [_rule_metadata(programs, policy, r) for r in policy.rules]
                    ),
                    "tenantry-passes": json.dumps(passes),
                },
            )
        )
        rows.extend(
            _group(
                part,
                [name for row in subset for name in lsps_of_row.get(row, [])],
                part_acls,
                **{"tenantry-partition-of": str(policy.ref)},
            )
            for part, (subset, part_acls) in sorted(partitions.items())
        )
    rows.extend(_address_set_rows(programs, used_sets))
    return rows


class _PortNames(dict[int, list[str]]):
    """Logical port names of a port row, computed when first asked for (a policy change
    touches a few ports of a large estate)."""

    def __init__(self, programs: Programs) -> None:
        super().__init__()
        self.programs = programs

    def __missing__(self, row: int) -> list[str]:
        name = self.programs.port_name(row)
        trunk = (
            self.programs.ports.trunk_of(row) if int(self.programs.ports.segment[row]) < 0 else ()
        )
        found = [names.trunk_child(name, vlan) for vlan, _ in trunk] if trunk else [name]
        self[row] = found
        return found

    def get(self, row: int, default: object = None) -> list[str]:
        del default  # every live row has names
        return self[row]


def _by_exclusions(
    programs: Programs,
    place: PlacedRule,
    member_rows: frozenset[int],
    ports_of: Callable[[CompiledPolicy], frozenset[int]],
) -> list[tuple[frozenset[int], tuple[int, ...]]]:
    """The rule's ports split by which earlier pass rules of the tier cover them.

    A pass rule excludes its match only on its own ports; OVN cannot say "port not in group",
    so each distinct combination of covering pass rules gets its own ports (and port group).
    A combination with a pass rule that matches everything leaves the rule nothing to do.
    """
    groups: dict[tuple[int, ...], set[int]] = {}
    covering = [ports_of(policy) for policy, _ in place.excluded]
    for row in member_rows:
        signature = tuple(j for j, rows in enumerate(covering) if row in rows)
        groups.setdefault(signature, set()).add(row)
    found = []
    protocol = place.rule.protocol
    for signature, rows in sorted(groups.items()):
        unless = [_unless(programs, place.excluded[j][1]) for j in signature]
        if any(matches_everything(u, protocol) for u in unless):
            continue
        relevant = tuple(j for j, u in zip(signature, unless, strict=True) if meets(u, protocol))
        found.append((frozenset(rows), relevant))
    if not member_rows:
        found.append((member_rows, ()))
    return found


def _rule_metadata(
    programs: Programs, policy: CompiledPolicy, rule: CompiledRule
) -> dict[str, object]:
    """What a rule's ACL does not show: its origin, a service peer's name, and for a ``pass``
    rule (which writes no ACL) the match it passes."""
    found: dict[str, object] = {"origin": rule.origin.rule, "service": rule.peer.service}
    if rule.action is Action.PASS:
        found["pass"] = {
            "direction": str(rule.direction),
            "match": render(rule_spec(programs, policy, rule)),
        }
    return found


def rule_spec(programs: Programs, policy: CompiledPolicy, rule: CompiledRule) -> MatchSpec:
    """The match of one rule on its policy's port group (without pass exclusions)."""
    return MatchSpec(
        egress=rule.direction is Direction.EGRESS,
        group=names.group_name(names.policy_key(policy.ref)),
        protocol=rule.protocol,
        ports=rule.ports,
        peer=rule_peer(rule, programs),
    )


def _unless(programs: Programs, rule: CompiledRule) -> Unless:
    return Unless(rule.protocol, rule.ports, rule_peer(rule, programs))


def rule_peer(rule: CompiledRule, programs: Programs | None = None) -> PeerSpec:
    """The peer of a rule as a match spec (address sets by name)."""
    if rule.peer.kind is PeerKind.CIDR:
        return PeerSpec(cidrs=rule.peer.cidrs)
    if rule.peer.kind in (PeerKind.SELECTOR, PeerKind.SERVICE) and programs is not None:
        aset = programs.address_sets[rule.peer.address_set]
        if aset is not None:
            return PeerSpec(address_set=names.address_set_base(names.address_set_key(aset.key)))
    return PeerSpec()


def _rule_acl(
    programs: Programs, place: PlacedRule, group_key: str, excluded: tuple[int, ...]
) -> Row:
    rule = place.rule
    exclusions = tuple(_unless(programs, place.excluded[j][1]) for j in excluded)
    spec = MatchSpec(
        egress=rule.direction is Direction.EGRESS,
        group=names.group_name(group_key),
        protocol=rule.protocol,
        ports=rule.ports,
        peer=rule_peer(rule, programs),
        exclusions=exclusions,
    )
    extra: dict[str, object] = {
        "name": str(rule.origin)[:_ACL_NAME_LIMIT],
        "external_ids": {
            "tenantry-rule": f"{place.policy.ref}#{place.index}",
            "tenantry-scope": place.scope,
        },
    }
    if rule.log:
        extra.update(log=True, severity="info", meter=names.LOG_METER)
    return _acl(
        f"{group_key}#{place.index}",
        place.priority,
        spec.egress,
        render(spec),
        "allow-related" if rule.action is Action.ALLOW else "drop",
        **extra,
    )


def _address_set_rows(programs: Programs, used: set[int]) -> list[Row]:
    rows = []
    for aset_id in sorted(used):
        aset = programs.address_sets[aset_id]
        if aset is None:
            continue
        key = names.address_set_key(aset.key)
        members = " ".join(sorted(programs.port_name(r) for r in aset.ports.tolist()))
        for family in (4, 6):
            addresses = [
                str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
                for net in aset.prefixes.networks()
                if net.version == family
            ]
            rows.append(
                Row(
                    "Address_Set",
                    names.address_set_name(key, family),
                    {
                        "addresses": addresses,
                        "external_ids": {
                            "tenantry-set": key,
                            "tenantry-set-key": json.dumps(
                                [
                                    aset.key.owner,
                                    list(aset.key.tags),
                                    None if aset.key.tenants is None else list(aset.key.tenants),
                                    aset.key.service,
                                ]
                            ),
                            "tenantry-members": members,
                        },
                    },
                )
            )
    return rows


# ---------------------------------------------------------------------- infrastructure


def infrastructure_rows(programs: Programs) -> list[Row]:
    """Guard port groups and ACLs, segment default actions, shaping groups, the log meter."""
    ports, _ = logical_ports(programs)
    flags = programs.ports.flags
    vifs = [port.name for port in ports]

    def having(flag: PortFlag, present: bool = True) -> list[str]:
        return [p.name for p in ports if bool(int(flags[p.row]) & flag) is present]

    uplinks = [
        names.router_switch_port(leg.router, segment.network)
        for leg in programs.routers
        if (segment := programs.segments[leg.segment]) is not None
    ]
    uplinks += [
        names.localnet_port(s.network)
        for s in programs.segments
        if s is not None and str(s.kind) == "vlan"
    ]
    g = {key: names.group_name(key) for key in names.INFRA_GROUPS}
    vif, up = g["infra/vifs"], g["infra/uplinks"]
    servers, others = g["infra/dhcp-servers"], g["infra/no-dhcp-server"]
    no_ra, consumers = g["infra/no-router-advertisement"], g["infra/service-consumers"]
    exempt = f"(arp || (icmp6 && icmp6.type == {EXEMPT_ICMP6_TYPES}) || {_DHCP_CLIENT})"
    rows = [
        _group(
            "infra/vifs",
            vifs,
            [
                _acl(
                    "infra/exempt-out", GUARD_ALLOW, True, f"inport == @{vif} && {exempt}", "allow"
                ),
                _acl(
                    "infra/exempt-in", GUARD_ALLOW, False, f"outport == @{vif} && {exempt}", "allow"
                ),
                *_relaxed_port_acls(programs, ports),
            ],
        ),
        _group(
            "infra/uplinks",
            uplinks,
            [
                _acl("infra/uplink-in", GUARD_ALLOW, True, f"inport == @{up}", "allow-related"),
                _acl("infra/uplink-out", GUARD_ALLOW, False, f"outport == @{up}", "allow-related"),
            ],
        ),
        _group(
            "infra/dhcp-servers",
            having(PortFlag.DHCP_SERVER),
            [
                _acl(
                    "infra/dhcp-server-out",
                    GUARD_ALLOW,
                    True,
                    f"inport == @{servers} && {_DHCP_SERVER}",
                    "allow",
                ),
                _acl(
                    "infra/dhcp-server-in",
                    GUARD_ALLOW,
                    False,
                    f"outport == @{vif} && inport == @{servers} && {_DHCP_SERVER}",
                    "allow",
                ),
            ],
        ),
        _group(
            "infra/no-dhcp-server",
            having(PortFlag.DHCP_SERVER, present=False),
            [
                _acl(
                    "infra/rogue-dhcp",
                    GUARD_DROP,
                    True,
                    f"inport == @{others} && ((ip4 && udp.src == 67) || (ip6 && udp.src == 547))",
                    "drop",
                ),
            ],
        ),
        _group(
            "infra/no-router-advertisement",
            having(PortFlag.ROUTER_ADVERTISEMENTS, present=False),
            [
                _acl(
                    "infra/rogue-ra",
                    GUARD_DROP,
                    True,
                    f"inport == @{no_ra} && icmp6 && icmp6.type == {{134, 137}}",
                    "drop",
                ),
            ],
        ),
        _group(
            "infra/service-consumers",
            having(PortFlag.SERVICE_CONSUMER),
            [
                # eth.src, not just inport: an ARP reply that OVN's responder sends back to a
                # consumer on a provider's behalf comes "from" the consumer itself.
                _acl(
                    "infra/service-isolation",
                    GUARD_DROP,
                    False,
                    f"outport == @{consumers} && inport == @{consumers} && "
                    f"eth.src == {{{_consumer_macs(programs, ports)}}}",
                    "drop",
                ),
            ],
        ),
    ]
    rows.extend(_segment_groups(programs, ports))
    rows.extend(_shaping_groups(programs, ports))
    rows.append(_log_meter())
    return rows


def _consumer_macs(programs: Programs, ports: list[LogicalPort]) -> str:
    macs = {
        programs.port_mac(p.row)
        for p in ports
        if int(programs.ports.flags[p.row]) & PortFlag.SERVICE_CONSUMER
    }
    return ", ".join(sorted(macs)) or "00:00:00:00:00:00"


def _relaxed_port_acls(programs: Programs, ports: list[LogicalPort]) -> list[Row]:
    """Port security, as ACLs, for ports whose port group relaxes it (port_security is empty).

    Forged transmits lets any unicast source MAC through, MAC changes lets ARP carry another
    MAC; locked addresses stay locked either way. OVN exempts ND (with hop limit 255) from
    ACLs on switches with stateful ACLs, so ND from such a port is not checked here.
    """
    found: list[Row] = []
    for port in ports:
        flags = int(programs.ports.flags[port.row])
        if not flags & RELAXED_FLAGS:
            continue
        mac = programs.port_mac(port.row)
        addresses = programs.ports.addresses(port.row)
        v4 = ", ".join([str(a) for a in addresses if a.version == 4] + ["0.0.0.0"])  # noqa: S104
        v6 = ", ".join(
            [str(a) for a in addresses if a.version == 6]
            + [str(programs.ports.link_local(port.row)), "::"]
        )
        me = f'inport == "{port.name}"'
        checks = {
            "ipv4-source": f"{me} && ip4 && ip4.src != {{{v4}}}",
            "ipv4-unspecified": f"{me} && ip4.src == 0.0.0.0",
            "ipv6-source": f"{me} && ip6 && ip6.src != {{{v6}}}",
            "ipv6-unspecified": f"{me} && ip6.src == ::",
            "arp-address": f"{me} && arp && arp.spa != {{{v4}}}",
        }
        # The unspecified source is fine for DHCP clients and for DAD/RS/MLD: those are
        # allowed above the drops (ip.proto and icmp6.type only take equality).
        found.append(
            _acl(
                f"infra/relaxed/{port.name}/dhcp-client",
                RARP_ALLOW,
                True,
                f"{me} && ip4.src == 0.0.0.0 && udp.src == 68 && udp.dst == 67",
                "allow",
            )
        )
        found.append(
            _acl(
                f"infra/relaxed/{port.name}/unspecified-v6",
                RARP_ALLOW,
                True,
                f"{me} && ip6.src == :: && icmp6.type == {{133, 135, 143}}",
                "allow",
            )
        )
        if not flags & PortFlag.FORGED_TRANSMITS:
            checks["source-mac"] = f"{me} && eth.src != {mac}"
        if not flags & PortFlag.MAC_CHANGES:
            checks["arp-mac"] = f"{me} && arp && arp.sha != {mac}"
        found.extend(
            _acl(f"infra/relaxed/{port.name}/{name}", GUARD_DROP, True, match, "drop")
            for name, match in sorted(checks.items())
        )
    return found


def _segment_groups(programs: Programs, ports: list[LogicalPort]) -> list[Row]:
    rows = []
    for segment in programs.segments:
        if segment is None:
            continue
        key = names.segment_group_key(segment.network)
        group = names.group_name(key)
        acls = []
        if segment.default_action is DefaultAction.ALLOW:
            acls = [
                _acl(
                    f"{key}#default-out",
                    DEFAULT_ALLOW,
                    True,
                    f"inport == @{group} && ip",
                    "allow-related",
                ),
                _acl(
                    f"{key}#default-in",
                    DEFAULT_ALLOW,
                    False,
                    f"outport == @{group} && ip",
                    "allow-related",
                ),
            ]
        members = [p.name for p in ports if p.segment == segment.id]
        rows.append(_group(key, members, acls, **{"tenantry-network": str(segment.network)}))
    return rows


def _shaping_groups(programs: Programs, ports: list[LogicalPort]) -> list[Row]:
    by_profile: dict[int, list[str]] = {}
    for port in ports:
        index = int(programs.ports.shaping[port.row])
        if index >= 0:
            by_profile.setdefault(index, []).append(port.name)
    rows = []
    for index, members in sorted(by_profile.items()):
        shaping = programs.shapings[index]
        key = names.shaping_group_key(shaping.average, shaping.peak, shaping.burst)
        rows.append(_group(key, members, []))
    return rows


def _log_meter() -> Row:
    return Row(
        "Meter",
        names.LOG_METER,
        {"unit": "pktps", "fair": [True]},
        {
            "bands": (
                Row("Meter_Band", f"{names.LOG_METER}#drop", {"action": "drop", "rate": LOG_RATE}),
            )
        },
    )
