"""Batch classification with numpy: many frames per call, the per-packet Python work gone.

Frames come as one ``uint8`` array of shape (n, width) (each row a frame, zero-padded;
``width`` a multiple of 8 and at least 64) with their lengths and ingress rows. Eligible
frames (those the scalar flow cache accepts: untagged IPv4 TCP/UDP without options or
fragmentation, well formed, not DHCP) are looked up in a 2-way table keyed exactly like
``flows.flow_cache_key``; a hit costs no Python. Misses and every other frame go through the
scalar pipeline one by one (and fill the table). Results are verdict ids into
``BatchResult.verdicts``.

Connection conditions are kept in arrays: an entry riding on a connection holds its expiry
and refreshes the connection (in Python) at most once per ``REFRESH_S`` per flow; an entry for
a policy drop holds while no connection was opened since it was checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tenantry.dataplane.reference._kernel import RECHECK, probe_kernel
from tenantry.dataplane.reference.conntrack import Connection, ConnTrack, FlowKey
from tenantry.dataplane.reference.flows import (
    NEEDS_CONNECTION,
    NEEDS_NO_CONNECTION,
    FlowCache,
    flow_cache_key,
)
from tenantry.dataplane.verdict import Disposition, Verdict

__all__ = ["BatchClassifier", "BatchResult"]

TABLE_BITS = 16
REFRESH_S = 1.0
_M = np.uint64
_C = (
    _M(0x9E3779B97F4A7C15),
    _M(0xC2B2AE3D27D4EB4F),
    _M(0x165667B19E3779F9),
    _M(0xD6E8FEB86659FD93),
)
_CONSTANTS = np.array(_C, np.uint64)
_ETH_IPV4_IHL5 = _M(0x450008)
"""Bytes 12-14 (08 00 45) as they sit in bits 32-55 of the second little-endian word."""
_FRAG_MASK = _M(0xFFBF) << _M(32)
"""Bytes 20-21 but the DF bit: any other flag or offset means a fragment (or reserved bit)."""
_LOW48 = _M(0xFFFF_FFFF_FFFF)


@dataclass(frozen=True)
class BatchResult:
    """Verdict ids per frame, into ``verdicts``; ``hits`` answered without Python."""

    verdict_ids: npt.NDArray[np.int32]
    verdicts: list[Verdict]
    hits: int

    @property
    def forwarded(self) -> npt.NDArray[np.bool_]:
        """Which frames were forwarded."""
        forward = np.array([v.action is Disposition.FORWARD for v in self.verdicts], np.bool_)
        return forward[self.verdict_ids]


def batch_keys(
    frames: npt.NDArray[np.uint8],
    lengths: npt.NDArray[np.integer],
    rows: npt.NDArray[np.integer],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """Exact keys (4, n) and eligibility, vectorised (mirrors ``flow_cache_key``)."""
    # one transposing copy makes every later operation run on contiguous words
    words = np.ascontiguousarray(frames.view(np.uint64)[:, :6].T)
    w0, w1, w2, w3, w4, w5 = words
    proto = w2 >> _M(56)
    total = ((w2 & _M(0xFF)) << _M(8)) | ((w2 >> _M(8)) & _M(0xFF))
    size = lengths.astype(np.uint64)
    data_offset = (w5 >> _M(48)) & _M(0xFF)
    tcp = (proto == 6) & (size >= 54) & (data_offset >= 0x50)
    tcp &= total >= _M(20) + (data_offset >> _M(4)) * _M(4)
    udp_len = ((w4 >> _M(40)) & _M(0xFF00)) | (w4 >> _M(56))
    sport = ((w4 & _M(0xFF0000)) >> _M(8)) | ((w4 >> _M(24)) & _M(0xFF))
    dport = ((w4 >> _M(24)) & _M(0xFF00)) | ((w4 >> _M(40)) & _M(0xFF))
    # unsigned wrap-around: (port - 67) <= 1 exactly for 67 and 68 (DHCP)
    dhcp = ((sport - _M(67)) <= _M(1)) | ((dport - _M(67)) <= _M(1))
    udp = (proto == 17) & (udp_len >= 8) & (udp_len + _M(20) <= total) & ~dhcp
    eligible = (
        (((w1 >> _M(32)) & _M(0xFFFFFF)) == _ETH_IPV4_IHL5)
        & ((w2 & _FRAG_MASK) == 0)
        & (total + _M(14) <= size)
        & (size >= 47)
        & (tcp | udp)
    )
    row = rows.astype(np.uint64)
    keys = np.empty((4, len(frames)), np.uint64)
    keys[0] = w0
    keys[1] = (w1 & _M(0xFFFF_FFFF)) | ((w2 >> _M(48)) << _M(32)) | ((row & _M(0xFFFF)) << _M(48))
    keys[2] = (w3 >> _M(16)) | ((row >> _M(16)) << _M(48))
    keys[3] = w4 & _LOW48
    return keys, eligible


class BatchClassifier:
    """A numpy front for the scalar pipeline (see the module docstring)."""

    def __init__(self, classify: object, flows: FlowCache, conntrack: ConnTrack) -> None:
        self._classify = classify
        self._flows = flows
        self._conntrack = conntrack
        size = 1 << TABLE_BITS
        self._keys = np.zeros((4, size), np.uint64)
        self._used = np.zeros(size, np.bool_)
        self._verdict = np.zeros(size, np.int32)
        self._condition = np.zeros(size, np.uint8)
        self._expires = np.zeros(size, np.float64)
        self._refreshed = np.zeros(size, np.float64)
        self._commits = np.zeros(size, np.int64)
        self._riding: list[tuple[Connection | None, FlowKey] | None] = [None] * size
        self.verdicts: list[Verdict] = []
        self._verdict_ids: dict[int, int] = {}
        self.compiled = True
        """Use the compiled kernel when numba is installed (False: always numpy)."""

    def clear(self) -> None:
        """Forget every entry (new programs were applied)."""
        self._used[:] = False
        self._riding = [None] * len(self._riding)
        self.verdicts.clear()
        self._verdict_ids.clear()

    def _id(self, verdict: Verdict) -> int:
        found = self._verdict_ids.get(id(verdict))
        if found is None:
            found = self._verdict_ids[id(verdict)] = len(self.verdicts)
            self.verdicts.append(verdict)
        return found

    def _probe(
        self, slots: npt.NDArray[np.intp], keys: npt.NDArray[np.uint64]
    ) -> npt.NDArray[np.bool_]:
        found = self._used[slots]
        for column, table in enumerate(self._keys):
            found &= table[slots] == keys[column]
        return found

    def classify(
        self,
        frames: npt.NDArray[np.uint8],
        lengths: npt.NDArray[np.integer],
        rows: npt.NDArray[np.integer],
    ) -> BatchResult:
        """Verdicts for a batch of frames."""
        now = self._conntrack.clock()
        if probe_kernel is not None and self.compiled:
            ids, first, second, eligible, keys = self._lookup_compiled(frames, lengths, rows, now)
        else:
            ids, first, second, eligible, keys = self._lookup_numpy(frames, lengths, rows, now)
        hits = int(np.count_nonzero(ids >= 0))
        for i in np.flatnonzero(ids < 0).tolist():
            frame = frames[i, : int(lengths[i])].tobytes()
            row = int(rows[i])
            verdict = self._classify(frame, row)  # type: ignore[operator]
            ids[i] = self._id(verdict)
            if eligible[i]:
                target = int(first[i]) if not self._used[first[i]] else int(second[i])
                self._remember(target, keys[:, i], flow_cache_key(frame, row), now)
        return BatchResult(ids, self.verdicts, hits)

    def _lookup_numpy(
        self,
        frames: npt.NDArray[np.uint8],
        lengths: npt.NDArray[np.integer],
        rows: npt.NDArray[np.integer],
        now: float,
    ) -> tuple[Any, Any, Any, Any, Any]:
        keys, eligible = batch_keys(frames, lengths, rows)
        h = (keys[0] * _C[0]) ^ (keys[1] * _C[1]) ^ (keys[2] * _C[2]) ^ (keys[3] * _C[3])
        first = (h >> _M(64 - TABLE_BITS)).astype(np.intp)
        second = (h & _M((1 << TABLE_BITS) - 1)).astype(np.intp)
        slot = first.copy()
        hit = eligible & self._probe(first, keys)
        retry = np.flatnonzero(eligible & ~hit)
        if len(retry):
            again = self._probe(second[retry], keys[:, retry])
            hit[retry[again]] = True
            slot[retry[again]] = second[retry[again]]
        ids = np.where(hit, self._verdict[slot], -1).astype(np.int32)
        self._check_conditions(ids, slot, now)
        return ids, first, second, eligible, keys

    def _lookup_compiled(
        self,
        frames: npt.NDArray[np.uint8],
        lengths: npt.NDArray[np.integer],
        rows: npt.NDArray[np.integer],
        now: float,
    ) -> tuple[Any, Any, Any, Any, Any]:
        n = len(frames)
        ids = np.empty(n, np.int32)
        status = np.empty(n, np.uint8)
        first = np.empty(n, np.int64)
        second = np.empty(n, np.int64)
        eligible = np.empty(n, np.bool_)
        keys = np.empty((4, n), np.uint64)
        assert probe_kernel is not None  # noqa: S101 - checked by the caller
        probe_kernel(
            frames, frames.view(np.uint64), lengths, rows, self._keys, self._used,
            self._verdict, self._condition, self._expires, self._refreshed, self._commits,
            now, self._conntrack.commits,
            REFRESH_S, TABLE_BITS, _CONSTANTS, ids, status, first, second, eligible, keys,
        )  # fmt: skip
        recheck = np.flatnonzero(status == RECHECK)
        if len(recheck):
            slots = first[recheck]
            commits = self._conntrack.commits
            for s in np.unique(slots).tolist():
                if self._condition[s] == NEEDS_CONNECTION:
                    self._refresh(s, now)
                else:
                    entry = self._riding[s]
                    if entry is not None and self._conntrack.lookup(entry[1]) is None:
                        self._commits[s] = commits
            valid = np.where(
                self._condition[slots] == NEEDS_CONNECTION,
                self._expires[slots] > now,
                self._commits[slots] == commits,
            )
            ids[recheck[~valid]] = -1
        # for misses the kernel left the first candidate in `first` (hits: their slot)
        return ids, first, second, eligible, keys

    def _check_conditions(
        self, ids: npt.NDArray[np.int32], slot: npt.NDArray[np.intp], now: float
    ) -> None:
        """Turn hits whose connection condition no longer holds into misses."""
        condition = np.where(ids >= 0, self._condition[slot], 0)
        riding = np.flatnonzero(condition == NEEDS_CONNECTION)
        if len(riding):
            slots = slot[riding]
            ids[riding[self._expires[slots] <= now]] = -1
            stale = np.unique(
                slots[(now - self._refreshed[slots] > REFRESH_S) & (self._expires[slots] > now)]
            )
            for s in stale.tolist():
                self._refresh(s, now)
            ids[riding[self._expires[slots] <= now]] = -1
        denied = np.flatnonzero(condition == NEEDS_NO_CONNECTION)
        if len(denied):
            commits = self._conntrack.commits
            slots = slot[denied]
            for s in np.unique(slots[self._commits[slots] != commits]).tolist():
                entry = self._riding[s]
                if entry is not None and self._conntrack.lookup(entry[1]) is None:
                    self._commits[s] = commits
            ids[denied[self._commits[slots] != commits]] = -1

    def _refresh(self, s: int, now: float) -> None:
        entry = self._riding[s]
        conn = entry[0] if entry is not None else None
        if conn is not None and self._conntrack.touch(conn):
            self._expires[s] = conn.expires
            self._refreshed[s] = now
        else:
            self._expires[s] = 0.0

    def _remember(
        self, slot: int, key: npt.NDArray[np.uint64], cache_key: object, now: float
    ) -> None:
        entry = self._flows.entries.get(cache_key)  # type: ignore[call-overload]
        if entry is None:
            return
        verdict, condition, flow, conn, _ = entry
        self._keys[:, slot] = key
        self._used[slot] = True
        self._verdict[slot] = self._id(verdict)
        self._condition[slot] = condition
        self._riding[slot] = (conn, flow)
        self._expires[slot] = conn.expires if conn is not None else 0.0
        self._refreshed[slot] = now
        self._commits[slot] = self._conntrack.commits
