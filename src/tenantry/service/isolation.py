"""Isolation at admission, and replaying counterexamples on the reference backend.

Admission compiles the would-be estate and runs the verifier on it; a change that opens a
path between tenants is refused with the counterexample (``IsolationViolationError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tenantry.compiler import Programs, compile_estate
from tenantry.dataplane import Disposition
from tenantry.dataplane.reference import ReferenceBackend
from tenantry.errors import Violation
from tenantry.model import Estate
from tenantry.verify import Counterexample, Report, physical_facts, verify, wire_programs
from tenantry.verify.domains import map_domains

__all__ = ["IsolationViolation", "check_isolation", "replay", "verify_estate"]


@dataclass(frozen=True)
class IsolationViolation(Violation):
    """A leak as an admission violation; equal for the same pair and kind whatever the
    counterexample, so a leak that predates a change does not block it."""

    counterexample: str = field(default="", compare=False)
    tenants: tuple[str, ...] = field(default=(), compare=False)
    """The owners on either side of the leak."""


def verify_estate(estate: Estate) -> tuple[Programs, Report]:
    """Compile an estate and verify it (the programs are what the reference backend enforces)."""
    programs = compile_estate(estate)
    return programs, verify(programs, physical_facts(estate))


def check_isolation(estate: Estate) -> list[Violation]:
    """An admission check: one violation per leaking (source, target, kind)."""
    _, report = verify_estate(estate)
    return [
        IsolationViolation(
            f"isolation-{leak.kind}",
            f"{leak.source} reaches {leak.target}: {leak.cause}",
            (f"tenant {leak.source}", f"tenant {leak.target}"),
            counterexample=str(leak.counterexample),
            tenants=(leak.source, leak.target),
        )
        for leak in report.leaks
    ]


def replay(programs: Programs, estate: Estate, example: Counterexample) -> list[str]:
    """Replay every hop on the reference backend enforcing the wire view of ``programs``;
    the problems found (empty: the data plane really forwards each hop as claimed)."""
    wire = wire_programs(programs, map_domains(programs, physical_facts(estate)))
    backend = ReferenceBackend(wire)
    problems = []
    for hop in example.hops:
        backend.conntrack.connections.clear()
        verdict = backend.classify(hop.frame, hop.ingress)
        if verdict.action is not Disposition.FORWARD or hop.egress not in verdict.egress:
            problems.append(f"{hop.summary}: {verdict}")
    return problems
