"""Boundary rules no role lifts, in pairs: the refused change and its legitimate twin."""

from __future__ import annotations

import pytest

from tenantry.errors import PermissionDeniedError
from tenantry.governance import Actor, check_change
from tenantry.model import AdministrationModel, Change, ChangeSet, Kind, Op, Ref, Tier
from tests.helpers.specs import estate_from

ESTATE = estate_from()
TENANT_ADMIN = Actor("bob", tenant="acme", roles=frozenset({"administrator"}))
PROVIDER_ADMIN = Actor("alice", roles=frozenset({"administrator"}))
OPERATOR = Actor("olga", roles=frozenset({"operator"}))
NET = ESTATE.networks[Ref("acme", "app")]
GUEST = ESTATE.guests[Ref("acme", "web")]
POLICY = ESTATE.policies[Ref("acme", "web-in")]
ACME = ESTATE.tenant("acme")


def update(kind: Kind, ref: Ref, before: object, **changes: object) -> Change:
    return Change(Op.UPDATE, kind, ref, before, before.model_copy(update=changes))  # type: ignore[attr-defined]


def test_tenant_cannot_create_or_delete_its_networks() -> None:
    """Segments are provisioned by the provider."""
    for op, before, after in ((Op.CREATE, None, NET), (Op.DELETE, NET, None)):
        with pytest.raises(PermissionDeniedError, match="provisioned by the provider"):
            check_change(
                TENANT_ADMIN, Change(op, Kind.NETWORK, Ref("acme", "app"), before, after), ESTATE
            )


def test_tenant_describes_its_network_but_cannot_move_its_segment() -> None:
    """The description is the tenant's, the VLAN id the provider's."""
    check_change(
        TENANT_ADMIN, update(Kind.NETWORK, Ref("acme", "app"), NET, description="x"), ESTATE
    )
    moved = NET.segment.model_copy(update={"vlan": 150})
    with pytest.raises(PermissionDeniedError, match="VLAN or overlay id"):
        check_change(
            TENANT_ADMIN, update(Kind.NETWORK, Ref("acme", "app"), NET, segment=moved), ESTATE
        )


def test_tenant_cannot_write_provider_tiers() -> None:
    """A tenant policy in the provider or baseline tier is refused; the tenant tier passes."""
    check_change(
        TENANT_ADMIN, update(Kind.POLICY, Ref("acme", "web-in"), POLICY, description="x"), ESTATE
    )
    for tier in (Tier.PROVIDER, Tier.BASELINE):
        with pytest.raises(PermissionDeniedError, match="tier belongs to the provider"):
            check_change(
                TENANT_ADMIN, update(Kind.POLICY, Ref("acme", "web-in"), POLICY, tier=tier), ESTATE
            )


def test_tenant_changes_only_its_description_of_itself() -> None:
    """Resources and placement are the provider's; the description is the tenant's."""
    check_change(
        TENANT_ADMIN, update(Kind.TENANT, Ref("provider", "acme"), ACME, description="x"), ESTATE
    )
    with pytest.raises(PermissionDeniedError, match="placement_tag"):
        check_change(
            TENANT_ADMIN,
            update(Kind.TENANT, Ref("provider", "acme"), ACME, placement_tag="gold"),
            ESTATE,
        )
    with pytest.raises(PermissionDeniedError, match="created and deleted"):
        check_change(
            TENANT_ADMIN,
            Change(Op.DELETE, Kind.TENANT, Ref("provider", "acme"), ACME, None),
            ESTATE,
        )


def test_provider_provisions_a_tenant_segment_but_not_its_description() -> None:
    """Moving a tenant's segment is the provider's job; the rest of the network is not."""
    moved = NET.segment.model_copy(update={"vlan": 150})
    check_change(
        PROVIDER_ADMIN, update(Kind.NETWORK, Ref("acme", "app"), NET, segment=moved), ESTATE
    )
    with pytest.raises(PermissionDeniedError, match="not delegated"):
        check_change(
            PROVIDER_ADMIN, update(Kind.NETWORK, Ref("acme", "app"), NET, description="x"), ESTATE
        )


def test_delegated_task_lets_the_provider_in_and_only_that_task() -> None:
    """tenant-assisted with guests delegated: guests yes, policies no."""
    assisted = ACME.model_copy(
        update={
            "administration": AdministrationModel.TENANT_ASSISTED,
            "delegated_tasks": ("guests",),
        }
    )
    estate = ESTATE.with_changes(
        ChangeSet((Change(Op.UPDATE, Kind.TENANT, Ref("provider", "acme"), ACME, assisted),))
    )
    check_change(OPERATOR, update(Kind.GUEST, Ref("acme", "web"), GUEST, description="x"), estate)
    with pytest.raises(PermissionDeniedError, match="not delegated"):
        check_change(
            OPERATOR, update(Kind.POLICY, Ref("acme", "web-in"), POLICY, description="x"), estate
        )


def test_read_only_provider_role_writes_nothing() -> None:
    """Without a write privilege even provider objects are refused."""
    reader = Actor("ro", roles=frozenset({"read-only"}))
    host = ESTATE.hosts[Ref("provider", "h1")]
    with pytest.raises(PermissionDeniedError, match=r"lacks infrastructure\.write"):
        check_change(
            reader, update(Kind.HOST, Ref("provider", "h1"), host, description="x"), ESTATE
        )
    check_change(OPERATOR, update(Kind.HOST, Ref("provider", "h1"), host, description="x"), ESTATE)


def test_provider_cannot_delegate_a_tenants_tasks_to_itself() -> None:
    """Making acme tenant-assisted with guests delegated is the tenant's call alone."""
    assisted = ACME.model_copy(
        update={
            "administration": AdministrationModel.TENANT_ASSISTED,
            "delegated_tasks": ("guests",),
        }
    )
    change = Change(Op.UPDATE, Kind.TENANT, Ref("provider", "acme"), ACME, assisted)
    with pytest.raises(PermissionDeniedError, match="only the tenant delegates"):
        check_change(PROVIDER_ADMIN, change, ESTATE)
    check_change(TENANT_ADMIN, change, ESTATE)
