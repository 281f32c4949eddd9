"""assert_isolated / assert_leaks (pybatfish style): verify, and replay every counterexample."""

from __future__ import annotations

from dataclasses import dataclass

from tenantry.compiler import Programs, compile_estate
from tenantry.model import Estate
from tenantry.service.isolation import replay
from tenantry.verify import Leak, LeakKind, Report, physical_facts, verify

__all__ = ["Verified", "assert_isolated", "assert_leaks", "verified"]


@dataclass(frozen=True)
class Verified:
    estate: Estate
    programs: Programs
    report: Report


def verified(estate: Estate, programs: Programs | None = None) -> Verified:
    """Compile (unless programs are given) and verify."""
    programs = programs if programs is not None else compile_estate(estate)
    return Verified(estate, programs, verify(programs, physical_facts(estate)))


def assert_isolated(estate: Estate, programs: Programs | None = None) -> Verified:
    """The estate verifies: no leak at all."""
    __tracebackhide__ = True
    found = verified(estate, programs)
    if not found.report.isolated:
        shown = "\n".join(str(leak) for leak in found.report.leaks[:5])
        raise AssertionError(f"expected isolation, found leaks:\n{shown}")
    return found


def assert_leaks(
    estate: Estate, kind: LeakKind, source: str, target: str, programs: Programs | None = None
) -> Leak:
    """A leak of ``kind`` from ``source`` to ``target`` is found, and its counterexample
    really crosses on the reference backend (every hop delivered)."""
    __tracebackhide__ = True
    found = verified(estate, programs)
    leak = next(
        (k for k in found.report.leaks if (k.kind, k.source, k.target) == (kind, source, target)),
        None,
    )
    if leak is None:
        shown = "\n".join(str(k) for k in found.report.leaks[:5]) or "(none)"
        raise AssertionError(f"expected a {kind} leak {source} -> {target}; found:\n{shown}")
    if kind is not LeakKind.STORAGE:
        problems = replay(found.programs, estate, leak.counterexample)
        if problems or not leak.counterexample.hops:
            raise AssertionError(f"counterexample does not replay:\n{leak}\n" + "\n".join(problems))
    return leak
