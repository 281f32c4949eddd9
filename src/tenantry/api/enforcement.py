"""The CLI's enforcement hook, made fit for a long-running, multi-threaded server.

Request threads commit concurrently and then run the hooks, so two commits' hooks can run at
once or out of order. Here they run one at a time, a commit older than the one already
enforced is skipped (enforcing it would roll the data plane back), and each commit's report
is kept for the response of the request that made it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from tenantry.dataplane.backend import Backend
from tenantry.dataplane.enforcement import EnforcementHook, EnforcementReport

__all__ = ["ServedEnforcement"]


class ServedEnforcement:
    """A CommitHook: compile and enforce each commit on ``backend``, newest state wins."""

    def __init__(self, backend: Backend, *, keep: int = 256) -> None:
        self._hook = EnforcementHook(backend)
        self._lock = threading.Lock()
        self._enforced: int | None = None
        self._reports: OrderedDict[int, EnforcementReport] = OrderedDict()
        self._keep = keep

    @property
    def backend(self) -> Backend:
        """Where the programs are enforced."""
        return self._hook.backend

    def after_commit(self, plan: Any, generation: int) -> None:
        """Enforce the state of ``generation`` unless a newer one already is."""
        with self._lock:
            if self._enforced is not None and generation <= self._enforced:
                return
            self._hook.after_commit(plan, generation)
            self._enforced = generation
            if self._hook.report is not None:
                self._reports[generation] = self._hook.report
                while len(self._reports) > self._keep:
                    self._reports.popitem(last=False)

    @property
    def enforced(self) -> int | None:
        """The generation the backend holds."""
        return self._enforced

    def report(self, generation: int) -> EnforcementReport | None:
        """What enforcing ``generation`` did (None: not enforced, or superseded first)."""
        with self._lock:
            return self._reports.get(generation)
