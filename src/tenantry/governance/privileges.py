"""The privilege catalogue: every right a role can carry, and which domain may hold it.

Privileges that read tenant data (console, disk contents, snapshots, memory, traffic) exist only
inside a tenant's credential domain: no provider role can carry them (trust no one). A provider
operator reaches them only through a time-bounded data-access grant the tenant creates.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tenantry.model import KIND_INFO, Kind

__all__ = [
    "PRIVILEGES",
    "TENANT_DATA_PRIVILEGES",
    "Holder",
    "Privilege",
    "PrivilegeInfo",
    "privilege_for_kind",
    "privileges_for",
]


class Holder(StrEnum):
    """Which credential domains may hold a privilege."""

    ANY = "any"
    PROVIDER = "provider"
    TENANT = "tenant"


class Privilege(StrEnum):
    """A named right, checked against the object an operation touches."""

    INVENTORY_READ = "inventory.read"
    INFRASTRUCTURE_WRITE = "infrastructure.write"
    TENANT_WRITE = "tenant.write"
    RESOURCE_POOL_WRITE = "resource-pool.write"
    NETWORK_WRITE = "network.write"
    ROUTER_WRITE = "router.write"
    GUEST_WRITE = "guest.write"
    POLICY_WRITE = "policy.write"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    ROLES_MANAGE = "roles.manage"
    PERMISSIONS_MANAGE = "permissions.manage"
    SESSIONS_MANAGE = "sessions.manage"
    APPROVALS_DECIDE = "approvals.decide"
    GRANTS_MANAGE = "grants.manage"
    GUEST_CONSOLE = "guest.console"
    DISK_READ = "disk.read"
    DISK_EXPORT = "disk.export"
    SNAPSHOT_EXPORT = "snapshot.export"
    MEMORY_DUMP = "memory.dump"
    TRAFFIC_MIRROR = "traffic.mirror"
    TRAFFIC_CAPTURE = "traffic.capture"


@dataclass(frozen=True)
class PrivilegeInfo:
    """What a privilege allows, who may hold it, and whether it reads tenant data."""

    privilege: Privilege
    description: str
    holder: Holder = Holder.ANY
    tenant_data: bool = False

    def to_json(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {
            "name": str(self.privilege),
            "description": self.description,
            "holder": str(self.holder),
            "tenant_data": self.tenant_data,
        }


def _data(privilege: Privilege, description: str) -> PrivilegeInfo:
    return PrivilegeInfo(privilege, description, Holder.TENANT, tenant_data=True)


PRIVILEGES: dict[Privilege, PrivilegeInfo] = {
    info.privilege: info
    for info in (
        PrivilegeInfo(Privilege.INVENTORY_READ, "see objects of the inventory and their settings"),
        PrivilegeInfo(
            Privilege.INFRASTRUCTURE_WRITE,
            "change provider infrastructure: hosts, switches, port groups, images, services",
            Holder.PROVIDER,
        ),
        PrivilegeInfo(
            Privilege.TENANT_WRITE, "create, change or delete tenants (a tenant: its description)"
        ),
        PrivilegeInfo(Privilege.RESOURCE_POOL_WRITE, "change resource pools"),
        PrivilegeInfo(Privilege.NETWORK_WRITE, "change networks (segments stay the provider's)"),
        PrivilegeInfo(Privilege.ROUTER_WRITE, "change routers"),
        PrivilegeInfo(Privilege.GUEST_WRITE, "create, change, power and delete guests"),
        PrivilegeInfo(Privilege.POLICY_WRITE, "change firewall policies of one's own tiers"),
        PrivilegeInfo(Privilege.AUDIT_READ, "read the audit trail of the domain"),
        PrivilegeInfo(Privilege.USERS_MANAGE, "create, disable and unlock users of the domain"),
        PrivilegeInfo(Privilege.ROLES_MANAGE, "define custom roles of the domain"),
        PrivilegeInfo(Privilege.PERMISSIONS_MANAGE, "grant roles to users and groups"),
        PrivilegeInfo(Privilege.SESSIONS_MANAGE, "list and end other users' sessions and tokens"),
        PrivilegeInfo(
            Privilege.APPROVALS_DECIDE,
            "approve or reject a colleague's sensitive operation (two-person rule)",
            Holder.PROVIDER,
        ),
        PrivilegeInfo(
            Privilege.GRANTS_MANAGE,
            "grant a named provider operator time-bounded access to one object's data",
            Holder.TENANT,
        ),
        _data(Privilege.GUEST_CONSOLE, "open a guest's console"),
        _data(Privilege.DISK_READ, "read a virtual disk's contents"),
        _data(Privilege.DISK_EXPORT, "export a virtual disk"),
        _data(Privilege.SNAPSHOT_EXPORT, "export a guest snapshot"),
        _data(Privilege.MEMORY_DUMP, "dump a guest's memory"),
        _data(Privilege.TRAFFIC_MIRROR, "mirror a vNIC's traffic"),
        _data(Privilege.TRAFFIC_CAPTURE, "capture a vNIC's traffic"),
    )
}

TENANT_DATA_PRIVILEGES = frozenset(p for p, info in PRIVILEGES.items() if info.tenant_data)
"""Privileges that read tenant data: held only inside tenants, reachable by grants."""

_WRITE_BY_KIND = {
    Kind.TENANT: Privilege.TENANT_WRITE,
    Kind.RESOURCE_POOL: Privilege.RESOURCE_POOL_WRITE,
    Kind.NETWORK: Privilege.NETWORK_WRITE,
    Kind.ROUTER: Privilege.ROUTER_WRITE,
    Kind.GUEST: Privilege.GUEST_WRITE,
    Kind.POLICY: Privilege.POLICY_WRITE,
}


def privilege_for_kind(kind: Kind) -> Privilege:
    """The privilege that writes objects of ``kind``."""
    if kind in _WRITE_BY_KIND:
        return _WRITE_BY_KIND[kind]
    if KIND_INFO[kind].owned:  # pragma: no cover - every owned kind is listed above
        raise ValueError(f"no write privilege for {kind}")
    return Privilege.INFRASTRUCTURE_WRITE


def privileges_for(tenant: str | None) -> frozenset[Privilege]:
    """Every privilege a role of this domain may carry (provider: ``tenant`` is None)."""
    refused = Holder.TENANT if tenant is None else Holder.PROVIDER
    return frozenset(p for p, info in PRIVILEGES.items() if info.holder is not refused)
