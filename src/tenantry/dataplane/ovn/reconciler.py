"""A long-running reconciler: hand edits to the Northbound database undone within seconds.

The replica is told of every row change by the database itself (an OVSDB monitor update), so
the reconciler wakes on the change, compares the owned rows with the programs and, when they
differ, reconciles in one transaction. Its own writes wake it too; the comparison then finds
nothing and it sleeps again. A periodic comparison (``interval``) covers anything a
notification could miss (a reconnect that resynchronised the replica). Only owned rows are
ever repaired: a foreign row (an operator's switch) is none of its business.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tenantry.compiler import Programs
from tenantry.dataplane.ovn.backend import OvnBackend
from tenantry.dataplane.ovn.rows import Change

__all__ = ["Reconciler", "Repair"]

#: After a notification, wait this long for the rest of a burst of edits before comparing, so
#: one ``ovn-nbctl`` command touching several rows is repaired in one transaction.
_SETTLE_SECONDS = 0.02


@dataclass(frozen=True)
class Repair:
    """One repair: what differed, how many rows were written, and how long it took."""

    drift: tuple[Change, ...]
    written: int
    seconds: float
    """From the first notification of the change to the repair committed."""


class Reconciler:
    """Keeps the Northbound database equal to ``programs`` until stopped."""

    def __init__(
        self,
        backend: OvnBackend,
        programs: Programs,
        *,
        interval: float = 10.0,
        on_repair: Callable[[Repair], None] | None = None,
    ) -> None:
        self.backend = backend
        self.programs = programs
        self.interval = interval
        self.on_repair = on_repair
        self.repairs: list[Repair] = []
        self._changed = backend.client.watch()
        self._stop = threading.Event()

    def check(self, since: float | None = None) -> Repair | None:
        """Compare once and repair what differs; the repair, or None if nothing differed."""
        started = time.perf_counter() if since is None else since
        drift = self.backend.drift(self.programs)
        if not drift:
            return None
        self.backend.apply(self.programs)
        repair = Repair(tuple(drift), len(self.backend.last_changes), time.perf_counter() - started)
        self.repairs.append(repair)
        if self.on_repair is not None:
            self.on_repair(repair)
        return repair

    def run(self) -> None:
        """Repair on every change notification (and every ``interval``) until ``stop()``."""
        self.check()
        while not self._stop.is_set():
            woken = self._changed.wait(self.interval)
            if self._stop.is_set():
                return
            since = time.perf_counter()
            if woken:
                time.sleep(_SETTLE_SECONDS)
            self._changed.clear()
            self.check(since)

    def stop(self) -> None:
        """Make ``run`` return (from another thread or a signal handler)."""
        self._stop.set()
        self._changed.set()
