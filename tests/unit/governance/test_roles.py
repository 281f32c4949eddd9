"""Roles: system roles per domain, and custom roles that can never carry tenant data upward."""

from __future__ import annotations

import pytest

from tenantry.errors import InputError, PermissionDeniedError
from tenantry.governance import (
    PRIVILEGES,
    TENANT_DATA_PRIVILEGES,
    Holder,
    Privilege,
    custom_role,
    system_role,
)


def test_provider_administrator_holds_no_tenant_data_privilege() -> None:
    """No provider role carries console, disk, snapshot, memory or traffic access."""
    admin = system_role("administrator", None)
    assert admin is not None
    assert not admin.privileges & TENANT_DATA_PRIVILEGES
    assert Privilege.APPROVALS_DECIDE in admin.privileges


def test_tenant_administrator_holds_its_tenant_data_privileges() -> None:
    """Inside the tenant, its administrator holds every tenant-data privilege."""
    admin = system_role("administrator", "acme")
    assert admin is not None
    assert admin.privileges >= TENANT_DATA_PRIVILEGES
    assert Privilege.INFRASTRUCTURE_WRITE not in admin.privileges


def test_no_access_holds_nothing() -> None:
    """The no-access role is empty in every domain."""
    for tenant in (None, "acme"):
        role = system_role("no-access", tenant)
        assert role is not None and not role.privileges


@pytest.mark.parametrize("privilege", sorted(TENANT_DATA_PRIVILEGES))
def test_provider_custom_role_with_tenant_data_privilege_is_refused(privilege: Privilege) -> None:
    """A provider role naming a tenant-data privilege is refused outright."""
    with pytest.raises(PermissionDeniedError, match="tenant data"):
        custom_role("peek", [str(privilege)], None)


def test_tenant_custom_role_with_tenant_data_privilege_is_accepted() -> None:
    """The same role inside a tenant is legitimate."""
    role = custom_role("support", [str(p) for p in TENANT_DATA_PRIVILEGES], "acme")
    assert role.privileges == TENANT_DATA_PRIVILEGES


def test_tenant_custom_role_with_provider_privilege_is_refused() -> None:
    """Provider-only privileges make no sense inside a tenant."""
    provider_only = [p for p, i in PRIVILEGES.items() if i.holder is Holder.PROVIDER]
    for privilege in provider_only:
        with pytest.raises(InputError):
            custom_role("ops", [str(privilege)], "acme")


@pytest.mark.parametrize("name", ["administrator", "Bad_Name", "", "x" * 64])
def test_custom_role_names_are_checked(name: str) -> None:
    """System role names cannot be redefined and names are DNS labels."""
    with pytest.raises(InputError):
        custom_role(name, [], None)


def test_unknown_privilege_is_refused() -> None:
    """A typo is an input error, not a silently empty role."""
    with pytest.raises(InputError, match="not a privilege"):
        custom_role("ops", ["inventory.raed"], None)
