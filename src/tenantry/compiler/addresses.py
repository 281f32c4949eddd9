"""Addresses as integers: how the IR stores MACs, IPv4 and IPv6 addresses and prefixes.

MACs are 48-bit integers, IPv4 addresses 32-bit integers, IPv6 addresses two 64-bit halves
(``hi``, ``lo``). Prefix sets are sorted, duplicate-free numpy arrays so that a set stays a set
at any size (no expansion into per-address rules).
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

import numpy as np
import numpy.typing as npt

__all__ = [
    "PrefixSet",
    "format_mac",
    "ipv4_int",
    "ipv6_halves",
    "link_local_halves",
    "mac_int",
]

V6_ROW = 3
"""Columns of an IPv6 prefix row: high 64 bits, low 64 bits, prefix length."""


def mac_int(mac: str) -> int:
    """``02:00:00:00:00:01`` as a 48-bit integer."""
    return int(mac.replace(":", "").replace("-", ""), 16)


def format_mac(value: int) -> str:
    """A 48-bit integer as ``02:00:00:00:00:01``."""
    text = f"{value:012x}"
    return ":".join(text[i : i + 2] for i in range(0, 12, 2))


def ipv4_int(address: IPv4Address) -> int:
    """An IPv4 address as an unsigned 32-bit integer."""
    return int(address)


def ipv6_halves(address: IPv6Address) -> tuple[int, int]:
    """An IPv6 address as (high 64 bits, low 64 bits)."""
    value = int(address)
    return value >> 64, value & 0xFFFF_FFFF_FFFF_FFFF


def link_local_halves(mac: int) -> tuple[int, int]:
    """The EUI-64 link-local address derived from a MAC (fe80::/64 + modified EUI-64)."""
    high24 = (mac >> 24) ^ 0x020000
    low24 = mac & 0xFFFFFF
    return 0xFE80 << 48, (high24 << 40) | (0xFFFE << 24) | low24


class PrefixSet:
    """An immutable set of IPv4 and IPv6 prefixes (host addresses are /32 and /128)."""

    __slots__ = ("v4", "v6")

    def __init__(self, v4: npt.NDArray[np.uint64], v6: npt.NDArray[np.uint64]) -> None:
        # v4 rows pack (network << 8 | prefix length); v6 rows are (hi, lo, prefix length).
        self.v4 = v4
        self.v6 = v6
        self.v4.flags.writeable = False
        self.v6.flags.writeable = False

    @classmethod
    def empty(cls) -> PrefixSet:
        """The empty set."""
        return cls(np.zeros(0, np.uint64), np.zeros((0, V6_ROW), np.uint64))

    @classmethod
    def of(
        cls, networks: Iterable[IPv4Network | IPv6Network | IPv4Address | IPv6Address]
    ) -> PrefixSet:
        """A set from networks and addresses (addresses become host prefixes)."""
        v4: list[int] = []
        v6: list[tuple[int, int, int]] = []
        for item in networks:
            net = ip_network(item) if not isinstance(item, IPv4Network | IPv6Network) else item
            if isinstance(net, IPv4Network):
                v4.append(int(net.network_address) << 8 | net.prefixlen)
            else:
                hi, lo = ipv6_halves(net.network_address)
                v6.append((hi, lo, net.prefixlen))
        return cls.from_arrays(np.array(v4, np.uint64), np.array(v6, np.uint64).reshape(-1, 3))

    @classmethod
    def from_arrays(cls, v4: npt.NDArray[np.uint64], v6: npt.NDArray[np.uint64]) -> PrefixSet:
        """A set from packed rows, sorted and de-duplicated here."""
        v4u = np.unique(v4.astype(np.uint64, copy=False))
        v6u = np.unique(v6.astype(np.uint64, copy=False).reshape(-1, V6_ROW), axis=0)
        return cls(v4u, v6u.reshape(-1, V6_ROW))

    def __len__(self) -> int:
        return int(self.v4.shape[0] + self.v6.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PrefixSet):
            return NotImplemented
        return np.array_equal(self.v4, other.v4) and np.array_equal(self.v6, other.v6)

    def __hash__(self) -> int:
        return hash((self.v4.tobytes(), self.v6.tobytes()))

    def __repr__(self) -> str:
        shown = [str(n) for n in self.networks()[:4]]
        more = f", ... ({len(self)} in all)" if len(self) > 4 else ""
        return f"PrefixSet({', '.join(shown)}{more})"

    def networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The prefixes as ipaddress networks (for explanations and backends)."""
        out: list[IPv4Network | IPv6Network] = [
            IPv4Network((int(row) >> 8, int(row) & 0xFF)) for row in self.v4
        ]
        out.extend(IPv6Network(((int(hi) << 64) | int(lo), int(plen))) for hi, lo, plen in self.v6)
        return tuple(out)

    def contains_v4(self, address: int) -> bool:
        """Whether an IPv4 address (as an integer) lies in one of the prefixes."""
        for row in self.v4.tolist():
            plen = row & 0xFF
            shift = 32 - plen
            if (address >> shift) == ((row >> 8) >> shift):
                return True
        return False

    def contains_v6(self, hi: int, lo: int) -> bool:
        """Whether an IPv6 address (as two halves) lies in one of the prefixes."""
        value = (hi << 64) | lo
        for net_hi, net_lo, plen in self.v6.tolist():
            shift = 128 - plen
            if (value >> shift) == (((net_hi << 64) | net_lo) >> shift):
                return True
        return False
