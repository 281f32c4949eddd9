"""A small collector that turns rule breaks into located Violations."""

from __future__ import annotations

from tenantry.errors import Violation
from tenantry.model.ids import Ref
from tenantry.model.kinds import Kind

__all__ = ["Collector"]


class Collector:
    """Accumulates violations, each located at (kind, ref, field)."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def add(
        self,
        rule: str,
        message: str,
        *,
        kind: Kind,
        ref: Ref,
        field: str = "",
        objects: tuple[str, ...] = (),
    ) -> None:
        """Record one broken rule."""
        named = objects or (f"{kind} {ref}",)
        self.violations.append(
            Violation(rule, message, named, kind=str(kind), ref=str(ref), field=field)
        )
