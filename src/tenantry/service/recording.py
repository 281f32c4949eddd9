"""The audit side of the service: building records, appending them, reading the trail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from tenantry.audit import AuditRecord, Outcome
from tenantry.governance import Actor
from tenantry.service.trail import read_trail
from tenantry.store import Store, StoredAuditEntry

__all__ = ["AuditRecording"]


class AuditRecording:
    """Mixed into Service: every governance event goes through ``record``."""

    store: Store
    clock: Callable[[], datetime]

    def audit_record(
        self,
        actor: Actor | str,
        action: str,
        outcome: Outcome,
        *,
        targets: Sequence[str] = (),
        tenants: Sequence[str] = (),
        reason: str = "",
        details: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> AuditRecord:
        """An audit record of something an actor did (written by the caller's transaction)."""
        name = str(actor) if isinstance(actor, Actor) else actor
        origin = source if source is not None else getattr(actor, "source", "local")
        return AuditRecord(
            actor=name,
            source=origin,
            action=action,
            outcome=outcome,
            targets=tuple(targets),
            tenants=tuple(sorted(set(tenants) - {"", "provider"})),
            reason=reason,
            details=details or {},
            time=self.clock(),
        )

    def record(
        self,
        actor: Actor | str,
        action: str,
        outcome: Outcome,
        *,
        targets: Sequence[str] = (),
        tenants: Sequence[str] = (),
        reason: str = "",
        details: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> None:
        """Append one audit record on its own: a login, a lockout, an approval, a grant's use."""
        self.store.append_audit(
            [
                self.audit_record(
                    actor,
                    action,
                    outcome,
                    targets=targets,
                    tenants=tenants,
                    reason=reason,
                    details=details,
                    source=source,
                )
            ]
        )

    def audit_trail(
        self, actor: Actor, *, start: int = 0, limit: int = 100
    ) -> tuple[list[StoredAuditEntry], int | None]:
        """The audit entries the actor may read, from ``start``, and the next page's start."""
        return read_trail(self.store, actor, start=start, limit=limit)
