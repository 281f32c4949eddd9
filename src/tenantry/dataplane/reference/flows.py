"""An exact-match cache of verdicts for plain IPv4 TCP/UDP flows (like OVS's EMC).

A frame is eligible when it is untagged IPv4 without options or fragmentation, TCP or UDP
(not DHCP), well formed and at least 47 bytes long (every real Ethernet frame is 60); its
verdict then depends only on the ingress port, the MACs, TTL, protocol, addresses and ports
and on connection state, which each entry re-checks on a hit. Everything else takes the full
pipeline. The cache is dropped whenever new programs are applied.

Entries are found by (ingress row, bytes 0-14: MACs, ethertype and version/IHL, bytes 20-23:
fragment bits, TTL and protocol, bytes 26-37: addresses and ports), which one ``struct`` call
extracts together with the lengths a hit re-checks (:func:`hit_holds`). Only eligible frames
are ever stored, so a hit implies ethertype 0x0800, IHL 5, no fragment, TCP or UDP, and no
DHCP ports: what is left to check per packet is the lengths.
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
MIN_SIZE = 47
"""The shortest eligible frame: HEADER reaches the TCP data offset (byte 46)."""

CacheKey = tuple[int, bytes, int, bytes]
"""(ingress row, bytes 0-14, bytes 20-23 as an integer, bytes 26-37)."""
CacheEntry = tuple[Verdict, int, FlowKey, Connection | None, int]
"""(verdict, condition, flow, connection ridden on, and for NEEDS_NO_CONNECTION the
``ConnTrack.commits`` at which the flow was seen without one, else -1)."""

HEADER = struct.Struct("!15sxH2xI2x12sH6xB")
"""Bytes 0-14 (MACs, ethertype, version/IHL), total length, bytes 20-23 (flags and fragment
offset, TTL, protocol), addresses and ports, bytes 38-39 (the UDP length) and byte 46 (the TCP
data offset)."""
_IPV4_IHL5 = b"\x08\x00\x45"
TCP_MIN_TOTAL = tuple(
    20 + (offset >> 4) * 4 if offset >= 0x50 else 1 << 16 for offset in range(256)
)
"""By TCP data-offset byte: the smallest IPv4 total length that holds the TCP header (more than
any total length if the offset is below 5 words): one subscript instead of the arithmetic."""
_DHCP = frozenset({b"\x00\x43", b"\x00\x44"})


def flow_cache_key(frame: bytes, row: int) -> CacheKey | None:
    """The cache key of an eligible frame, or None (the frame takes the full pipeline)."""
    size = len(frame)
    if size < MIN_SIZE:
        return None
    head, total, fragment_ttl_proto, tail, udp_len, offset = HEADER.unpack_from(frame)
    if not head.endswith(_IPV4_IHL5) or fragment_ttl_proto & 0xBFFF0000 or total + 14 > size:
        return None  # not untagged IPv4 without options, a fragment, or lengths inconsistent
    proto = fragment_ttl_proto & 0xFF
    if proto == 6:
        if offset < 0x50 or total < 20 + (offset >> 4) * 4:
            return None
    elif (
        proto != 17
        or not 8 <= udp_len <= total - 20
        or (tail[8:10] in _DHCP or tail[10:12] in _DHCP)
    ):
        return None
    return (row, head, fragment_ttl_proto, tail)


def hit_holds(frame: bytes) -> bool:
    """Whether ``frame``, whose key found an entry, is eligible: ``flow_cache_key`` minus
    what the key settles. ``ReferenceBackend.classify`` inlines this."""
    size = len(frame)
    if size < MIN_SIZE:
        return False
    _, total, fragment_ttl_proto, _, udp_len, offset = HEADER.unpack_from(frame)
    return bool(total + 14 <= size) and bool(
        total >= TCP_MIN_TOTAL[offset]
        if fragment_ttl_proto & 0xFF == 6
        else 8 <= udp_len <= total - 20
    )


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
        self.entries: dict[CacheKey, CacheEntry] = {}

    def get(self, frame: bytes, row: int) -> Verdict | None:
        """The cached verdict on ``frame`` if it still holds (refreshing the connection it
        rides on); ``ReferenceBackend.classify`` inlines this."""
        if len(frame) < MIN_SIZE:
            return None
        head, _, fragment_ttl_proto, tail, _, _ = HEADER.unpack_from(frame)
        key = (row, head, fragment_ttl_proto, tail)
        entry = self.entries.get(key)
        if entry is None or not hit_holds(frame):
            return None
        return self.still_holds(key, entry)

    def still_holds(self, key: CacheKey, entry: CacheEntry) -> Verdict | None:
        """The entry's verdict if its connection condition holds (refreshing what it rides on)."""
        verdict, condition, flow, conn, seen = entry
        if condition == STATELESS:
            return verdict
        if conn is not None:  # riding on a connection held by reference: no hashing
            return verdict if self.conntrack.touch(conn) else None
        commits = self.conntrack.commits
        if seen == commits:  # no connection opened since this flow was seen without one
            return verdict
        if self.conntrack.lookup(flow) is not None:
            return None
        self.entries[key] = (*entry[:4], commits)
        return verdict

    def put(self, key: CacheKey, verdict: Verdict) -> None:
        """Remember a verdict computed by the full pipeline."""
        if len(self.entries) >= self.limit:
            self.entries.clear()
        flow = _flow(key)
        live = flow in self.conntrack.connections
        if verdict.action is Disposition.FORWARD and verdict.reason is Reason.ALLOWED and live:
            return  # this packet opened a connection: the next one is "established"
        conn = None
        seen = -1
        if verdict.action is Disposition.FORWARD and verdict.reason is Reason.ESTABLISHED:
            condition = NEEDS_CONNECTION
            conn = self.conntrack.connections.get(flow)
            if conn is None:
                return
        elif verdict.stage in _POLICY_STAGES:
            condition = NEEDS_NO_CONNECTION
            if not live:
                seen = self.conntrack.commits
        else:
            condition = STATELESS
        self.entries[key] = (verdict, condition, flow, conn, seen)

    def clear(self) -> None:
        self.entries.clear()
