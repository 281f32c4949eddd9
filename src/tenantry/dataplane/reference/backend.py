"""The reference backend: the executable definition of docs/semantics.md, in process."""

from __future__ import annotations

import time
from collections.abc import Callable

from tenantry.compiler import ProgramDelta, Programs
from tenantry.dataplane.reference.conntrack import ConnTrack
from tenantry.dataplane.reference.pipeline import Pipeline
from tenantry.dataplane.reference.tables import Tables
from tenantry.dataplane.verdict import Verdict
from tenantry.errors import BackendUnavailableError, NotFoundError

__all__ = ["ReferenceBackend"]


class ReferenceBackend:
    """Enforces programs in memory; ``classify`` gives the verdict on one frame."""

    name = "reference"

    def __init__(
        self, programs: Programs | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.conntrack = ConnTrack(clock)
        self._pipeline: Pipeline | None = None
        self.flushed = 0
        """Connections cut by the last ``apply`` because the new programs deny them."""
        if programs is not None:
            self.apply(programs)

    # ------------------------------------------------------------------ Backend

    def apply(self, programs: Programs, delta: ProgramDelta | None = None) -> None:
        """Enforce ``programs``; established connections the new programs deny are cut."""
        del delta  # tables are rebuilt from the programs; the delta is only an optimisation
        pipeline = Pipeline(Tables(programs), self.conntrack)
        self._pipeline = pipeline
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

    def classify(self, frame: bytes, ingress: int | str) -> Verdict:
        """The verdict on ``frame`` sent by the guest behind port ``ingress`` (row or name)."""
        pipeline = self._current()
        row = self.port(ingress) if isinstance(ingress, str) else ingress
        return pipeline.classify(frame, row)

    def _current(self) -> Pipeline:
        if self._pipeline is None:
            raise BackendUnavailableError("the reference backend has no programs yet; apply first")
        return self._pipeline
