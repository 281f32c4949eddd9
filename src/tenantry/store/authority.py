"""Custom roles, permissions, two-person approvals and data-access grants.

Every write can carry audit records, appended in the same transaction as the write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tenantry.audit import AuditRecord
from tenantry.errors import ConflictError
from tenantry.governance import (
    Approval,
    ApprovalStatus,
    DataGrant,
    GrantStatus,
    Permission,
    Principal,
    Privilege,
    Role,
    Scope,
    domain_name,
)
from tenantry.model import Kind, Ref
from tenantry.store.governance_tables import ApprovalRow, DataGrantRow, PermissionRow, RoleRow
from tenantry.store.identities import aware

if TYPE_CHECKING:
    from tenantry.store.store import Store

__all__ = ["AuthorityStore", "purge_authority"]


class AuthorityStore:
    """Roles, permissions, approvals and grants in the store's database."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # ------------------------------------------------------------------ roles

    def add_role(self, role: Role, audit: Sequence[AuditRecord] = ()) -> None:
        """Insert a custom role; ConflictError if the domain has one by that name."""
        try:
            with self._store._connect(write=True) as connection:
                connection.execute(
                    insert(RoleRow).values(
                        domain=domain_name(role.tenant),
                        name=role.name,
                        privileges=sorted(str(p) for p in role.privileges),
                        description=role.description,
                    )
                )
                self._store._append(connection, audit)
        except IntegrityError as exc:
            raise ConflictError(f"role {role.name} already exists") from exc

    def roles(self, domain: str) -> list[Role]:
        """The custom roles of a domain."""
        with self._store._connect(write=False) as connection:
            rows = connection.execute(
                select(RoleRow).where(RoleRow.domain == domain).order_by(RoleRow.name)
            ).all()
        return [_role(row) for row in rows]

    def delete_role(self, domain: str, name: str, audit: Sequence[AuditRecord] = ()) -> bool:
        """Delete a custom role and the permissions that grant it; False if there was none."""
        with self._store._connect(write=True) as connection:
            gone = connection.execute(
                delete(RoleRow).where(RoleRow.domain == domain, RoleRow.name == name)
            ).rowcount
            if gone:
                connection.execute(
                    delete(PermissionRow).where(
                        PermissionRow.domain == domain, PermissionRow.role == name
                    )
                )
                self._store._append(connection, audit)
        return bool(gone)

    # ------------------------------------------------------------------ permissions

    def add_permission(
        self, permission: Permission, now: datetime, audit: Sequence[AuditRecord] = ()
    ) -> None:
        """Insert a permission; ConflictError if the principal already has one on that node."""
        try:
            with self._store._connect(write=True) as connection:
                connection.execute(
                    insert(PermissionRow).values(
                        id=permission.id,
                        domain=domain_name(permission.tenant),
                        principal=str(permission.principal),
                        role=permission.role,
                        scope=str(permission.scope),
                        propagate=permission.propagate,
                        created_by=permission.created_by,
                        created_at=now,
                    )
                )
                self._store._append(connection, audit)
        except IntegrityError as exc:
            raise ConflictError(
                f"{permission.principal} already has a permission on {permission.scope}"
            ) from exc

    def permissions(
        self, domain: str | None = None, principals: Sequence[str] | None = None
    ) -> list[Permission]:
        """Permissions of a domain, optionally only those naming the given principals."""
        query = select(PermissionRow).order_by(PermissionRow.scope, PermissionRow.principal)
        if domain is not None:
            query = query.where(PermissionRow.domain == domain)
        if principals is not None:
            query = query.where(PermissionRow.principal.in_(list(principals)))
        with self._store._connect(write=False) as connection:
            return [_permission(row) for row in connection.execute(query)]

    def permission(self, permission_id: str) -> Permission | None:
        """One permission by id."""
        with self._store._connect(write=False) as connection:
            row = connection.execute(
                select(PermissionRow).where(PermissionRow.id == permission_id)
            ).first()
        return None if row is None else _permission(row)

    def delete_permission(self, permission_id: str, audit: Sequence[AuditRecord] = ()) -> None:
        """Delete a permission."""
        with self._store._connect(write=True) as connection:
            connection.execute(delete(PermissionRow).where(PermissionRow.id == permission_id))
            self._store._append(connection, audit)

    # ------------------------------------------------------------------ approvals

    def add_approval(self, approval: Approval, audit: Sequence[AuditRecord] = ()) -> None:
        """Store a pending request."""
        with self._store._connect(write=True) as connection:
            connection.execute(
                insert(ApprovalRow).values(
                    id=approval.id,
                    action=approval.action,
                    summary=approval.summary,
                    operation=approval.operation,
                    requester_id=approval.requester_id,
                    requester=approval.requester,
                    tenants=list(approval.tenants),
                    excluded=list(approval.excluded),
                    created_at=approval.created_at,
                    expires_at=approval.expires_at,
                    status=str(approval.status),
                    decided_by="",
                    result="",
                )
            )
            self._store._append(connection, audit)

    def approval(self, approval_id: str) -> Approval | None:
        """One request by id."""
        with self._store._connect(write=False) as connection:
            row = connection.execute(
                select(ApprovalRow).where(ApprovalRow.id == approval_id)
            ).first()
        return None if row is None else _approval(row)

    def approvals(self, status: ApprovalStatus | None = None) -> list[Approval]:
        """Requests, newest first, optionally of one stored status."""
        query = select(ApprovalRow).order_by(ApprovalRow.created_at.desc())
        if status is not None:
            query = query.where(ApprovalRow.status == str(status))
        with self._store._connect(write=False) as connection:
            return [_approval(row) for row in connection.execute(query)]

    def decide_approval(
        self,
        approval_id: str,
        status: ApprovalStatus,
        *,
        decided_by: str,
        now: datetime,
        result: str = "",
        audit: Sequence[AuditRecord] = (),
    ) -> bool:
        """Move a pending request to ``status``; False if someone else decided it first."""
        with self._store._connect(write=True) as connection:
            moved = connection.execute(
                update(ApprovalRow)
                .where(
                    ApprovalRow.id == approval_id,
                    ApprovalRow.status == str(ApprovalStatus.PENDING),
                )
                .values(status=str(status), decided_by=decided_by, decided_at=now, result=result)
            ).rowcount
            if moved:
                self._store._append(connection, audit)
        return bool(moved)

    def finish_approval(self, approval_id: str, status: ApprovalStatus, result: str) -> None:
        """Record how executing an approved request ended."""
        with self._store._connect(write=True) as connection:
            connection.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id)
                .values(status=str(status), result=result[:2000])
            )

    # ------------------------------------------------------------------ grants

    def add_grant(self, grant: DataGrant, audit: Sequence[AuditRecord] = ()) -> None:
        """Store a data-access grant."""
        with self._store._connect(write=True) as connection:
            connection.execute(
                insert(DataGrantRow).values(
                    id=grant.id,
                    tenant=grant.tenant,
                    grantee_id=grant.grantee_id,
                    grantee=grant.grantee,
                    kind=str(grant.kind),
                    owner=grant.ref.owner,
                    name=grant.ref.name,
                    privilege=str(grant.privilege),
                    created_by=grant.created_by,
                    created_at=grant.created_at,
                    expires_at=grant.expires_at,
                    status=str(grant.status),
                    approval_id=grant.approval_id,
                )
            )
            self._store._append(connection, audit)

    def grant(self, grant_id: str) -> DataGrant | None:
        """One grant by id."""
        with self._store._connect(write=False) as connection:
            row = connection.execute(
                select(DataGrantRow).where(DataGrantRow.id == grant_id)
            ).first()
        return None if row is None else _grant(row)

    def grants(
        self, *, tenant: str | None = None, grantee_id: str | None = None
    ) -> list[DataGrant]:
        """Grants of a tenant or for a grantee, newest first."""
        query = select(DataGrantRow).order_by(DataGrantRow.created_at.desc())
        if tenant is not None:
            query = query.where(DataGrantRow.tenant == tenant)
        if grantee_id is not None:
            query = query.where(DataGrantRow.grantee_id == grantee_id)
        with self._store._connect(write=False) as connection:
            return [_grant(row) for row in connection.execute(query)]

    def set_grant_status(
        self,
        grant_id: str,
        status: GrantStatus,
        *,
        expected: GrantStatus | None = None,
        expires_at: datetime | None = None,
        audit: Sequence[AuditRecord] = (),
    ) -> bool:
        """Change a grant's status (only from ``expected`` if given, and its expiry if given);
        False if it did not change."""
        where = [DataGrantRow.id == grant_id]
        if expected is not None:
            where.append(DataGrantRow.status == str(expected))
        values: dict[str, Any] = {"status": str(status)}
        if expires_at is not None:
            values["expires_at"] = expires_at
        with self._store._connect(write=True) as connection:
            moved = connection.execute(update(DataGrantRow).where(*where).values(**values)).rowcount
            if moved:
                self._store._append(connection, audit)
        return bool(moved)


