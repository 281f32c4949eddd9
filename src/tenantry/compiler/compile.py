"""The full compile: an estate to programs in one pass over its guests (columnar at scale)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tenantry.compiler._index import CompileIndex
from tenantry.compiler._ports import PortBuilder
from tenantry.compiler._rule_columns import RuleColumns
from tenantry.compiler.program import (
    Chain,
    CompiledPolicy,
    PortFlag,
    PortTable,
    Programs,
    RouterInterface,
    Segment,
    SegmentKind,
    VlanModeCode,
)
from tenantry.compiler.rules import compile_policy
from tenantry.compiler.selection import (
    ChainBuilder,
    RowGroups,
    build_address_sets,
    group_rows,
    owner_index,
)
from tenantry.model import (
    PROVIDER,
    Estate,
    Network,
    PortGroup,
    Ref,
    Toggle,
    TrafficShaping,
    VlanMode,
    router_mac,
)

__all__ = ["compile_estate"]

_MODE = {
    VlanMode.VST: VlanModeCode.VST,
    VlanMode.EST: VlanModeCode.EST,
    VlanMode.VGT: VlanModeCode.VGT,
}


def compile_estate(estate: Estate) -> Programs:
    """Compile an estate into programs for every host (see ``compiler.program``)."""
    index = CompileIndex()
    programs = _Builder(estate, index).build()
    index.head = programs
    return programs


@dataclass
class _GroupInfo:
    """What every port of one port group shares."""

    index: int
    mode: VlanModeCode
    flags: int
    shaping: int
    trunk: tuple[tuple[int, int], ...]


class _Builder:
    """One full compile."""

    def __init__(self, estate: Estate, index: CompileIndex) -> None:
        self.estate = estate
        self.index = index
        self.owners = (PROVIDER, *sorted(ref.name for ref in estate.tenants))
        self.owner_ids = index.owner_ids = {name: i for i, name in enumerate(self.owners)}
        self.hosts = tuple(sorted(ref.name for ref in estate.hosts))
        self.host_ids = {name: i for i, name in enumerate(self.hosts)}
        self.segments: list[Segment | None] = []
        self.segment_ids: dict[Ref, int] = {}
        self.vlan_segments: dict[tuple[str, int], int] = {}
        self.port_groups: list[str] = []
        self.port_group_ids: dict[str, int] = {}
        self.group_info: dict[str, _GroupInfo] = {}
        self.shapings: list[TrafficShaping] = []
        self.shaping_ids: dict[TrafficShaping, int] = {}
        self.vnic_names: list[str] = []
        self.vnic_name_ids: dict[str, int] = {}
        self.tagsets: list[frozenset[str]] = []
        self.raw_tagsets: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}

    def continue_from(self, previous: Programs) -> _Builder:
        """Seed the name tables with those of ``previous`` (same lineage), so new rows get
        the ids the previous programs already use."""
        self.owners, self.hosts = previous.owners, previous.hosts
        self.host_ids = {name: i for i, name in enumerate(self.hosts)}
        self.segments = list(previous.segments)
        self.segment_ids = {s.network: s.id for s in self.segments if s is not None}
        self.vlan_segments = {
            (s.physical_network, s.tag): s.id
            for s in self.segments
            if s is not None and s.kind is SegmentKind.VLAN
        }
        self.port_groups = list(previous.port_groups)
        self.port_group_ids = {name: i for i, name in enumerate(self.port_groups)}
        self.shapings = list(previous.shapings)
        self.shaping_ids = {s: i for i, s in enumerate(self.shapings)}
        self.vnic_names = list(previous.vnic_names)
        self.vnic_name_ids = {name: i for i, name in enumerate(self.vnic_names)}
        self.tagsets = list(previous.tagsets)
        return self

    def build(self) -> Programs:
        self._segments()
        guests, ports = self._ports()
        policies = self._policies()
        groups = group_rows(ports)
        address_sets = build_address_sets(
            self.index.address_set_ids,
            ports=ports,
            groups=groups,
            tagsets=self.tagsets,
            owners=self.owners,
            estate=self.estate,
            segments=self.segments,
        )
        chains, ports = self._chains(ports, groups, policies)
        self.index.owner_order, self.index.owner_starts = owner_index(ports, len(self.owners))
        return Programs(
            owners=self.owners,
            hosts=self.hosts,
            guests=guests,
            vnic_names=tuple(self.vnic_names),
            port_groups=tuple(self.port_groups),
            shapings=tuple(self.shapings),
            tagsets=tuple(self.tagsets),
            segments=tuple(self.segments),
            ports=ports,
            routers=self._routers(),
            policies=tuple(policies),
            address_sets=address_sets,
            chains=chains,
            index=self.index,
        )

    # ------------------------------------------------------------------ segments

    def _segments(self) -> None:
        estate = self.estate
        services: dict[str, str] = {}
        for ref, service in sorted(estate.shared_services.items()):
            services.setdefault(service.network, ref.name)
        mgmt = estate.provider.management_network
        for ref, network in sorted(estate.networks.items()):
            segment = _segment(len(self.segments), ref, network, estate)
            if ref.owner == PROVIDER:
                segment = _with_roles(segment, services.get(ref.name), ref.name == mgmt)
            self.segment_ids[ref] = segment.id
            if segment.kind is SegmentKind.VLAN:
                self.vlan_segments[(segment.physical_network, segment.tag)] = segment.id
            self.segments.append(segment)

    # ------------------------------------------------------------------ ports

    def _group(self, name: str) -> _GroupInfo | None:
        found = self.group_info.get(name)
        if found is not None:
            return found
        group = self.estate.port_groups.get(Ref(PROVIDER, name))
        if group is None:
            return None
        known = self.port_group_ids.get(name)
        shaping = -1
        if group.shaping is not None:
            shaping = self.shaping_ids.setdefault(group.shaping, len(self.shapings))
            if shaping == len(self.shapings):
                self.shapings.append(group.shaping)
        info = _GroupInfo(
            known if known is not None else len(self.port_groups),
            _MODE[group.vlan.mode],
            _flags(group),
            shaping,
            self._trunk(group),
        )
        if known is None:
            self.port_group_ids[name] = info.index
            self.port_groups.append(name)
        self.group_info[name] = info
        return info

    def _trunk(self, group: PortGroup) -> tuple[tuple[int, int], ...]:
        if group.vlan.mode is not VlanMode.VGT:
            return ()
        switch = self.estate.switches.get(Ref(PROVIDER, group.switch))
        if switch is None or switch.physical_network is None:
            return ()
        found = []
        for (physnet, vlan), seg in self.vlan_segments.items():
            if physnet == switch.physical_network and any(
                low <= vlan <= high for low, high in group.vlan.trunk
            ):
                found.append((vlan, seg))
        return tuple(sorted(found))

    def _tagset(self, guest_tags: tuple[str, ...], vnic_tags: tuple[str, ...]) -> int:
        raw = (guest_tags, vnic_tags)
        found = self.raw_tagsets.get(raw)
        if found is None:
            tags = frozenset(guest_tags) | frozenset(vnic_tags)
            found = self.index.tagset_ids.get(tags)
            if found is None:
                found = len(self.tagsets)
                self.index.tagset_ids[tags] = found
                self.tagsets.append(tags)
            self.raw_tagsets[raw] = found
        return found

    def _name(self, name: str) -> int:
        found = self.vnic_name_ids.get(name)
        if found is None:
            found = self.vnic_name_ids[name] = len(self.vnic_names)
            self.vnic_names.append(name)
        return found

    def _ports(self) -> tuple[tuple[Ref, ...], PortTable]:
        return PortBuilder(self).build()

    # ------------------------------------------------------------------ policies and chains

    def _policies(self) -> list[CompiledPolicy | None]:
        ids = self.index.address_set_ids

        def address_set(key: object) -> int:
            return ids.setdefault(key, len(ids))  # type: ignore[arg-type]

        compiled: list[CompiledPolicy | None] = []
        columns = RuleColumns()
        for ref, policy in sorted(self.estate.policies.items()):
            pid = len(compiled)
            self.index.policy_ids[ref] = pid
            self.index.policies_by_owner.setdefault(ref.owner, set()).add(pid)
            compiled.append(
                compile_policy(pid, ref, policy, address_set, self.index.intern, columns=columns)
            )
        columns.finish()
        return compiled

    def _chains(
        self, ports: PortTable, groups: RowGroups, policies: list[CompiledPolicy | None]
    ) -> tuple[tuple[Chain | None, ...], PortTable]:
        chains: list[Chain | None] = []
        column = np.array(ports.chain)
        candidates: dict[str, list[CompiledPolicy]] = {}
        for policy in policies:
            if policy is not None:
                candidates.setdefault(policy.ref.owner, []).append(policy)
        builder = ChainBuilder(candidates)
        chain_ids = self.index.chain_ids
        per_group = np.empty(len(groups.groups), np.int32)
        for g, (owner, tagset) in enumerate(groups.groups):
            ids = builder.chain(self.owners[owner], self.tagsets[tagset])
            chain_id = chain_ids.get(ids)
            if chain_id is None:
                chain_id = chain_ids[ids] = len(chain_ids)
                chains.append(Chain(chain_id, ids))  # a fresh index: ids are dense
            per_group[g] = chain_id
        # one scatter for every row: groups.order lists the rows group by group
        column[groups.order] = np.repeat(per_group, np.diff(groups.starts))
        return tuple(chains), replace(ports, chain=column)

    # ------------------------------------------------------------------ routers

    def _routers(self) -> tuple[RouterInterface, ...]:
        found = []
        for ref, router in sorted(self.estate.routers.items()):
            for name in router.networks:
                net_ref = Ref(ref.owner, name)
                network = self.estate.networks.get(net_ref)
                seg = self.segment_ids.get(net_ref)
                if network is None or seg is None:
                    continue
                found.append(
                    RouterInterface(
                        router=ref,
                        segment=seg,
                        mac=router_mac(ref.owner, ref.name, name),
                        gateways=tuple(s.gateway for s in network.subnets if s.gateway),
                        subnets=tuple(s.cidr for s in network.subnets),
                    )
                )
        return tuple(found)


def _segment(sid: int, ref: Ref, network: Network, estate: Estate) -> Segment:
    seg = network.segment
    if seg.type == "vlan":
        physical = estate.physical_networks.get(Ref(PROVIDER, seg.physical_network))
        return Segment(
            id=sid,
            network=ref,
            kind=SegmentKind.VLAN,
            physical_network=seg.physical_network,
            tag=seg.vlan,
            subnets=tuple(s.cidr for s in network.subnets),
            gateways=tuple(s.gateway for s in network.subnets if s.gateway),
            default_action=network.default_action,
            mtu=physical.mtu if physical is not None else 1500,
        )
    return Segment(
        id=sid,
        network=ref,
        kind=SegmentKind.OVERLAY,
        physical_network="",
        tag=seg.overlay,
        subnets=tuple(s.cidr for s in network.subnets),
        gateways=tuple(s.gateway for s in network.subnets if s.gateway),
        default_action=network.default_action,
    )


def _with_roles(segment: Segment, service: str | None, management: bool) -> Segment:
    if service is None and not management:
        return segment
    return Segment(
        id=segment.id,
        network=segment.network,
        kind=segment.kind,
        physical_network=segment.physical_network,
        tag=segment.tag,
        subnets=segment.subnets,
        gateways=segment.gateways,
        default_action=segment.default_action,
        service=service,
        management=management,
        mtu=segment.mtu,
    )


def _flags(group: PortGroup) -> int:
    security = group.security
    flags = PortFlag.NONE
    if security.promiscuous is Toggle.ACCEPT:
        flags |= PortFlag.PROMISCUOUS
    if security.mac_changes is Toggle.ACCEPT:
        flags |= PortFlag.MAC_CHANGES
    if security.forged_transmits is Toggle.ACCEPT:
        flags |= PortFlag.FORGED_TRANSMITS
    if security.dhcp_server is Toggle.ACCEPT:
        flags |= PortFlag.DHCP_SERVER
    if security.router_advertisements is Toggle.ACCEPT:
        flags |= PortFlag.ROUTER_ADVERTISEMENTS
    return int(flags)
