"""Sensitive provider operations: the changes that need a second, different person's approval.

Deleting a tenant, moving a segment's VLAN or overlay id, relaxing a port group's L2
security (reject -> accept) and changing a tenant's placement tag. Creating a data-access
grant and disabling a user's second factor are sensitive too; the service gates those itself.
"""

from __future__ import annotations

from tenantry.model import Change, Kind, Network, Op, PortGroup, Tenant

__all__ = ["sensitive_reasons"]


def sensitive_reasons(change: Change) -> list[str]:
    """Why this change needs a second approver (empty: it does not)."""
    before, after = change.before, change.after
    if change.kind is Kind.TENANT:
        if change.op is Op.DELETE:
            return [f"delete tenant {change.ref.name}"]
        if (
            isinstance(before, Tenant)
            and isinstance(after, Tenant)
            and before.placement_tag != after.placement_tag
        ):
            return [f"change the placement tag of tenant {change.ref.name}"]
    if (
        change.kind is Kind.NETWORK
        and isinstance(before, Network)
        and isinstance(after, Network)
        and before.segment != after.segment
    ):
        return [f"move the segment of network {change.ref}"]
    if (
        change.kind is Kind.PORT_GROUP
        and isinstance(before, PortGroup)
        and isinstance(after, PortGroup)
    ):
        relaxed = sorted(set(after.security.relaxations()) - set(before.security.relaxations()))
        if relaxed:
            return [f"relax {', '.join(relaxed)} on port group {change.ref}"]
    return []
