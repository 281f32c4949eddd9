"""Custom roles and permissions, and resolving a user's authority from them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tenantry.audit import Outcome
from tenantry.errors import InputError, NotFoundError, PermissionDeniedError
from tenantry.governance import (
    PRIVILEGES,
    ROOT,
    Actor,
    Authority,
    Entitlement,
    Permission,
    Principal,
    Privilege,
    PrivilegeInfo,
    Role,
    Scope,
    User,
    authorize,
    custom_role,
    domain_name,
    new_id,
    system_role,
)
from tenantry.governance.roles import SYSTEM_ROLE_NAMES
from tenantry.store import AuthorityStore

if TYPE_CHECKING:
    from tenantry.service.service import Service

__all__ = ["AccessControl", "domain_root"]


def domain_root(tenant: str | None) -> Scope:
    """The root node of a credential domain."""
    return ROOT if tenant is None else Scope.tenant_root(tenant)


class AccessControl:
    """Roles and permissions of each credential domain."""

    def __init__(self, service: Service) -> None:
        self._service = service

    @property
    def _store(self) -> AuthorityStore:
        return self._service.store.authority

    # ------------------------------------------------------------------ domain rule

    def check_domain(self, actor: Actor, tenant: str | None, privilege: Privilege) -> None:
        """Raise unless the actor may use ``privilege`` over the whole domain ``tenant``.

        Another tenant's domain does not exist for a tenant actor (NotFoundError); the
        provider never administers a tenant's credential domain (its users, roles,
        permissions), so a compromised provider account cannot mint a tenant identity.
        """
        if actor.system:
            if tenant is not None and self._service.snapshot().estate.tenant(tenant) is None:
                raise NotFoundError(f"tenant {tenant} not found")
            return
        if actor.tenant is not None and tenant != actor.tenant:
            raise NotFoundError(f"domain {domain_name(tenant)} not found")
        if actor.tenant is None and tenant is not None:
            raise PermissionDeniedError(
                f"{actor} may not administer tenant {tenant}'s credential domain",
                hint="A tenant's administrators manage its users, roles and permissions.",
            )
        authorize(actor, privilege, domain_root(tenant))

    # ------------------------------------------------------------------ catalogue and roles

    def privileges(self) -> list[PrivilegeInfo]:
        """The privilege catalogue."""
        return list(PRIVILEGES.values())

    def roles(self, actor: Actor, tenant: str | None) -> list[Role]:
        """The system and custom roles of a domain."""
        self.check_domain(actor, tenant, Privilege.ROLES_MANAGE)
        return self.domain_roles(tenant)

    def domain_roles(self, tenant: str | None) -> list[Role]:
        """System roles as they apply in a domain, then its custom roles."""
        found = [system_role(name, tenant) for name in SYSTEM_ROLE_NAMES]
        return [r for r in found if r is not None] + self._store.roles(domain_name(tenant))

    def create_role(
        self,
        actor: Actor,
        tenant: str | None,
        name: str,
        privileges: Iterable[str],
        description: str = "",
    ) -> Role:
        """Define a custom role (a provider role never carries a tenant-data privilege)."""
        self.check_domain(actor, tenant, Privilege.ROLES_MANAGE)
        try:
            role = custom_role(name, privileges, tenant, description)
        except PermissionDeniedError as exc:
            self._refused(actor, "role.create", f"role {domain_name(tenant)}/{name}", tenant, exc)
            raise
        record = self._service.audit_record(
            actor,
            "role.create",
            Outcome.APPLIED,
            targets=[f"role {domain_name(tenant)}/{name}"],
            tenants=[tenant or ""],
            details={"privileges": sorted(map(str, role.privileges))},
        )
        self._store.add_role(role, record)
        return role

    def delete_role(self, actor: Actor, tenant: str | None, name: str) -> None:
        """Delete a custom role and every permission that grants it."""
        self.check_domain(actor, tenant, Privilege.ROLES_MANAGE)
        if name in SYSTEM_ROLE_NAMES:
            raise InputError(f"role {name} is a system role")
        record = self._service.audit_record(
            actor,
            "role.delete",
            Outcome.APPLIED,
            targets=[f"role {domain_name(tenant)}/{name}"],
            tenants=[tenant or ""],
        )
        if not self._store.delete_role(domain_name(tenant), name, record):
            raise NotFoundError(f"role {name} not found")

    # ------------------------------------------------------------------ permissions

    def permissions(self, actor: Actor, tenant: str | None) -> list[Permission]:
        """The permissions of a domain."""
        self.check_domain(actor, tenant, Privilege.PERMISSIONS_MANAGE)
        return self._store.permissions(domain_name(tenant))

    def grant(
        self,
        actor: Actor,
        tenant: str | None,
        principal: str,
        role: str,
        scope: str,
        *,
        propagate: bool = True,
    ) -> Permission:
        """Give a user or group of the domain a role on a node (never across a tenant boundary).

        The actor must itself hold every privilege of the role there: a permission manager
        cannot hand out more than it has.
        """
        self.check_domain(actor, tenant, Privilege.PERMISSIONS_MANAGE)
        node = Scope.parse(scope)
        if tenant is not None:
            if node.is_root:
                node = Scope.tenant_root(tenant)
            if node.tenant != tenant:
                # Outside the tenant: the same answer whether or not the object exists.
                raise NotFoundError(f"{node} not found")
        chosen = next((r for r in self.domain_roles(tenant) if r.name == role), None)
        if chosen is None:
            raise NotFoundError(f"role {role} not found in domain {domain_name(tenant)}")
        if not actor.system:
            missing = chosen.privileges - actor.effective_authority().privileges_at(node)
            if missing:
                raise PermissionDeniedError(
                    f"{actor} cannot grant {role} on {node}: it lacks "
                    + ", ".join(sorted(map(str, missing)))
                )
        permission = Permission(
            new_id(),
            tenant,
            Principal.parse(principal),
            chosen.name,
            node,
            propagate,
            str(actor),
        )
        record = self._service.audit_record(
            actor,
            "permission.grant",
            Outcome.APPLIED,
            targets=[f"{permission.principal} {role} on {node}"],
            tenants=[tenant or "", node.tenant or ""],
            details={"propagate": propagate},
        )
        self._store.add_permission(permission, self._service.clock(), record)
        return permission

    def revoke(self, actor: Actor, permission_id: str) -> None:
        """Remove a permission of the actor's domain."""
        permission = self._store.permission(permission_id)
        tenant = actor.tenant if permission is None else permission.tenant
        self.check_domain(actor, tenant, Privilege.PERMISSIONS_MANAGE)
        if permission is None:
            raise NotFoundError(f"permission {permission_id} not found")
        record = self._service.audit_record(
            actor,
            "permission.revoke",
            Outcome.APPLIED,
            targets=[f"{permission.principal} {permission.role} on {permission.scope}"],
            tenants=[tenant or "", permission.scope.tenant or ""],
        )
        self._store.delete_permission(permission_id, record)

    # ------------------------------------------------------------------ resolution

    def authority_for(
        self, user: User, groups: Iterable[str], ceiling: frozenset[Privilege] | None = None
    ) -> tuple[Authority, frozenset[str]]:
        """A user's authority (and the names of the roles behind it) in its own domain."""
        principals = [f"user:{user.name}", *(f"group:{g}" for g in {*user.groups, *groups})]
        permissions = self._store.permissions(user.domain, principals)
        if not permissions:
            return Authority((), ceiling), frozenset()
        roles = {r.name: r for r in self.domain_roles(user.tenant)}
        entitlements = []
        for permission in permissions:
            role = roles.get(permission.role)
            if role is None:
                continue
            if user.tenant is not None and permission.scope.tenant != user.tenant:
                continue  # defence in depth: a tenant's permissions never leave the tenant
            entitlements.append(
                Entitlement(
                    role.privileges,
                    permission.scope,
                    permission.propagate,
                    direct=permission.principal.type == "user",
                )
            )
        names = frozenset(p.role for p in permissions)
        return Authority(tuple(entitlements), ceiling), names

    def _refused(
        self, actor: Actor, action: str, target: str, tenant: str | None, exc: Exception
    ) -> None:
        self._service.record(
            actor,
            action,
            Outcome.REFUSED,
            targets=[target],
            tenants=[tenant or ""],
            reason=str(exc),
        )
