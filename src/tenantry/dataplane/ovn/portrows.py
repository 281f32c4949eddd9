"""Rebuilding the columnar port table of the programs from logical switch ports (read-back)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

import numpy as np
import numpy.typing as npt

from tenantry.compiler import (
    Chain,
    CompiledPolicy,
    PortFlag,
    PortKind,
    PortTable,
    mac_int,
)
from tenantry.dataplane.ovn import names
from tenantry.model import PROVIDER, Ref, TrafficShaping

__all__ = ["PortColumns"]


def _offsets(counts: list[int]) -> npt.NDArray[np.int32]:
    out = np.zeros(len(counts) + 1, np.int32)
    np.cumsum(np.array(counts, np.int32), out=out[1:])
    return out


class PortColumns:
    """Port rows as they are read, turned into a PortTable at the end."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.lsp_names: list[set[str]] = []
        self.owner_names: list[str] = []
        self.guests: list[Ref] = []
        self.vnic_names: list[str] = []
        self.port_groups: list[str] = []
        self.hosts: list[str] = []
        self.shapings: list[TrafficShaping] = []
        self.tagsets: list[frozenset[str]] = []
        self._cols: dict[str, list[int]] = {
            key: []
            for key in (
                "guest", "vnic_name", "kind", "host", "port_group", "segment", "vlan_mode",
                "mac", "flags", "shaping", "tagset",
            )
        }  # fmt: skip
        self._v4: list[list[int]] = []
        self._v6: list[list[tuple[int, int]]] = []
        self._trunks: list[tuple[tuple[int, int], ...]] = []

    @staticmethod
    def _index(items: list[Any], value: Any) -> int:
        try:
            return items.index(value)
        except ValueError:
            items.append(value)
            return len(items) - 1

    def add(
        self,
        port: Mapping[str, Any],
        segment: int,
        trunk: tuple[tuple[int, int], ...],
        guard: Mapping[str, set[str]],
        children: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """One guest-facing port (a trunk parent with its children's VLAN → segment pairs)."""
        ids = port["external_ids"]
        lsps = {port["name"], *(child["name"] for child in children)}
        own = (port["port_security"] or port["addresses"] or ["00:00:00:00:00:00"])[0].split()
        enforced: list[str] = []
        for source in children or [port]:
            entry = (source["port_security"] or source["addresses"] or [""])[0].split()
            enforced.extend(a for a in entry[1:] if a not in enforced)
        if children:
            order = ids.get("tenantry-addresses", "").split()
            enforced.sort(key=lambda a: order.index(a) if a in order else len(order))
        addresses = [ip_address(a) for a in enforced]
        flags = int(ids.get("tenantry-flags", "0"))
        flags = self._enforced_flags(flags, lsps, guard)
        owner = ids.get("tenantry-tenant", PROVIDER)
        self.names.append(port["name"])
        self.lsp_names.append(lsps)
        self.owner_names.append(owner)
        cols = self._cols
        cols["guest"].append(self._index(self.guests, Ref(owner, ids.get("tenantry-guest", ""))))
        cols["vnic_name"].append(self._index(self.vnic_names, ids.get("tenantry-vnic", "")))
        cols["kind"].append(
            PortKind.MANAGEMENT if ids.get("tenantry-kind") == "management" else PortKind.VNIC
        )
        host = ids.get("tenantry-host", "")
        cols["host"].append(self._index(self.hosts, host) if host else -1)
        group = ids.get("tenantry-port-group", "")
        cols["port_group"].append(self._index(self.port_groups, group) if group else -1)
        cols["segment"].append(segment)
        cols["vlan_mode"].append(int(ids.get("tenantry-vlan-mode", "0")))
        cols["mac"].append(mac_int(own[0]))
        cols["flags"].append(flags)
        shaping = ids.get("tenantry-shaping", "")
        if shaping:
            average, peak, burst = (int(v) for v in shaping.split())
            profile = TrafficShaping(average=average, peak=peak, burst=burst)
            cols["shaping"].append(self._index(self.shapings, profile))
        else:
            cols["shaping"].append(-1)
        tags = frozenset(ids.get("tenantry-tags", "").split())
        cols["tagset"].append(self._index(self.tagsets, tags))
        self._v4.append([int(a) for a in addresses if isinstance(a, IPv4Address)])
        self._v6.append(
            [(int(a) >> 64, int(a) & (2**64 - 1)) for a in addresses if isinstance(a, IPv6Address)]
        )
        self._trunks.append(trunk)

    @staticmethod
    def _enforced_flags(flags: int, lsps: set[str], guard: Mapping[str, set[str]]) -> int:
        """The DHCP/RA/isolation bits as the guard port groups enforce them."""
        for flag, key, member in (
            (PortFlag.DHCP_SERVER, "infra/dhcp-servers", True),
            (PortFlag.ROUTER_ADVERTISEMENTS, "infra/no-router-advertisement", False),
            (PortFlag.SERVICE_CONSUMER, "infra/service-consumers", True),
        ):
            present = bool(lsps & guard.get(key, set())) is member
            flags = flags | flag if present else flags & ~flag
        return flags

    def rows_of(self, port_names: Iterable[str]) -> npt.NDArray[np.int32]:
        """Port rows of the given port names (unknown names are left out)."""
        index = {name: row for row, name in enumerate(self.names)}
        return np.array(sorted(index[n] for n in port_names if n in index), np.int32)

    def owners(self) -> tuple[str, ...]:
        rest = sorted(set(self.owner_names) - {PROVIDER})
        return (PROVIDER, *rest)

    def table(
        self, policies: Sequence[CompiledPolicy], members: Mapping[str, set[str]]
    ) -> tuple[PortTable, tuple[Chain | None, ...]]:
        """The port table, with chains from port group membership."""
        by_group = {names.group_name(names.policy_key(p.ref)): p for p in policies}
        chain_ids: dict[tuple[int, ...], int] = {}
        chain_col = []
        for lsps in self.lsp_names:
            applying = [
                by_group[group]
                for group, ports in members.items()
                if group in by_group and lsps & ports
            ]
            key = tuple(p.id for p in sorted(applying, key=lambda p: p.sort_key))
            chain_col.append(chain_ids.setdefault(key, len(chain_ids)))
        chains = tuple(Chain(i, key) for key, i in sorted(chain_ids.items(), key=lambda e: e[1]))
        owners = self.owners()
        cols = self._cols
        n = len(self.names)
        table = PortTable(
            owner=np.array([owners.index(o) for o in self.owner_names], np.int32),
            guest=np.array(cols["guest"], np.int32),
            vnic_name=np.array(cols["vnic_name"], np.int16),
            kind=np.array(cols["kind"], np.uint8),
            host=np.array(cols["host"], np.int16),
            port_group=np.array(cols["port_group"], np.int32),
            segment=np.array(cols["segment"], np.int32),
            vlan_mode=np.array(cols["vlan_mode"], np.uint8),
            mac=np.array(cols["mac"], np.uint64),
            flags=np.array(cols["flags"], np.uint8),
            shaping=np.array(cols["shaping"], np.int16),
            tagset=np.array(cols["tagset"], np.int32),
            chain=np.array(chain_col, np.int32),
            live=np.ones(n, np.bool_),
            v4_offsets=_offsets([len(v) for v in self._v4]),
            v4=np.array([a for v in self._v4 for a in v], np.uint32),
            v6_offsets=_offsets([len(v) for v in self._v6]),
            v6=np.array([a for v in self._v6 for a in v], np.uint64).reshape(-1, 2),
            trunk_offsets=_offsets([len(t) for t in self._trunks]),
            trunk_vlans=np.array([v for t in self._trunks for v, _ in t], np.uint16),
            trunk_segments=np.array([s for t in self._trunks for _, s in t], np.int32),
        )
        return table, chains
