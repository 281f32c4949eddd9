"""Lookup tables derived from programs: what the reference switch consults per frame.

Every lookup is a hash probe keyed by (segment, MAC) or (segment, address), so the cost of a
frame does not grow with the number of tenants, ports or policies; only the length of the
port's own policy chain matters.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from tenantry.compiler import (
    ANY_PROTOCOL,
    CompiledRule,
    PeerKind,
    PortFlag,
    Programs,
    RouterInterface,
    mac_int,
)
from tenantry.compiler.addresses import link_local_halves
from tenantry.model import TIER_ORDER, DefaultAction, Direction

__all__ = ["RuleMatcher", "SetMembership", "Tables", "address_key"]

V6_FLAG = 1 << 128
"""IPv6 addresses are keyed as ``address | V6_FLAG`` so they never collide with IPv4."""


def address_key(version: int, address: int) -> int:
    """The key of an address in the tables: IPv4 as is, IPv6 with a flag bit."""
    return address if version == 4 else address | V6_FLAG


@dataclass(frozen=True, slots=True)
class SetMembership:
    """An address set as a hash set of host addresses plus any shorter prefixes."""

    hosts: frozenset[int]
    prefixes: tuple[tuple[int, int, int], ...]
    """(version, network, prefix length) for prefixes that are not single hosts."""

    def contains(self, version: int, address: int) -> bool:
        if address_key(version, address) in self.hosts:
            return True
        bits = 32 if version == 4 else 128
        for v, network, plen in self.prefixes:
            if v == version and (address >> (bits - plen)) == (network >> (bits - plen)):
                return True
        return False


@dataclass(frozen=True, slots=True)
class RuleMatcher:
    """A rule flattened for matching: tier index, protocol, ports, and how to test the peer."""

    tier: int
    rule: CompiledRule
    protocol: int
    ports: tuple[tuple[int, int], ...]
    peer_kind: PeerKind
    cidrs: tuple[tuple[int, int, int], ...]
    address_set: int


class Tables:
    """The reference switch's view of one generation of programs."""

    def __init__(self, programs: Programs) -> None:
        self.programs = programs
        ports = programs.ports
        self.mac_to_row: dict[tuple[int, int], int] = {}
        self.address_to_row: dict[tuple[int, int], int] = {}
        self.segment_rows: dict[int, list[int]] = defaultdict(list)
        self.trunk_vlans: dict[int, dict[int, int]] = {}
        live = np.flatnonzero(ports.live).tolist()
        segment_col = ports.segment.tolist()
        macs = ports.mac.tolist()
        for row in live:
            own = segment_col[row]
            segments = (own,) if own >= 0 else tuple(s for _, s in ports.trunk_of(row))
            if own < 0 and segments:
                self.trunk_vlans[row] = dict(ports.trunk_of(row))
            keys = [address_key(4, int(a)) for a in ports.v4_of(row).tolist()]
            keys += [address_key(6, (int(hi) << 64) | int(lo)) for hi, lo in ports.v6_of(row)]
            hi, lo = link_local_halves(macs[row])
            link_local = address_key(6, (hi << 64) | lo)
            for seg in segments:
                self.mac_to_row[(seg, macs[row])] = row
                self.segment_rows[seg].append(row)
                # a trunk's address counts only on the VLAN whose subnets hold it
                held = keys if own >= 0 else [k for k in keys if self._inside(seg, k)]
                for key in held:
                    self.address_to_row[(seg, key)] = row
                self.address_to_row.setdefault((seg, link_local), row)
        flags = ports.flags.tolist()
        self.promiscuous: dict[int, list[int]] = defaultdict(list)
        for seg, rows in self.segment_rows.items():
            self.promiscuous[seg] = [r for r in rows if flags[r] & PortFlag.PROMISCUOUS]
        self.routers_by_mac: dict[tuple[int, int], RouterInterface] = {}
        self.routes: dict[object, list[tuple[int, int, int, int]]] = defaultdict(list)
        self.gateways: dict[tuple[int, int], RouterInterface] = {}
        self.router_legs: dict[object, list[RouterInterface]] = defaultdict(list)
        for leg in programs.routers:
            self.routers_by_mac[(leg.segment, mac_int(leg.mac))] = leg
            self.router_legs[leg.router].append(leg)
            for subnet in leg.subnets:
                self.routes[leg.router].append(
                    (leg.segment, subnet.version, int(subnet.network_address), subnet.prefixlen)
                )
            for gateway in leg.gateways:
                self.gateways[(leg.segment, address_key(gateway.version, int(gateway)))] = leg
        self.default_allows = [
            s is not None and s.default_action is DefaultAction.ALLOW for s in programs.segments
        ]
        self._chains: dict[tuple[int, Direction], tuple[RuleMatcher, ...]] = {}
        self._sets: dict[int, SetMembership] = {}

    def _inside(self, segment: int, key: int) -> bool:
        found = self.programs.segments[segment]
        if found is None:
            return False
        version = 6 if key & V6_FLAG else 4
        address = key & ~V6_FLAG
        bits = 32 if version == 4 else 128
        return any(
            net.version == version
            and (address >> (bits - net.prefixlen))
            == (int(net.network_address) >> (bits - net.prefixlen))
            for net in found.subnets
        )

    def chain_rules(self, chain_id: int, direction: Direction) -> tuple[RuleMatcher, ...]:
        """The rules of a chain for one direction, in evaluation order (built once)."""
        key = (chain_id, direction)
        found = self._chains.get(key)
        if found is None:
            found = self._chains[key] = tuple(self._flatten(chain_id, direction))
        return found

    def _flatten(self, chain_id: int, direction: Direction) -> list[RuleMatcher]:
        chain = self.programs.chains[chain_id] if chain_id >= 0 else None
        out: list[RuleMatcher] = []
        if chain is None:
            return out
        for pid in chain.policies:
            policy = self.programs.policies[pid]
            if policy is None:
                continue
            tier = TIER_ORDER.index(policy.tier)
            for rule in policy.rules:
                if rule.direction is not direction:
                    continue
                cidrs = tuple(
                    (c.version, int(c.network_address), c.prefixlen) for c in rule.peer.cidrs
                )
                out.append(
                    RuleMatcher(
                        tier,
                        rule,
                        rule.protocol,
                        rule.ports,
                        rule.peer.kind,
                        cidrs,
                        rule.peer.address_set,
                    )
                )
        return out

    def membership(self, aset_id: int) -> SetMembership:
        """An address set as a hash set (built on first use)."""
        found = self._sets.get(aset_id)
        if found is not None:
            return found
        aset = self.programs.address_sets[aset_id]
        hosts: set[int] = set()
        prefixes: list[tuple[int, int, int]] = []
        if aset is not None:
            for row in aset.prefixes.v4.tolist():
                network, plen = row >> 8, row & 0xFF
                if plen == 32:
                    hosts.add(address_key(4, network))
                else:
                    prefixes.append((4, network, plen))
            for hi, lo, plen in aset.prefixes.v6.tolist():
                network = (hi << 64) | lo
                if plen == 128:
                    hosts.add(address_key(6, network))
                else:
                    prefixes.append((6, network, plen))
        found = self._sets[aset_id] = SetMembership(frozenset(hosts), tuple(prefixes))
        return found


ANY = ANY_PROTOCOL
