"""The reference backend: the executable definition of docs/semantics.md, in process."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from tenantry.compiler import ProgramDelta, Programs
from tenantry.dataplane.reference.batch import BatchClassifier, BatchResult
from tenantry.dataplane.reference.conntrack import ConnTrack
from tenantry.dataplane.reference.flows import (
    HEADER,
    STATELESS,
    TCP_MIN_TOTAL,
    FlowCache,
    flow_cache_key,
)
from tenantry.dataplane.reference.pipeline import Pipeline
from tenantry.dataplane.reference.tables import Tables
from tenantry.dataplane.verdict import Verdict
from tenantry.errors import BackendUnavailableError, InputError, NotFoundError

__all__ = ["ReferenceBackend"]

_unpack_header = HEADER.unpack_from  # bound once: the per-packet path skips the lookup


class ReferenceBackend:
    """Enforces programs in memory; ``classify`` gives the verdict on one frame."""

    name = "reference"

    def __init__(
        self, programs: Programs | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.conntrack = ConnTrack(clock)
        self._clock = clock
        self.flows = FlowCache(self.conntrack)
        self._entries = self.flows.entries
        self.batch = BatchClassifier(self.classify, self.flows, self.conntrack)
        self._pipeline: Pipeline | None = None
        self.flushed = 0
        """Connections cut by the last ``apply`` because the new programs deny them."""
        if programs is not None:
            self.apply(programs)

    # ------------------------------------------------------------------ Backend

    def apply(self, programs: Programs, delta: ProgramDelta | None = None) -> None:
        """Enforce ``programs``; established connections the new programs deny are cut.

        With an incremental ``delta`` that kept every port (a policy change), the lookup
        tables are reused; otherwise they are rebuilt from the programs."""
        current = self._pipeline
        if (
            delta is not None
            and not delta.full
            and current is not None
            and current.tables.shares_layout(programs)
        ):
            tables = current.tables.rebind(programs)
        else:
            tables = Tables(programs)
        pipeline = Pipeline(tables, self.conntrack)
        self._pipeline = pipeline
        self.flows.clear()
        self.batch.clear()
        self.flushed = self.conntrack.flush(lambda c: pipeline.still_allowed(c.ingress, c.facts))

    def read_back(self) -> Programs:
        """The programs being enforced."""
        return self._current().tables.programs

    def close(self) -> None:
        """Nothing to release; connections are forgotten."""
        self.conntrack.connections.clear()

    # ------------------------------------------------------------------ classification

    @property
    def programs(self) -> Programs:
        return self._current().tables.programs

    def port(self, name: str) -> int:
        """The row of a port by name (``tenant/guest/vnic``); NotFoundError if unknown."""
        row = self.programs.port_row(name)
        if row is None:
            raise NotFoundError(
                f"port {name} not found", hint="List ports with `tenantry get guest`."
            )
        return row

    def classify(self, frame: bytes, ingress: int | str, *, trace: bool = False) -> Verdict:
        """The verdict on ``frame`` sent by the guest behind port ``ingress`` (row or name);
        ``trace`` records every stage (and bypasses the flow cache)."""
        if ingress.__class__ is not int or trace:
            return self._classify_named(frame, ingress, trace=trace)
        row: int = ingress
        # the flow cache's hit path (flows.FlowCache.get and hit_holds), inlined: it is what
        # runs per packet, and every call, field and test saved here counts
        size = len(frame)
        if size >= 47:  # flows.MIN_SIZE
            head, total, fragment_ttl_proto, tail, udp_len, offset = _unpack_header(frame)
            entry = self._entries.get((row, head, fragment_ttl_proto, tail))
            if (
                entry is not None
                and total + 14 <= size
                and (
                    total >= TCP_MIN_TOTAL[offset]
                    if fragment_ttl_proto & 0xFF == 6
                    else 8 <= udp_len <= total - 20
                )
            ):
                if entry[4] == self.conntrack.commits:  # a drop, no connection opened since
                    return entry[0]
                conn = entry[3]
                if conn is not None:
                    now = self._clock()
                    if conn.alive and conn.expires >= now:  # ConnTrack.touch, inlined
                        conn.expires = now + conn.timeout
                        return entry[0]
                elif entry[1] == STATELESS:
                    return entry[0]
                verdict = self.flows.still_holds((row, head, fragment_ttl_proto, tail), entry)
                if verdict is not None:
                    return verdict
        verdict = self._current().classify(frame, row)
        key = flow_cache_key(frame, row)
        if key is not None:
            self.flows.put(key, verdict)
        return verdict

    def _classify_named(self, frame: bytes, ingress: int | str, *, trace: bool) -> Verdict:
        row = ingress if ingress.__class__ is int else self.port(ingress)  # type: ignore[arg-type]
        if trace:
            return self._current().classify(frame, row, trace=True)
        return self.classify(frame, row)

    def classify_batch(
        self,
        frames: npt.NDArray[np.uint8],
        lengths: npt.NDArray[np.integer],
        ingress: npt.NDArray[np.integer],
    ) -> BatchResult:
        """Verdicts for many frames at once: ``frames`` is (n, width) uint8, zero-padded,
        width a multiple of 8 and at least 64 (see ``reference.batch``)."""
        self._current()
        width = frames.shape[1] if frames.ndim == 2 else 0
        if width < 64 or width % 8 or not frames.flags.c_contiguous:
            raise InputError(
                f"frames must be a C-contiguous (n, width) uint8 array, width >= 64 and a "
                f"multiple of 8; got shape {frames.shape}"
            )
        return self.batch.classify(frames, lengths, ingress)

    def _current(self) -> Pipeline:
        if self._pipeline is None:
            raise BackendUnavailableError("the reference backend has no programs yet; apply first")
        return self._pipeline
