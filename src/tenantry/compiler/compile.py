"""The full compile: an estate to programs in one pass over its guests (columnar at scale)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address

import numpy as np
import numpy.typing as npt

from tenantry.compiler._index import CompileIndex
from tenantry.compiler.addresses import mac_int
from tenantry.compiler.program import (
    Chain,
    CompiledPolicy,
    PortFlag,
    PortKind,
    PortTable,
    Programs,
    RouterInterface,
    Segment,
    SegmentKind,
    VlanModeCode,
)
from tenantry.compiler.rules import compile_policy
from tenantry.compiler.selection import RowGroups, build_address_sets, chain_for, group_rows
from tenantry.model import (
    PROVIDER,
    Estate,
    Guest,
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
MANAGEMENT_NAME = ".management"


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


@dataclass
class _Columns:
    """Port columns while they are being filled (Python lists, turned into arrays once)."""

    owner: list[int] = field(default_factory=list)
    guest: list[int] = field(default_factory=list)
    vnic_name: list[int] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    host: list[int] = field(default_factory=list)
    port_group: list[int] = field(default_factory=list)
    segment: list[int] = field(default_factory=list)
    vlan_mode: list[int] = field(default_factory=list)
    mac: list[int] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    shaping: list[int] = field(default_factory=list)
    tagset: list[int] = field(default_factory=list)
    v4_counts: list[int] = field(default_factory=list)
    v4: list[int] = field(default_factory=list)
    v6_counts: list[int] = field(default_factory=list)
    v6: list[int] = field(default_factory=list)
    trunk_counts: list[int] = field(default_factory=list)
    trunk_vlans: list[int] = field(default_factory=list)
    trunk_segments: list[int] = field(default_factory=list)


class _Builder:
    """One full compile."""

    def __init__(self, estate: Estate, index: CompileIndex) -> None:
        self.estate = estate
        self.index = index
        self.owners = (PROVIDER, *sorted(ref.name for ref in estate.tenants))
        self.owner_ids = {name: i for i, name in enumerate(self.owners)}
        self.hosts = tuple(sorted(ref.name for ref in estate.hosts))
        self.host_ids = {name: i for i, name in enumerate(self.hosts)}
        self.segments: list[Segment | None] = []
        self.segment_ids: dict[Ref, int] = {}
        self.vlan_segments: dict[tuple[str, int], int] = {}
        self.port_groups: list[str] = []
        self.group_info: dict[str, _GroupInfo] = {}
        self.shapings: list[TrafficShaping] = []
        self.shaping_ids: dict[TrafficShaping, int] = {}
        self.vnic_names: list[str] = []
        self.vnic_name_ids: dict[str, int] = {}
        self.tagsets: list[frozenset[str]] = []
        self.raw_tagsets: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}

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
        shaping = -1
        if group.shaping is not None:
            shaping = self.shaping_ids.setdefault(group.shaping, len(self.shapings))
            if shaping == len(self.shapings):
                self.shapings.append(group.shaping)
        info = _GroupInfo(
            len(self.port_groups),
            _MODE[group.vlan.mode],
            _flags(group),
            shaping,
            self._trunk(group),
        )
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
        estate = self.estate
        cols = _Columns()
        guests: list[Ref] = []
        services = {ref.name: Ref(PROVIDER, s.network) for ref, s in estate.shared_services.items()}
        mgmt_name = estate.provider.management_network
        mgmt_segment = self.segment_ids.get(Ref(PROVIDER, mgmt_name), -1) if mgmt_name else -1
        mgmt_name_id = self._name(MANAGEMENT_NAME)
        for guest_ref, guest in estate.guests.items():
            guest_id = len(guests)
            guests.append(guest_ref)
            owner = self.owner_ids.get(guest_ref.owner, -1)
            host = self.host_ids.get(guest.host, -1) if guest.host is not None else -1
            for vnic in guest.vnics:
                info = self._group(vnic.port_group)
                if vnic.network is not None:
                    segment = self.segment_ids.get(Ref(guest_ref.owner, vnic.network), -1)
                elif vnic.service is not None and vnic.service in services:
                    segment = self.segment_ids.get(services[vnic.service], -1)
                else:
                    segment = -1
                trunk = info.trunk if info is not None else ()
                if trunk:
                    segment = -1
                self._row(
                    cols,
                    (owner, guest_id, self._name(vnic.name), PortKind.VNIC, host),
                    info=info,
                    segment=segment,
                    mac=mac_int(vnic.mac),
                    addresses=vnic.addresses,
                    tagset=self._tagset(guest.tags, vnic.tags),
                    trunk=trunk,
                )
            if _has_management(guest) and mgmt_segment >= 0:
                assert guest.management.mac is not None  # noqa: S101 - checked by _has_management
                self._row(
                    cols,
                    (owner, guest_id, mgmt_name_id, PortKind.MANAGEMENT, host),
                    info=None,
                    segment=mgmt_segment,
                    mac=mac_int(guest.management.mac),
                    addresses=(guest.management.address,) if guest.management.address else (),
                    tagset=self._tagset(guest.tags, ()),
                    trunk=(),
                )
        return tuple(guests), self._table(cols)

    def _row(
        self,
        cols: _Columns,
        ident: tuple[int, int, int, PortKind, int],
        *,
        info: _GroupInfo | None,
        segment: int,
        mac: int,
        addresses: Iterable[object],
        tagset: int,
        trunk: tuple[tuple[int, int], ...],
    ) -> None:
        owner, guest_id, name, kind, host = ident
        cols.owner.append(owner)
        cols.guest.append(guest_id)
        cols.vnic_name.append(name)
        cols.kind.append(kind)
        cols.host.append(host)
        cols.port_group.append(info.index if info is not None else -1)
        cols.segment.append(segment)
        cols.vlan_mode.append(info.mode if info is not None else VlanModeCode.VST)
        cols.mac.append(mac)
        cols.flags.append(info.flags if info is not None else 0)
        cols.shaping.append(info.shaping if info is not None else -1)
        cols.tagset.append(tagset)
        n4 = n6 = 0
        for address in addresses:
            value = int(address)  # type: ignore[call-overload]
            if isinstance(address, IPv4Address):
                cols.v4.append(value)
                n4 += 1
            else:
                cols.v6.append(value >> 64)
                cols.v6.append(value & 0xFFFF_FFFF_FFFF_FFFF)
                n6 += 1
        cols.v4_counts.append(n4)
        cols.v6_counts.append(n6)
        cols.trunk_counts.append(len(trunk))
        for vlan, seg in trunk:
            cols.trunk_vlans.append(vlan)
            cols.trunk_segments.append(seg)

    def _table(self, cols: _Columns) -> PortTable:
        owner = np.array(cols.owner, np.int32)
        segment = np.array(cols.segment, np.int32)
        flags = np.array(cols.flags, np.uint8)
        service_seg = np.array(
            [s is not None and s.service is not None for s in self.segments] + [False], np.bool_
        )
        on_service = service_seg[segment]  # -1 indexes the trailing False
        flags |= np.where(on_service & (owner != 0), np.uint8(PortFlag.SERVICE_CONSUMER), 0).astype(
            np.uint8
        )
        flags |= np.where(on_service & (owner == 0), np.uint8(PortFlag.SERVICE_PROVIDER), 0).astype(
            np.uint8
        )
        n = len(cols.owner)
        return PortTable(
            owner=owner,
            guest=np.array(cols.guest, np.int32),
            vnic_name=np.array(cols.vnic_name, np.int32),
            kind=np.array(cols.kind, np.uint8),
            host=np.array(cols.host, np.int32),
            port_group=np.array(cols.port_group, np.int32),
            segment=segment,
            vlan_mode=np.array(cols.vlan_mode, np.uint8),
            mac=np.array(cols.mac, np.uint64),
            flags=flags,
            shaping=np.array(cols.shaping, np.int32),
            tagset=np.array(cols.tagset, np.int32),
            chain=np.full(n, -1, np.int32),
            live=np.ones(n, np.bool_),
            v4_offsets=_offsets(cols.v4_counts),
            v4=np.array(cols.v4, np.uint32),
            v6_offsets=_offsets(cols.v6_counts),
            v6=np.array(cols.v6, np.uint64).reshape(-1, 2),
            trunk_offsets=_offsets(cols.trunk_counts),
            trunk_vlans=np.array(cols.trunk_vlans, np.uint16),
            trunk_segments=np.array(cols.trunk_segments, np.int32),
        )

    # ------------------------------------------------------------------ policies and chains

    def _policies(self) -> list[CompiledPolicy | None]:
        ids = self.index.address_set_ids

        def address_set(key: object) -> int:
            return ids.setdefault(key, len(ids))  # type: ignore[arg-type]

        compiled: list[CompiledPolicy | None] = []
        for ref, policy in sorted(self.estate.policies.items()):
            pid = len(compiled)
            self.index.policy_ids[ref] = pid
            self.index.policies_by_owner.setdefault(ref.owner, set()).add(pid)
            compiled.append(compile_policy(pid, ref, policy, address_set, self.index.intern))
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
        for g, (owner, tagset) in enumerate(groups.groups):
            ids = chain_for(self.owners[owner], self.tagsets[tagset], candidates)
            chain_id = self.index.chain_ids.setdefault(ids, len(self.index.chain_ids))
            while len(chains) <= chain_id:
                chains.append(None)
            chains[chain_id] = Chain(chain_id, ids)
            column[groups.rows(g)] = chain_id
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


def _has_management(guest: Guest) -> bool:
    access = guest.management
    return not access.isolation and access.mac is not None


def _offsets(counts: list[int]) -> npt.NDArray[np.int64]:
    out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(np.array(counts, np.int64), out=out[1:])
    return out
