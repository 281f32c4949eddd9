"""Tenant data: who may open a console, read or export a disk, dump memory, mirror traffic.

Inside a tenant, its roles decide. A provider operator (the provider's administrators
included) gets in only through an active grant that the tenant created for that operator,
that privilege and that guest, approved by a second provider person. The grant, each use
and its expiry are audited and visible to the tenant.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tenantry.audit import Outcome
from tenantry.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from tenantry.governance import (
    ROOT,
    TENANT_DATA_PRIVILEGES,
    Actor,
    Approval,
    DataGrant,
    GrantStatus,
    Privilege,
    Scope,
    authorize,
    is_visible,
    may,
    new_id,
    scope_of,
)
from tenantry.model import Guest, Kind, Ref
from tenantry.store import AuthorityStore

if TYPE_CHECKING:
    from tenantry.service.service import Service

__all__ = ["DataAccess"]


class DataAccess:
    """Data-access grants, and every use of a tenant-data privilege."""

    def __init__(self, service: Service) -> None:
        self._service = service

    @property
    def _store(self) -> AuthorityStore:
        return self._service.store.authority

    # ------------------------------------------------------------------ uses

    def use(
        self,
        actor: Actor,
        privilege: Privilege,
        guest: Ref,
        *,
        disk: str | None = None,
        vnic: str | None = None,
    ) -> dict[str, Any]:
        """Authorize and audit one use of a tenant-data privilege on a guest (or its disk or
        vNIC); returns what the caller may see of it (metadata, never plaintext)."""
        if privilege not in TENANT_DATA_PRIVILEGES:
            raise InputError(f"{privilege} is not a tenant-data privilege")
        target = (
            f"guest {guest}" + (f" disk {disk}" if disk else "") + (f" vnic {vnic}" if vnic else "")
        )
        try:
            via = self._authorize_use(actor, privilege, guest)
            detail = self._subject(guest, disk, vnic)
        except (NotFoundError, PermissionDeniedError) as exc:
            self._service.record(
                actor,
                f"data.{privilege}",
                Outcome.REFUSED,
                targets=[target],
                tenants=[actor.tenant or "", guest.owner],
                reason=f"{exc.code}: {exc}",
            )
            raise
        self._service.record(
            actor,
            f"data.{privilege}",
            Outcome.SUCCEEDED,
            targets=[target],
            tenants=[guest.owner],
            details={"via": via},
        )
        return {"privilege": str(privilege), "via": via, **detail}

    def _authorize_use(self, actor: Actor, privilege: Privilege, guest: Ref) -> str:
        # Checked before the guest is looked up: a refusal says nothing about existence.
        if not is_visible(actor, Kind.GUEST, guest):
            raise NotFoundError(f"guest {guest} not found")
        if not actor.is_provider:
            authorize(actor, privilege, scope_of(Kind.GUEST, guest))
            return "role"
        grant = self._active_grant(actor, privilege, guest)
        if grant is None:
            raise PermissionDeniedError(
                f"{actor} holds no active grant of {privilege} on guest {guest}",
                hint="Tenant data is the tenant's: only a grant it creates lets a "
                "provider operator in, for a limited time.",
            )
        return f"grant {grant.id}"

    def _subject(self, guest: Ref, disk: str | None, vnic: str | None) -> dict[str, Any]:
        found = self._service.snapshot().estate.get(Kind.GUEST, guest)
        if not isinstance(found, Guest):
            raise NotFoundError(f"guest {guest} not found")
        detail: dict[str, Any] = {"guest": str(guest), "power": str(found.power)}
        if disk is not None:
            match = next((d for d in found.disks if d.name == disk), None)
            if match is None:
                raise NotFoundError(f"disk {disk} of guest {guest} not found")
            detail["disk"] = {"name": match.name, "datastore": match.datastore, "size": match.size}
        if vnic is not None:
            nic = next((v for v in found.vnics if v.name == vnic), None)
            if nic is None:
                raise NotFoundError(f"vnic {vnic} of guest {guest} not found")
            detail["vnic"] = {"name": nic.name, "mac": nic.mac}
        return detail

    # ------------------------------------------------------------------ grants

    def request_grant(
        self,
        actor: Actor,
        *,
        grantee: str,
        guest: Ref,
        privilege: str,
        lifetime: timedelta,
    ) -> None:
        """A tenant grants a named provider operator one privilege on one guest for a while.

        Always raises ApprovalRequiredError: the grant is active only once a second provider
        person (never the grantee) approves it.
        """
        if actor.tenant is None or actor.tenant != guest.owner:
            raise NotFoundError(f"guest {guest} not found")
        authorize(actor, Privilege.GRANTS_MANAGE, scope_of(Kind.GUEST, guest))
        try:
            chosen = Privilege(privilege)
        except ValueError as exc:
            raise InputError(f"{privilege!r} is not a privilege") from exc
        if chosen not in TENANT_DATA_PRIVILEGES:
            raise InputError(f"{chosen} is not a tenant-data privilege; grants carry only those")
        limit = self._service.rules.grant_max_lifetime
        if not timedelta(0) < lifetime <= limit:
            raise InputError(f"a grant lasts between 1 s and {limit}")
        if self._service.snapshot().estate.get(Kind.GUEST, guest) is None:
            raise NotFoundError(f"guest {guest} not found")
        operator = self._service.store.identities.user("provider", grantee)
        if operator is None or operator[0].disabled:
            raise NotFoundError(f"provider operator {grantee} not found")
        grant_id = new_id()
        pending = self._service.approvals.request(
            actor,
            action="grant.activate",
            summary=f"grant {grantee} {chosen} on guest {guest} for {lifetime}",
            operation={
                "action": "grant.activate",
                "grant_id": grant_id,
                "seconds": lifetime.total_seconds(),
            },
            tenants=[guest.owner],
            excluded=[operator[0].id],
        )
        now = self._service.clock()
        grant = DataGrant(
            id=grant_id,
            tenant=guest.owner,
            grantee_id=operator[0].id,
            grantee=grantee,
            kind=Kind.GUEST,
            ref=guest,
            privilege=chosen,
            created_by=str(actor),
            created_at=now,
            expires_at=now + lifetime,
            approval_id=pending.approval_id,
        )
        record = self._service.audit_record(
            actor,
            "grant.request",
            Outcome.APPLIED,
            targets=[f"grant {grant_id}"],
            tenants=[guest.owner],
            details={"grantee": grantee, "privilege": str(chosen), "guest": str(guest)},
        )
        self._store.add_grant(grant, record)
        raise pending

    def activate(self, approval: Approval, approver: Actor) -> None:
        """Make an approved grant active; its lifetime starts now."""
        grant = self._store.grant(str(approval.operation["grant_id"]))
        if grant is None or grant.status is not GrantStatus.PENDING:
            raise ConflictError("the grant was revoked before it was approved")
        expires = self._service.clock() + timedelta(seconds=float(approval.operation["seconds"]))
        record = self._service.audit_record(
            approver,
            "grant.activate",
            Outcome.APPLIED,
            targets=[f"grant {grant.id}"],
            tenants=[grant.tenant],
            details={"approval": approval.id, "expires_at": expires.isoformat()},
        )
        if not self._store.set_grant_status(
            grant.id,
            GrantStatus.ACTIVE,
            expected=GrantStatus.PENDING,
            expires_at=expires,
            audit=record,
        ):
            raise ConflictError("the grant was revoked before it was approved")

    def reject(self, approval: Approval) -> None:
        """A rejected request leaves its grant rejected."""
        self._store.set_grant_status(
            str(approval.operation["grant_id"]),
            GrantStatus.REJECTED,
            expected=GrantStatus.PENDING,
        )

    def revoke(self, actor: Actor, grant_id: str) -> DataGrant:
        """The tenant ends a grant at once."""
        grant = self._store.grant(grant_id)
        if grant is None or actor.tenant != grant.tenant:
            raise NotFoundError(f"grant {grant_id} not found")
        authorize(actor, Privilege.GRANTS_MANAGE, scope_of(grant.kind, grant.ref))
        record = self._service.audit_record(
            actor,
            "grant.revoke",
            Outcome.APPLIED,
            targets=[f"grant {grant.id}"],
            tenants=[grant.tenant],
        )
        self._store.set_grant_status(grant.id, GrantStatus.REVOKED, audit=record)
        found = self._store.grant(grant.id)
        return found if found is not None else grant

    def grants(self, actor: Actor) -> list[DataGrant]:
        """Grants the actor may see: its tenant's, the ones naming it, or all for deciders."""
        self._expire()
        if actor.tenant is not None:
            root = Scope.tenant_root(actor.tenant)
            if not (
                may(actor, Privilege.GRANTS_MANAGE, root) or may(actor, Privilege.AUDIT_READ, root)
            ):
                raise PermissionDeniedError(f"{actor} may not list the tenant's grants")
            return self._store.grants(tenant=actor.tenant)
        if actor.system or may(actor, Privilege.APPROVALS_DECIDE, ROOT):
            return self._store.grants()
        return self._store.grants(grantee_id=actor.user_id or "")

    def _active_grant(self, actor: Actor, privilege: Privilege, guest: Ref) -> DataGrant | None:
        if actor.user_id is None:
            return None
        self._expire()
        now = self._service.clock()
        for grant in self._store.grants(grantee_id=actor.user_id):
            if grant.covers(actor.user_id, privilege, Kind.GUEST, guest) and grant.is_active(now):
                return grant
        return None

    def _expire(self) -> None:
        """Mark grants past their end as expired, once each, with an audit entry."""
        now = self._service.clock()
        for grant in self._store.grants():
            if grant.status is GrantStatus.ACTIVE and now >= grant.expires_at:
                record = self._service.audit_record(
                    "tenantry",
                    "grant.expire",
                    Outcome.APPLIED,
                    targets=[f"grant {grant.id}"],
                    tenants=[grant.tenant],
                    details={"grantee": grant.grantee, "privilege": str(grant.privilege)},
                )
                self._store.set_grant_status(
                    grant.id, GrantStatus.EXPIRED, expected=GrantStatus.ACTIVE, audit=record
                )
