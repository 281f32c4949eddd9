"""Building the port table: one pass over the guests, then numpy fills the columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tenantry.compiler.addresses import mac_int
from tenantry.compiler.program import PortFlag, PortKind, PortTable, VlanModeCode
from tenantry.errors import CapacityError, Violation
from tenantry.model import PROVIDER, Guest, Ref, Vnic

if TYPE_CHECKING:
    from tenantry.compiler.compile import _Builder

__all__ = ["MANAGEMENT_NAME", "PortBuilder"]

INT16_MAX = 32_767
MANAGEMENT_NAME = ".management"
"""The vNIC-name slot of a management interface (never a valid vNIC name: it has a dot)."""


@dataclass
class _Rows:
    """Per-vNIC values while the one pass runs (turned into arrays once)."""

    attach: list[int] = field(default_factory=list)
    names: list[int] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)
    macs: list[str] = field(default_factory=list)
    n4: list[int] = field(default_factory=list)
    v4: list[int] = field(default_factory=list)
    odd: dict[int, tuple[object, ...]] = field(default_factory=dict)
    """Rows whose addresses are not exactly one IPv4 address."""


class PortBuilder:
    """The port rows of one full compile (vNICs, then management interfaces)."""

    def __init__(self, builder: _Builder) -> None:
        self.builder = builder
        self.services: dict[str, Ref] = {}
        self.attachments: list[tuple[int, int, int, int, int, int]] = []
        self.attachment_trunks: list[tuple[tuple[int, int], ...]] = []
        self.guest_base = 0

    def _attachment(self, owner: str, vnic: Vnic) -> int:
        """The id of what a vNIC shares with every vNIC attached the same way."""
        info = self.builder._group(vnic.port_group)
        if vnic.network is not None:
            segment = self.builder.segment_ids.get(Ref(owner, vnic.network), -1)
        elif vnic.service is not None and vnic.service in self.services:
            segment = self.builder.segment_ids.get(self.services[vnic.service], -1)
        else:
            segment = -1
        trunk = info.trunk if info is not None else ()
        found = len(self.attachments)
        self.attachments.append(
            (
                info.index if info is not None else -1,
                -1 if trunk else segment,
                info.mode if info is not None else VlanModeCode.VST,
                info.flags if info is not None else 0,
                info.shaping if info is not None else -1,
                len(trunk),
            )
        )
        self.attachment_trunks.append(trunk)
        return found

    def build(
        self, guests: Mapping[Ref, Guest] | None = None, *, guest_base: int = 0
    ) -> tuple[tuple[Ref, ...], PortTable]:
        """One pass over the guests; per vNIC only a few appends (the columns are filled by
        numpy afterwards from per-guest and per-attachment tables)."""
        estate = self.builder.estate
        self.services = {
            r.name: Ref(PROVIDER, s.network) for r, s in estate.shared_services.items()
        }
        attachment_ids: dict[tuple[str, str, str | None, str | None], int] = {}
        chosen = estate.guests if guests is None else guests
        self.guest_base = guest_base
        refs: list[Ref] = []
        per_guest: list[tuple[int, int, int]] = []
        rows = _Rows()
        name_ids = self.builder.vnic_name_ids
        raw_tagsets = self.builder.raw_tagsets
        host_ids, owner_ids = self.builder.host_ids, self.builder.owner_ids
        # bound methods: this loop runs once per vNIC (1.6 M times at seed scale)
        attach, names, tags, macs = (
            rows.attach.append,
            rows.names.append,
            rows.tags.append,
            rows.macs.append,
        )
        v4, n4 = rows.v4.append, rows.n4.append
        odd = rows.odd
        for guest_ref, guest in chosen.items():
            owner_name = guest_ref.owner
            guest_tags = guest.tags
            vnics = guest.vnics
            host = host_ids.get(guest.host, -1) if guest.host is not None else -1
            per_guest.append((owner_ids.get(owner_name, -1), host, len(vnics)))
            refs.append(guest_ref)
            for vnic in vnics:
                key = (owner_name, vnic.port_group, vnic.network, vnic.service)
                found = attachment_ids.get(key)
                if found is None:
                    found = attachment_ids[key] = self._attachment(owner_name, vnic)
                attach(found)
                name = name_ids.get(vnic.name)
                names(name if name is not None else self.builder._name(vnic.name))
                tagset = raw_tagsets.get((guest_tags, vnic.tags))
                if tagset is None:
                    tagset = self.builder._tagset(guest_tags, vnic.tags)
                tags(tagset)
                macs(vnic.mac)  # parsed all at once by _mac_column
                addresses = vnic.addresses
                if len(addresses) == 1 and addresses[0].__class__ is IPv4Address:
                    v4(int(addresses[0]))
                    n4(1)
                else:
                    odd[len(rows.n4)] = addresses
                    n4(0)
        limits = {
            "hosts": len(self.builder.hosts),
            "distinct vNIC names": len(self.builder.vnic_names),
            "shaping profiles": len(self.builder.shapings),
        }
        for what, count in limits.items():
            if count > INT16_MAX:
                raise CapacityError(
                    [Violation("compiler-limit", f"{count} {what}: at most {INT16_MAX}")]
                )
        columns = self._vnic_columns(per_guest, rows)
        management = self._management_rows(refs, chosen)
        return tuple(refs), self._table(columns, management)

    def _vnic_columns(
        self, per_guest: list[tuple[int, int, int]], rows: _Rows
    ) -> dict[str, npt.NDArray[np.generic]]:
        guest_cols = np.array(per_guest, np.int64).reshape(-1, 3)
        counts = guest_cols[:, 2]
        att = np.array(rows.attach, np.int64)
        table = np.array(self.attachments, np.int64).reshape(-1, 6)
        n4 = np.array(rows.n4, np.int64)
        n6 = np.zeros(len(att), np.int64)
        v4: list[int] = []
        v6: list[int] = []
        if rows.odd:
            simple = iter(rows.v4)
            for r in range(len(n4)):
                addresses = rows.odd.get(r)
                if addresses is None:
                    v4.append(next(simple))
                    continue
                for address in addresses:
                    value = int(address)  # type: ignore[call-overload]
                    if isinstance(address, IPv4Address):
                        v4.append(value)
                        n4[r] += 1
                    else:
                        v6 += (value >> 64, value & 0xFFFF_FFFF_FFFF_FFFF)
                        n6[r] += 1
        else:
            v4 = rows.v4
        return {
            "owner": np.repeat(guest_cols[:, 0], counts),
            "host": np.repeat(guest_cols[:, 1], counts),
            "guest": np.repeat(np.arange(len(per_guest)) + self.guest_base, counts),
            "vnic_name": np.array(rows.names, np.int64),
            "kind": np.zeros(len(att), np.int64),
            "port_group": table[att, 0],
            "segment": table[att, 1],
            "vlan_mode": table[att, 2],
            "flags": table[att, 3],
            "shaping": table[att, 4],
            "trunk_count": table[att, 5],
            "tagset": np.array(rows.tags, np.int64),
            "mac": _mac_column(rows.macs),
            "attachment": att,
            "n4": n4,
            "n6": n6,
            "v4": np.array(v4, np.uint64),
            "v6": np.array(v6, np.uint64),
        }

    def _management_rows(
        self, refs: list[Ref], guests: Mapping[Ref, Guest]
    ) -> dict[str, npt.NDArray[np.generic]]:
        """Columns of the management interfaces of bridged guests (appended after vNICs)."""
        estate = self.builder.estate
        mgmt_name = estate.provider.management_network
        mgmt_segment = (
            self.builder.segment_ids.get(Ref(PROVIDER, mgmt_name), -1) if mgmt_name else -1
        )
        found: list[tuple[int, int, int, int]] = []
        macs: list[int] = []
        n4: list[int] = []
        n6: list[int] = []
        v4: list[int] = []
        v6: list[int] = []
        if mgmt_segment >= 0:
            for position, guest_ref in enumerate(refs):
                guest_id = self.guest_base + position
                guest = guests[guest_ref]
                access = guest.management
                if access.isolation or access.mac is None:
                    continue
                host = self.builder.host_ids.get(guest.host, -1) if guest.host is not None else -1
                owner = self.builder.owner_ids.get(guest_ref.owner, -1)
                found.append((owner, guest_id, host, self.builder._tagset(guest.tags, ())))
                macs.append(mac_int(access.mac))
                address = access.address
                n4.append(int(address is not None and address.version == 4))
                n6.append(int(address is not None and address.version == 6))
                if address is not None and address.version == 4:
                    v4.append(int(address))
                elif address is not None:
                    v6 += (int(address) >> 64, int(address) & 0xFFFF_FFFF_FFFF_FFFF)
        m = len(found)
        extra = np.array(found, np.int64).reshape(-1, 4)
        name = self.builder._name(MANAGEMENT_NAME)
        return {
            "owner": extra[:, 0],
            "guest": extra[:, 1],
            "host": extra[:, 2],
            "vnic_name": np.full(m, name, np.int64),
            "kind": np.full(m, int(PortKind.MANAGEMENT), np.int64),
            "port_group": np.full(m, -1, np.int64),
            "segment": np.full(m, mgmt_segment, np.int64),
            "vlan_mode": np.full(m, int(VlanModeCode.VST), np.int64),
            "flags": np.zeros(m, np.int64),
            "shaping": np.full(m, -1, np.int64),
            "trunk_count": np.zeros(m, np.int64),
            "tagset": extra[:, 3],
            "mac": np.array(macs, np.uint64),
            "attachment": np.full(m, -1, np.int64),
            "n4": np.array(n4, np.int64),
            "n6": np.array(n6, np.int64),
            "v4": np.array(v4, np.uint64),
            "v6": np.array(v6, np.uint64),
        }

    def _table(
        self,
        vnics: dict[str, npt.NDArray[np.generic]],
        management: dict[str, npt.NDArray[np.generic]],
    ) -> PortTable:
        cols = {k: np.concatenate([v, management[k]]) for k, v in vnics.items()}
        owner = cols["owner"].astype(np.int32)
        segment = cols["segment"].astype(np.int32)
        flags = cols["flags"].astype(np.uint8)
        service_seg = np.array(
            [s is not None and s.service is not None for s in self.builder.segments] + [False],
            np.bool_,
        )
        on_service = service_seg[segment]  # -1 indexes the trailing False
        consumer = np.uint8(PortFlag.SERVICE_CONSUMER)
        provider = np.uint8(PortFlag.SERVICE_PROVIDER)
        flags |= np.where(on_service & (owner != 0), consumer, np.uint8(0)).astype(np.uint8)
        flags |= np.where(on_service & (owner == 0), provider, np.uint8(0)).astype(np.uint8)
        trunk_vlans, trunk_segments = self._trunks(cols["attachment"])
        n = len(owner)
        return PortTable(
            owner=owner,
            guest=cols["guest"].astype(np.int32),
            vnic_name=cols["vnic_name"].astype(np.int16),
            kind=cols["kind"].astype(np.uint8),
            host=cols["host"].astype(np.int16),
            port_group=cols["port_group"].astype(np.int32),
            segment=segment,
            vlan_mode=cols["vlan_mode"].astype(np.uint8),
            mac=cols["mac"].astype(np.uint64),
            flags=flags,
            shaping=cols["shaping"].astype(np.int16),
            tagset=cols["tagset"].astype(np.int32),
            chain=np.full(n, -1, np.int32),
            live=np.ones(n, np.bool_),
            v4_offsets=_offsets(cols["n4"]),
            v4=cols["v4"].astype(np.uint32),
            v6_offsets=_offsets(cols["n6"]),
            v6=cols["v6"].astype(np.uint64).reshape(-1, 2),
            trunk_offsets=_offsets(cols["trunk_count"]),
            trunk_vlans=trunk_vlans,
            trunk_segments=trunk_segments,
        )

    def _trunks(
        self, attachment: npt.NDArray[np.generic]
    ) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.int32]]:
        """The trunk CSR values, in row order (only VGT rows have any)."""
        vlans: list[int] = []
        segments: list[int] = []
        trunked = {i for i, t in enumerate(self.attachment_trunks) if t}
        if trunked:
            for a in attachment.tolist():
                if a in trunked:
                    for vlan, seg in self.attachment_trunks[a]:
                        vlans.append(vlan)
                        segments.append(seg)
        return np.array(vlans, np.uint16), np.array(segments, np.int32)


def _offsets(counts: npt.NDArray[np.generic]) -> npt.NDArray[np.int32]:
    out = np.zeros(len(counts) + 1, np.int32)
    np.cumsum(counts.astype(np.int32), out=out[1:])
    return out


def _mac_column(macs: list[str]) -> npt.NDArray[np.uint64]:
    """MACs as 48-bit integers: one hex decode of all of them when every one is in the model's
    canonical form (``02:00:00:00:00:01``), else one by one."""
    if macs and set(map(len, macs)) == {17}:
        text = "".join(macs)
        try:  # hyphens or anything but colons between hex pairs: one by one
            raw = bytes.fromhex(text.replace(":", "")) if text.count(":") == 5 * len(macs) else b""
        except ValueError:
            raw = b""
        if len(raw) == 6 * len(macs):
            octets = np.frombuffer(raw, np.uint8).reshape(-1, 6).astype(np.uint64)
            weights = np.array([1 << (8 * (5 - i)) for i in range(6)], np.uint64)
            return octets @ weights
    return np.array([mac_int(mac) for mac in macs], np.uint64)
