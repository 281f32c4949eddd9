"""The audit side of the service: building records, appending them, reading the trail."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from tenantry.audit import AuditRecord, Outcome, SignedTreeHead
from tenantry.errors import AuditUnavailableError
from tenantry.governance import Actor
from tenantry.service.audit_outage import AuditOutage
from tenantry.service.audit_scopes import event_records
from tenantry.service.auditing import AuditTrail
from tenantry.service.trail import read_trail
from tenantry.store import Store, StoredAuditEntry

__all__ = ["AuditRecording"]


class AuditRecording:
    """Mixed into Service: every event that changes no estate object goes through ``record``."""

    store: Store
    clock: Callable[[], datetime]
    audit: AuditTrail
    _outage: AuditOutage

    def audit_record(
        self,
        actor: Actor | str,
        action: str,
        outcome: Outcome | str,
        *,
        targets: Sequence[str] = (),
        tenants: Sequence[str] = (),
        reason: str = "",
        details: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> list[AuditRecord]:
        """The entries of something an actor did, one per tenant concerned (no entry names two
        tenants), for the caller to write in its own transaction."""
        who = actor if isinstance(actor, Actor) else Actor(name=actor)
        if source is not None:
            who = dataclasses.replace(who, source=source)
        return event_records(
            who,
            action,
            Outcome(outcome),
            targets=tuple(targets),
            tenants=sorted({t for t in tenants if t not in ("", "provider")}),
            reason=reason,
            details=dict(details or {}),
            now=self.clock(),
        )

    def record(
        self,
        actor: Actor | str,
        action: str,
        outcome: Outcome | str,
        *,
        targets: Sequence[str] = (),
        tenant: str | None = None,
        tenants: Sequence[str] = (),
        reason: str = "",
        details: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> SignedTreeHead:
        """Write one event (a login, an approval, a key release, a use of a data-access grant)
        durably with its signed head; AuditUnavailableError if it cannot be written, in which
        case the caller must not go on (fail closed)."""
        records = self.audit_record(
            actor,
            action,
            outcome,
            targets=targets,
            tenants=[*tenants, *([] if tenant is None else [tenant])],
            reason=reason,
            details=details,
            source=source,
        )
        head = self._append(records)
        if head is None:  # pragma: no cover - an append with a signer always signs
            raise AuditUnavailableError("the audit event was written without a signed head")
        return head

    def _append(self, records: Sequence[AuditRecord]) -> SignedTreeHead | None:
        with self._outage.writing():
            return self.store.append_audit(
                self._outage.reported(records), sign=self.audit.sign_head
            )

    def audit_trail(
        self, actor: Actor, *, start: int = 0, limit: int = 100
    ) -> tuple[list[StoredAuditEntry], int | None]:
        """The audit entries the actor may read, from ``start``, and the next page's start."""
        return read_trail(self.store, actor, start=start, limit=limit)
