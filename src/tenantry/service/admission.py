"""Admission: the rules a proposed estate must satisfy before anything is written."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tenantry.errors import AdmissionError, CapacityError, IsolationViolationError, Violation
from tenantry.model import Estate, check_estate
from tenantry.placement import check_capacity
from tenantry.service.isolation import IsolationViolation, check_isolation

__all__ = ["DEFAULT_CHECKS", "STRUCTURAL_CHECKS", "AdmissionCheck", "admit", "refusal"]

AdmissionCheck = Callable[[Estate], list[Violation]]
"""A rule set over a whole estate; admission refuses the violations a change introduces."""

STRUCTURAL_CHECKS: tuple[AdmissionCheck, ...] = (check_estate, check_capacity)
"""The model's rules and capacity, without the isolation proof."""

DEFAULT_CHECKS: tuple[AdmissionCheck, ...] = (*STRUCTURAL_CHECKS, check_isolation)


def admit(
    current: Estate, proposed: Estate, checks: Sequence[AdmissionCheck] = DEFAULT_CHECKS
) -> list[Violation]:
    """Violations the proposed estate has and the current one does not.

    Judging only what a change introduces keeps an estate that predates a rule manageable:
    unrelated changes still go through, and fixing the old violation is always allowed.
    """
    introduced: list[Violation] = []
    for check in checks:
        before = set(check(current))
        introduced.extend(v for v in check(proposed) if v not in before)
    return introduced


def refusal(violations: Sequence[Violation]) -> AdmissionError:
    """The most specific AdmissionError for a set of violations."""
    leaks = [v for v in violations if isinstance(v, IsolationViolation)]
    if leaks:
        return IsolationViolationError(
            violations, counterexamples=[v.counterexample for v in leaks]
        )
    if all(v.rule.startswith(("capacity", "placement-none")) for v in violations):
        return CapacityError(violations)
    return AdmissionError(violations)
