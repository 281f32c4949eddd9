"""An exact-match cache of verdicts for plain IPv4 TCP/UDP flows (like OVS's EMC).

A frame is eligible when it is untagged IPv4 without options or fragmentation, TCP or UDP
(not DHCP), and well formed; its verdict then depends only on the ingress port, the MACs,
TTL, protocol, addresses and ports (the key) and on connection state, which each entry
re-checks on a hit. Everything else takes the full pipeline. The cache is dropped whenever
new programs are applied.
"""

from __future__ import annotations

import struct

from tenantry.dataplane.reference.conntrack import Connection, ConnTrack, FlowKey
from tenantry.dataplane.verdict import Disposition, Reason, Stage, Verdict

__all__ = ["FlowCache", "flow_cache_key"]

STATELESS = 0
NEEDS_CONNECTION = 1
NEEDS_NO_CONNECTION = 2
_POLICY_STAGES = frozenset({Stage.POLICY_EGRESS, Stage.POLICY_INGRESS})

CacheKey = tuple[int, bytes, int, bytes]


_HEADER = struct.Struct("!12sHBxHxxHBB2x12sH")
"""MACs, ethertype, version/IHL, total length, flags/offset, TTL, protocol, addresses and
ports, and bytes 38-39 (the UDP length): one C call instead of a dozen indexings."""


def flow_cache_key(frame: bytes, row: int) -> CacheKey | None:
    """The cache key of an eligible frame, or None (the frame takes the full pipeline)."""
    size = len(frame)
    if size < 42:
        return None
    macs, ethertype, vihl, total, flags, ttl, proto, tail, udp_len = _HEADER.unpack_from(frame)
    # untagged IPv4 without options; no fragment (only DF may be set); lengths consistent
    if ethertype != 0x0800 or vihl != 0x45 or flags & 0xBFFF or total + 14 > size:
        return None
    if proto == 6:
        if size < 54 or frame[46] < 0x50 or total < 20 + (frame[46] >> 4) * 4:
            return None
    elif (
        proto != 17
        or not 8 <= udp_len <= total - 20
        or (tail[8:10] in _DHCP or tail[10:12] in _DHCP)
    ):
        return None
    return (row, macs, ttl << 8 | proto, tail)


_DHCP = frozenset({b"\x00\x43", b"\x00\x44"})


def _flow(key: CacheKey) -> FlowKey:
    tail = key[3]
    return (
        4,
        int.from_bytes(tail[0:4], "big"),
        int.from_bytes(tail[4:8], "big"),
        key[2] & 0xFF,
        int.from_bytes(tail[8:10], "big"),
        int.from_bytes(tail[10:12], "big"),
    )


class FlowCache:
    """Verdicts by cache key, each with the connection condition under which it holds."""

    def __init__(self, conntrack: ConnTrack, limit: int = 1 << 16) -> None:
        self.conntrack = conntrack
        self.limit = limit
        self.entries: dict[CacheKey, tuple[Verdict, int, FlowKey, Connection | None]] = {}

    def get(self, key: CacheKey) -> Verdict | None:
        """The cached verdict if it still holds (refreshing the connection it rides on)."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        verdict, condition, flow, conn = entry
        if condition == STATELESS:
            return verdict
        if conn is not None:  # riding on a connection held by reference: no hashing
            return verdict if self.conntrack.touch(conn) else None
        return verdict if self.conntrack.lookup(flow) is None else None

    def put(self, key: CacheKey, verdict: Verdict) -> None:
        """Remember a verdict computed by the full pipeline."""
        if len(self.entries) >= self.limit:
            self.entries.clear()
        flow = _flow(key)
        live = flow in self.conntrack.connections
        if verdict.action is Disposition.FORWARD and verdict.reason is Reason.ALLOWED and live:
            return  # this packet opened a connection: the next one is "established"
        conn = None
        if verdict.action is Disposition.FORWARD and verdict.reason is Reason.ESTABLISHED:
            condition = NEEDS_CONNECTION
            conn = self.conntrack.connections.get(flow)
            if conn is None:
                return
        elif verdict.stage in _POLICY_STAGES:
            condition = NEEDS_NO_CONNECTION
        else:
            condition = STATELESS
        self.entries[key] = (verdict, condition, flow, conn)

    def clear(self) -> None:
        self.entries.clear()
