"""Tenant boundaries and provider-owned fields: the rules no role can lift.

A tenant actor changes only its own tenant's objects and never the fields that belong to
the provider (segment ids, trunk lists, L2-security relaxations, placement tags, the
provider and baseline tiers). A provider actor provisions tenants and their segments, but
manages a tenant's guests, networks and policies only where a tenant-assisted tenant
delegated that task, and only the tenant changes what it delegates.
"""

from __future__ import annotations

from tenantry.errors import PermissionDeniedError
from tenantry.governance.actor import Actor
from tenantry.governance.authorization import authorize, scope_of
from tenantry.governance.privileges import privilege_for_kind
from tenantry.model import (
    KIND_INFO,
    PROVIDER,
    PROVIDER_TIERS,
    AdministrationModel,
    Change,
    Estate,
    Kind,
    Network,
    Op,
    Policy,
    Ref,
    Tenant,
)

__all__ = ["TENANT_TASKS", "check_change", "is_visible"]

_DELEGATION = frozenset({"administration", "delegated_tasks"})
"""Tenant fields only the tenant changes once it exists: what it hands to the provider."""

TENANT_TASKS = {
    Kind.GUEST: "guests",
    Kind.NETWORK: "networks",
    Kind.POLICY: "policies",
    Kind.ROUTER: "routers",
    Kind.RESOURCE_POOL: "resource-pools",
}
"""Task names a tenant-assisted tenant can delegate to provider operators."""


def is_visible(actor: Actor, kind: Kind, ref: Ref) -> bool:
    """Whether the actor may even learn that the object exists."""
    if actor.is_provider:
        return True
    if kind is Kind.TENANT:
        return ref.name == actor.tenant
    if KIND_INFO[kind].owned:
        return ref.owner == actor.tenant
    # Provider infrastructure a tenant uses (port groups, images, shared services) is
    # visible by name only through its own objects; listing it is a provider privilege.
    return False


def check_change(actor: Actor, change: Change, estate: Estate) -> None:
    """Raise PermissionDeniedError if the actor may not make this change.

    The boundary rules come first (their refusal says why, and is the same whether or not
    the object exists); then the actor's roles must grant the kind's write privilege there.
    """
    if actor.system:
        return
    if actor.is_provider:
        _provider_may(actor, change, estate)
    else:
        _tenant_may(actor, change)
    authorize(actor, privilege_for_kind(change.kind), scope_of(change.kind, change.ref))


def _deny(actor: Actor, change: Change, why: str) -> PermissionDeniedError:
    return PermissionDeniedError(f"{actor} may not {change.op} {change.kind} {change.ref}: {why}")


def _tenant_may(actor: Actor, change: Change) -> None:
    tenant = actor.tenant
    if change.kind is Kind.TENANT:
        if change.ref.name != tenant or change.op is not Op.UPDATE:
            raise _deny(actor, change, "tenants are created and deleted by the provider")
        before, after = change.before, change.after
        if isinstance(before, Tenant) and isinstance(after, Tenant):
            changed = set(change.changed_fields()) - {"description", *_DELEGATION}
            if changed:
                raise _deny(actor, change, f"{', '.join(sorted(changed))} belong to the provider")
        return
    if not KIND_INFO[change.kind].owned or change.ref.owner != tenant:
        # Same message whether or not the object exists: no existence oracle across tenants.
        raise _deny(actor, change, "outside the tenant's boundary")
    if change.kind is Kind.NETWORK:
        if change.op is not Op.UPDATE:
            raise _deny(actor, change, "segments are provisioned by the provider")
        before, after = change.before, change.after
        if (
            isinstance(before, Network)
            and isinstance(after, Network)
            and before.segment != after.segment
        ):
            raise _deny(actor, change, "the VLAN or overlay id belongs to the provider")
    policy = change.after
    if isinstance(policy, Policy) and policy.tier in PROVIDER_TIERS:
        raise _deny(actor, change, f"the {policy.tier} tier belongs to the provider")


def _provider_may(actor: Actor, change: Change, estate: Estate) -> None:
    # Which provider roles may write is decided by RBAC in check_change, after these rules.
    if change.kind is Kind.TENANT and change.op is Op.UPDATE:
        delegation = _DELEGATION & set(change.changed_fields())
        if delegation:
            # Otherwise the provider could delegate a tenant's guests or policies to itself.
            raise _deny(actor, change, "only the tenant delegates tasks to the provider")
    if not KIND_INFO[change.kind].owned or change.ref.owner == PROVIDER:
        return
    if change.kind is Kind.NETWORK:
        # Provisioning a tenant's segment is the provider's job; the rest is the tenant's.
        before, after = change.before, change.after
        if change.op is not Op.UPDATE or (
            isinstance(before, Network)
            and isinstance(after, Network)
            and set(change.changed_fields()) <= {"segment"}
        ):
            return
    tenant = estate.tenant(change.ref.owner)
    task = TENANT_TASKS.get(change.kind)
    if (
        tenant is not None
        and tenant.administration is AdministrationModel.TENANT_ASSISTED
        and task in tenant.delegated_tasks
    ):
        return
    raise _deny(actor, change, f"tenant {change.ref.owner} has not delegated this to the provider")
