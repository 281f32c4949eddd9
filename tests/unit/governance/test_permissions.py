"""Scopes and authority: the closest permission decides, users override groups, no-access hides."""

from __future__ import annotations

import pytest

from tenantry.errors import InputError
from tenantry.governance import (
    ROOT,
    Actor,
    Authority,
    Entitlement,
    Privilege,
    Scope,
    may,
)
from tenantry.model import Kind, Ref

READ = Privilege.INVENTORY_READ
WRITE = Privilege.GUEST_WRITE
WEB = Scope.parse("guest/acme/web")
ACME = Scope.tenant_root("acme")


def test_scope_text_round_trips() -> None:
    """Every kind of node parses back from its text."""
    for text in ("/", "tenant/acme", "guest/acme/web", "host/h1", "network/provider/svc-dns"):
        assert str(Scope.parse(text)) == text


@pytest.mark.parametrize("text", ["nope/x", "guest/acme", "host/a/b", "guest/acme/web/x", "tenant"])
def test_scope_rejects_malformed_text(text: str) -> None:
    """A scope names a kind and an object correctly, or is refused with InputError."""
    with pytest.raises(InputError):
        Scope.parse(text)


def test_scope_lineage_climbs_through_the_tenant_to_the_root() -> None:
    """A tenant's object sits under its tenant, which sits under the root."""
    assert list(WEB.lineage()) == [WEB, ACME, ROOT]
    assert list(Scope.parse("host/h1").lineage()) == [Scope.parse("host/h1"), ROOT]


def test_propagating_permission_reaches_children() -> None:
    """A role on the tenant with propagation holds on its guests."""
    authority = Authority((Entitlement(frozenset({READ}), ACME, propagate=True),))
    assert authority.allows(READ, WEB)


def test_non_propagating_permission_stays_on_its_node() -> None:
    """Without propagation, the role holds on the tenant node only."""
    authority = Authority((Entitlement(frozenset({READ}), ACME, propagate=False),))
    assert authority.allows(READ, ACME)
    assert not authority.allows(READ, WEB)


def test_no_access_on_a_child_overrides_a_parent_grant() -> None:
    """The closest node decides: an empty role on the guest hides it under an admin parent."""
    authority = Authority(
        (
            Entitlement(frozenset({READ, WRITE}), ACME),
            Entitlement(frozenset(), WEB),
        )
    )
    assert not authority.allows(READ, WEB)
    assert authority.allows(READ, Scope.parse("guest/acme/db"))


def test_user_permission_overrides_group_permissions_on_the_same_node() -> None:
    """At one node, a permission naming the user wins over those of its groups."""
    authority = Authority(
        (
            Entitlement(frozenset({READ, WRITE}), ACME, direct=False),
            Entitlement(frozenset({READ}), ACME, direct=True),
        )
    )
    assert authority.allows(READ, WEB)
    assert not authority.allows(WRITE, WEB)


def test_group_permissions_add_up() -> None:
    """Two groups' roles on one node give the union of their privileges."""
    authority = Authority(
        (
            Entitlement(frozenset({READ}), ACME, direct=False),
            Entitlement(frozenset({WRITE}), ACME, direct=False),
        )
    )
    assert authority.privileges_at(WEB) == {READ, WRITE}


def test_token_ceiling_caps_what_roles_grant() -> None:
    """A token limited to reading cannot write, whatever its user's roles."""
    authority = Authority.everywhere({READ, WRITE}).limited_to({READ})
    assert authority.allows(READ, WEB)
    assert not authority.allows(WRITE, WEB)
    assert not authority.allows_somewhere(WRITE)


def test_tenant_actor_never_acts_outside_its_tenant() -> None:
    """Even an authority that names another tenant's node does not reach across."""
    rogue = Authority((Entitlement(frozenset({READ}), Scope.tenant_root("globex")),))
    actor = Actor("bob", tenant="acme", authority=rogue)
    assert not may(actor, READ, Scope.of(Kind.GUEST, Ref("globex", "web")))


def test_tenant_actor_acts_inside_its_tenant() -> None:
    """The positive control: the same actor reads its own tenant's guests."""
    actor = Actor("bob", tenant="acme", authority=Authority.everywhere({READ}, ACME))
    assert may(actor, READ, WEB)


def test_provider_actor_never_holds_tenant_data_privileges() -> None:
    """Trust no one: even an authority listing disk.read does not let a provider actor read."""
    forged = Authority.everywhere(set(Privilege))
    admin = Actor("alice", authority=forged)
    assert not may(admin, Privilege.DISK_READ, WEB)
    assert not may(Actor.local_operator(), Privilege.DISK_READ, WEB)
    assert may(admin, Privilege.INVENTORY_READ, WEB)


def test_legacy_operator_role_writes_the_estate_but_not_governance() -> None:
    """An actor built with roles={'operator'} holds estate writes, not users.manage."""
    operator = Actor("olga", roles=frozenset({"operator"}))
    assert may(operator, Privilege.GUEST_WRITE, WEB)
    assert not may(operator, Privilege.USERS_MANAGE, ROOT)


def test_principal_text_is_checked() -> None:
    """user:NAME or group:NAME, nothing else."""
    from tenantry.governance import Principal

    assert str(Principal.parse("group:netops")) == "group:netops"
    for text in ("netops", "role:x", "user:", "group:" + "x" * 300):
        with pytest.raises(InputError):
            Principal.parse(text)