def purge_authority(connection: Any, domain: str) -> None:
    """Forget a deleted tenant's roles, permissions and data-access grants (in the deleting
    transaction)."""
    connection.execute(delete(RoleRow).where(RoleRow.domain == domain))
    connection.execute(delete(PermissionRow).where(PermissionRow.domain == domain))
    connection.execute(delete(DataGrantRow).where(DataGrantRow.tenant == domain))


def _role(row: Row[Any]) -> Role:
    domain = str(row.domain)
    return Role(
        name=str(row.name),
        privileges=frozenset(Privilege(p) for p in row.privileges),
        tenant=None if domain == "provider" else domain,
        description=str(row.description),
    )


def _permission(row: Row[Any]) -> Permission:
    domain = str(row.domain)
    return Permission(
        id=str(row.id),
        tenant=None if domain == "provider" else domain,
        principal=Principal.parse(str(row.principal)),
        role=str(row.role),
        scope=Scope.parse(str(row.scope)),
        propagate=bool(row.propagate),
        created_by=str(row.created_by),
    )


def _approval(row: Row[Any]) -> Approval:
    return Approval(
        id=str(row.id),
        action=str(row.action),
        summary=str(row.summary),
        operation=dict(row.operation),
        requester_id=str(row.requester_id),
        requester=str(row.requester),
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at),
        tenants=tuple(row.tenants),
        excluded=tuple(row.excluded),
        status=ApprovalStatus(row.status),
        decided_by=str(row.decided_by),
        decided_at=aware(row.decided_at) if row.decided_at is not None else None,
        result=str(row.result),
    )


def _grant(row: Row[Any]) -> DataGrant:
    return DataGrant(
        id=str(row.id),
        tenant=str(row.tenant),
        grantee_id=str(row.grantee_id),
        grantee=str(row.grantee),
        kind=Kind(row.kind),
        ref=Ref(str(row.owner), str(row.name)),
        privilege=Privilege(row.privilege),
        created_by=str(row.created_by),
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at),
        status=GrantStatus(row.status),
        approval_id=str(row.approval_id),
    )
