"""ACL priority bands: how tiers, order and ``pass`` become OVN 23.03 priorities.

OVN 23.03 has no ACL tiers and no ``pass``. Tiers are therefore disjoint priority bands, so a
higher tier always outranks a lower one::

    32760        per-port allow: RARP announcing the port's own MAC
    32700        guards (drop): ethertypes, rogue DHCP servers, router messages, shared-service
                 isolation
    32600        exemptions (allow): ARP, ND, DHCP clients, designated DHCP servers; router and
                 localnet ports (policy is judged at the vNIC edges)
    30000-32499  provider tier
    10000-29999  tenant tier, then application tier (each tenant has the whole band: tenants'
                 port groups are disjoint, so equal priorities never meet on one port)
    1001-9999    baseline tier
    1000         the segment's default action when it is ``allow``
    (floor)      ``NB_Global:options:default_acl_drop=true``

Inside a band, rules take descending priorities in evaluation order (policy order, name,
then rule sequence), one priority per rule, so no two rules that can meet on a port share a
priority. A ``pass`` rule takes its priority but writes no ACL; every later rule of its tier
(same direction) excludes the pass rule's match instead, which is exactly "skip the rest of
this tier".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tenantry.compiler import CompiledPolicy, CompiledRule
from tenantry.errors import CapacityError, Violation
from tenantry.model import PROVIDER, Action, Direction, Tier

__all__ = [
    "AFTER_LB",
    "DEFAULT_ALLOW",
    "GUARD_ALLOW",
    "GUARD_DROP",
    "RARP_ALLOW",
    "TIER_BANDS",
    "PlacedRule",
    "Scopes",
    "default_scopes",
    "place_rules",
    "tier_of_priority",
]

RARP_ALLOW = 32760
"""Per-port allows above the guards (unspecified sources of relaxed ports)."""
GUARD_DROP = 32700
GUARD_ALLOW = 32600
DEFAULT_ALLOW = 1000
AFTER_LB = 1

TIER_BANDS: dict[Tier, tuple[int, int]] = {
    Tier.PROVIDER: (30000, 32499),
    Tier.TENANT: (10000, 29999),
    Tier.APPLICATION: (10000, 29999),
    Tier.BASELINE: (1001, 9999),
}


@dataclass(frozen=True)
class PlacedRule:
    """A rule with its priority and the earlier ``pass`` rules of its tier it must skip for."""

    policy: CompiledPolicy
    index: int
    rule: CompiledRule
    priority: int
    excluded: tuple[tuple[CompiledPolicy, CompiledRule], ...]
    scope: str = ""
    """For the tenant band: whose ports these priorities are for ("" for the global bands)."""


Scopes = Callable[[CompiledPolicy], Iterable[str]]


def default_scopes(policy: CompiledPolicy) -> tuple[str, ...]:
    """Provider and baseline tiers are global; a tenant's own tiers are its own."""
    if policy.tier in (Tier.PROVIDER, Tier.BASELINE):
        return ("",)
    return (policy.ref.owner,)


def place_rules(
    policies: Iterable[CompiledPolicy],
    scopes: Scopes = default_scopes,
    only: set[str] | None = None,
) -> dict[tuple[int, int, str], PlacedRule]:
    """Priorities and pass exclusions of every rule, keyed by (policy id, rule index, scope).

    The tenant band is shared per owner of the ports: a provider policy in the tenant or
    application tier is placed once in each tenant's ordering (``scopes`` says whose ports it
    covers), and written as one set of ACLs per tenant. ``only`` limits the work to these
    scopes ("" for the global bands): a change of one tenant's policies places only its band.
    """
    groups: dict[tuple[str, str], list[CompiledPolicy]] = defaultdict(list)
    for policy in policies:
        band = str(policy.tier) if policy.tier in (Tier.PROVIDER, Tier.BASELINE) else "tenant"
        if (
            only is not None
            and band == "tenant"
            and policy.ref.owner not in only
            and policy.ref.owner != PROVIDER
        ):
            continue
        if only is not None and band != "tenant" and "" not in only:
            continue
        for scope in scopes(policy):
            if only is None or scope in only:
                groups[(band, scope)].append(policy)
    placed: dict[tuple[int, int, str], PlacedRule] = {}
    for (_, scope), members in groups.items():
        members.sort(key=lambda p: p.sort_key)
        bottom, top = TIER_BANDS[members[0].tier]
        priority = top
        passes: dict[tuple[Tier, Direction], list[tuple[CompiledPolicy, CompiledRule]]] = (
            defaultdict(list)
        )
        for policy in members:
            for index, rule in enumerate(policy.rules):
                if priority < bottom:
                    raise CapacityError(
                        [
                            Violation(
                                "ovn.priority-band",
                                f"{policy.ref.owner} has more rules than the {policy.tier} "
                                f"priority band holds ({top - bottom + 1})",
                                kind="policy",
                                ref=str(policy.ref),
                            )
                        ]
                    )
                seen = passes[(policy.tier, rule.direction)]
                placed[(policy.id, index, scope)] = PlacedRule(
                    policy, index, rule, priority, tuple(seen), scope
                )
                if rule.action is Action.PASS:
                    seen.append((policy, rule))
                priority -= 1
    return placed


def tier_of_priority(priority: int) -> Tier | None:
    """The tier whose band holds a priority (tenant for the shared tenant/application band)."""
    for tier in (Tier.PROVIDER, Tier.TENANT, Tier.BASELINE):
        low, high = TIER_BANDS[tier]
        if low <= priority <= high:
            return tier
    return None
