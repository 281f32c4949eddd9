"""The batch lookup as one compiled loop (numba), when numba is installed.

It computes exactly what ``batch.batch_keys`` and the table probe compute with numpy (same
keys, same hash, same slots), frame by frame without temporaries. Without numba the numpy
path runs instead; the verdicts are the same either way (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["HIT", "MISS", "RECHECK", "probe_kernel"]

HIT = 0
MISS = 1
RECHECK = 2
"""A hit whose connection condition must be checked in Python (stale refresh, new commits)."""

probe_kernel: Callable[..., Any] | None

try:  # numba is optional ("fast" extra); the numpy path is the fallback
    from numba import njit
except ImportError:  # pragma: no cover - exercised where numba is absent
    probe_kernel = None
else:

    @njit(cache=True, nogil=True)
    def _probe(  # noqa: PLR0917 - one flat signature is what a compiled kernel takes
        frames: Any,
        words: Any,
        lengths: Any,
        rows: Any,
        table: Any,
        used: Any,
        verdicts: Any,
        conditions: Any,
        expires: Any,
        refreshed: Any,
        commits: Any,
        now: float,
        ct_commits: int,
        refresh_s: float,
        bits: int,
        constants: Any,
        out_ids: Any,
        out_status: Any,
        out_first: Any,
        out_second: Any,
        out_eligible: Any,
        out_keys: Any,
    ) -> None:
        mask = (np.uint64(1) << np.uint64(bits)) - np.uint64(1)
        shift = np.uint64(64 - bits)
        for i in range(frames.shape[0]):
            size = lengths[i]
            total = (np.int64(frames[i, 16]) << 8) | np.int64(frames[i, 17])
            proto = frames[i, 23]
            eligible = (
                frames[i, 12] == 0x08
                and frames[i, 13] == 0x00
                and frames[i, 14] == 0x45
                and (frames[i, 20] & 0xBF) == 0
                and frames[i, 21] == 0
                and total + 14 <= size
                and size >= 47
            )
            if eligible:
                if proto == 6:
                    offset = np.int64(frames[i, 46])
                    eligible = size >= 54 and offset >= 0x50 and total >= 20 + (offset >> 4) * 4
                elif proto == 17:
                    udp_len = (np.int64(frames[i, 38]) << 8) | np.int64(frames[i, 39])
                    sport = (np.int64(frames[i, 34]) << 8) | np.int64(frames[i, 35])
                    dport = (np.int64(frames[i, 36]) << 8) | np.int64(frames[i, 37])
                    # unsigned-style range test: 67 and 68 are DHCP (explicit for numba)
                    dhcp = 67 <= sport <= 68 or 67 <= dport <= 68
                    eligible = 8 <= udp_len <= total - 20 and not dhcp
                else:
                    eligible = False
            row = np.uint64(rows[i])
            k0 = words[i, 0]
            k1 = (
                (words[i, 1] & np.uint64(0xFFFFFFFF))
                | ((words[i, 2] >> np.uint64(48)) << np.uint64(32))
                | ((row & np.uint64(0xFFFF)) << np.uint64(48))
            )
            k2 = (words[i, 3] >> np.uint64(16)) | ((row >> np.uint64(16)) << np.uint64(48))
            k3 = words[i, 4] & np.uint64(0xFFFFFFFFFFFF)
            out_keys[0, i] = k0
            out_keys[1, i] = k1
            out_keys[2, i] = k2
            out_keys[3, i] = k3
            h = (
                (k0 * constants[0])
                ^ (k1 * constants[1])
                ^ (k2 * constants[2])
                ^ (k3 * constants[3])
            )
            first = np.int64(h >> shift)
            second = np.int64(h & mask)
            out_first[i] = first
            out_second[i] = second
            out_eligible[i] = eligible
            out_ids[i] = -1
            out_status[i] = MISS
            if not eligible:
                continue
            if (
                used[first]
                and table[0, first] == k0
                and table[1, first] == k1
                and table[2, first] == k2
                and table[3, first] == k3
            ):
                slot = first
            elif (
                used[second]
                and table[0, second] == k0
                and table[1, second] == k1
                and table[2, second] == k2
                and table[3, second] == k3
            ):
                slot = second
            else:
                continue
            condition = conditions[slot]
            status = HIT
            if condition == 1:  # riding on a connection
                if expires[slot] <= now:
                    continue
                if now - refreshed[slot] > refresh_s:
                    status = RECHECK
            elif condition == 2 and commits[slot] != ct_commits:  # a policy drop
                status = RECHECK
            out_ids[i] = verdicts[slot]
            out_status[i] = status
            out_first[i] = slot

    probe_kernel = _probe
