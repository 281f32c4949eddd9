"""Refusals before anything is planned: names outside the actor's boundary, missing write
privileges, and the boundary rules on a change judged on its own; each refusal is audited."""

from __future__ import annotations

import logging

from tenantry.audit import Outcome
from tenantry.errors import (
    AccessError,
    AuditUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    TenantryError,
)
from tenantry.governance import (
    Actor,
    check_change,
    is_visible,
    may,
    privilege_for_kind,
    scope_of,
)
from tenantry.model import KIND_INFO, Change, Estate, Kind, Ref
from tenantry.service.recording import AuditRecording

__all__ = ["WriteGuards"]

log = logging.getLogger(__name__)


class WriteGuards(AuditRecording):
    """Mixed into Service."""

    def _check_change_alone(
        self, actor: Actor, action: str, change: Change, estate: Estate
    ) -> None:
        """The boundary and role rules for one change, refusals audited."""
        try:
            check_change(actor, change, estate)
        except PermissionDeniedError as exc:
            owner = change.ref.name if change.kind is Kind.TENANT else change.ref.owner
            self._refuse_names(actor, action, (str(change),), (actor.tenant or "", owner), exc)
            raise

    def _check_target(self, actor: Actor, action: str, kind: Kind, ref: Ref) -> None:
        """Refuse, before reading anything, a write the actor may not make to this name.

        Another tenant's name gets the same NotFoundError as a missing object (no existence
        oracle); provider infrastructure is refused to tenants; a missing privilege is
        refused even when the write would change nothing.
        """
        if actor.system:
            return
        exc: AccessError | NotFoundError
        if not is_visible(actor, kind, ref):
            if kind is Kind.TENANT or KIND_INFO[kind].owned:
                exc = NotFoundError(f"{kind} {ref} not found")
            else:
                exc = PermissionDeniedError(f"{actor} may not write provider {kind} {ref}")
        elif not may(actor, privilege_for_kind(kind), scope_of(kind, ref)):
            exc = PermissionDeniedError(
                f"{actor} lacks {privilege_for_kind(kind)} on {scope_of(kind, ref)}"
            )
        else:
            return
        owner = ref.name if kind is Kind.TENANT else ref.owner
        self._refuse_names(actor, action, (f"{kind} {ref}",), (actor.tenant or "", owner), exc)
        raise exc

    def _check_scope(self, actor: Actor, declared: Estate) -> None:
        """Refuse, before any diff, objects the actor may not even know about.

        Otherwise an unchanged object outside the actor's boundary would plan as "no change"
        and reveal that it exists, and what it holds.
        """
        if actor.is_provider:
            return
        for kind in KIND_INFO:
            for ref, _ in declared.items(kind):
                if not is_visible(actor, kind, ref):
                    exc = PermissionDeniedError(
                        f"{actor} may not declare {kind} {ref}: outside the tenant's boundary"
                    )
                    tenants = tuple(sorted({actor.tenant or "", ref.owner} - {"", "provider"}))
                    self._refuse_names(actor, "apply", (f"{kind} {ref}",), tenants, exc)
                    raise exc

    def _refuse_names(
        self,
        actor: Actor,
        action: str,
        targets: tuple[str, ...],
        tenants: tuple[str, ...],
        exc: TenantryError,
    ) -> None:
        """Audit a refusal about names (before any plan), per tenant concerned."""
        try:
            self.record(
                actor,
                action,
                Outcome.REFUSED,
                reason=f"{exc.code}: {exc}",
                targets=targets,
                tenants=tenants,
            )
        except AuditUnavailableError:
            # The refusal stands either way; the gap is recorded with the next write.
            log.warning("audit log unavailable: refusal of %s by %s not recorded", action, actor)
