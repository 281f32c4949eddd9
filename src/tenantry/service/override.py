"""Overriding an isolation refusal: never one person's decision.

A provider user may ask to admit a change that opens a leak; the request then waits, with its
counterexamples, for a second, different person holding ``approvals.decide`` (the two-person
rule). The local operator and tenants cannot ask at all: there is no second person behind them.
"""

from __future__ import annotations

from collections.abc import Sequence

from tenantry.errors import IsolationViolationError, Violation
from tenantry.governance import Actor
from tenantry.service.admission import refusal
from tenantry.service.isolation import IsolationViolation

__all__ = ["OVERRIDE_HINT", "leak_reason", "overridden_leaks"]

OVERRIDE_HINT = (
    "Only a provider user can ask to admit a change that opens a leak, and a second, "
    "different person must approve it (two-person rule); the local operator and tenants cannot."
)


def overridden_leaks(
    actor: Actor, violations: Sequence[Violation], *, requested: bool
) -> list[IsolationViolation]:
    """The leaks an override request covers (empty when there are no violations); raises the
    refusal when there is anything else to refuse or the actor may not ask."""
    if not violations:
        return []
    leaks = [v for v in violations if isinstance(v, IsolationViolation)]
    if not requested or len(leaks) != len(violations):
        raise refusal(violations)
    if actor.system or not actor.is_provider:
        raise IsolationViolationError(
            violations, counterexamples=[v.counterexample for v in leaks], hint=OVERRIDE_HINT
        )
    return leaks


def leak_reason(leak: IsolationViolation) -> str:
    """The sensitive reason a second approver agrees to, stable for the same pair and kind."""
    return f"open a leak between tenants: {leak.message} [{leak.rule}]"
