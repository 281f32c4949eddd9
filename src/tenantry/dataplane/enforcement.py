"""Driving a backend from the service: compile after each commit and apply the result."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from tenantry.compiler import ProgramDelta, Programs, compile_estate, recompile
from tenantry.dataplane.backend import Backend
from tenantry.model import ChangeSet, Estate

__all__ = ["EnforcementHook", "EnforcementReport"]


class _Plan(Protocol):
    """What the hook reads from the service's Plan (kept structural: service sits above us)."""

    @property
    def current(self) -> Estate: ...

    @property
    def proposed(self) -> Estate: ...

    @property
    def changes(self) -> ChangeSet: ...


@dataclass(frozen=True)
class EnforcementReport:
    """What one apply enforced, and how long compile and apply took."""

    backend: str
    generation: int
    ports: int
    policies: int
    rules: int
    chains: int
    incremental: bool
    compile_ms: float
    apply_ms: float

    def __str__(self) -> str:
        how = "incremental" if self.incremental else "full"
        return (
            f"Enforced on the {self.backend} backend (generation {self.generation}): "
            f"{self.ports} ports, {self.policies} policies ({self.rules} rules) in "
            f"{self.chains} chains; {how} compile {self.compile_ms:.1f} ms, "
            f"apply {self.apply_ms:.1f} ms."
        )


class EnforcementHook:
    """A CommitHook: after each commit, compile (incrementally when it can) and apply."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._programs: Programs | None = None
        self._estate: Estate | None = None
        self.report: EnforcementReport | None = None

    def after_commit(self, plan: _Plan, generation: int) -> None:
        """Compile the committed estate and enforce it (raises the backend's errors)."""
        started = time.perf_counter()
        delta: ProgramDelta | None = None
        if self._programs is not None and self._estate is not None and self._estate == plan.current:
            programs, delta = recompile(self._programs, plan.current, plan.changes)
        else:
            programs = compile_estate(plan.proposed)
        compiled = time.perf_counter()
        self.backend.apply(programs, delta)
        applied = time.perf_counter()
        self._programs, self._estate = programs, plan.proposed
        self.report = EnforcementReport(
            backend=self.backend.name,
            generation=generation,
            ports=len(programs.live_rows()),
            policies=sum(1 for p in programs.policies if p is not None),
            rules=programs.rule_count(),
            chains=len(set(programs.ports.chain[programs.live_rows()].tolist())),
            incremental=delta is not None and not delta.full,
            compile_ms=(compiled - started) * 1000,
            apply_ms=(applied - compiled) * 1000,
        )
