"""Who may do what: actors, tenant boundaries, privileges, roles, permissions, identities,
sessions, two-person approvals and data-access grants (pure rules; the service stores them)."""

from tenantry.governance.actor import Actor
from tenantry.governance.approvals import Approval, ApprovalStatus, check_decider
from tenantry.governance.authorization import authorize, may, scope_of
from tenantry.governance.boundaries import TENANT_TASKS, check_change, is_visible
from tenantry.governance.directory import (
    DirectoryConfig,
    DirectoryUser,
    check_directory_host,
)
from tenantry.governance.grants import DataGrant, GrantStatus
from tenantry.governance.otp import new_totp_secret, provisioning_uri, verify_totp
from tenantry.governance.passwords import (
    PasswordHashing,
    UnsafeFastPasswordHashing,
    check_password_rules,
    hash_password,
    verify_password,
)
from tenantry.governance.permissions import Authority, Entitlement, Permission, Principal
from tenantry.governance.privileges import (
    PRIVILEGES,
    TENANT_DATA_PRIVILEGES,
    Holder,
    Privilege,
    PrivilegeInfo,
    privilege_for_kind,
    privileges_for,
)
from tenantry.governance.roles import SYSTEM_ROLE_NAMES, Role, custom_role, domain_name, system_role
from tenantry.governance.rules import GovernanceRules
from tenantry.governance.scopes import ROOT, Scope
from tenantry.governance.sensitive import sensitive_reasons
from tenantry.governance.sessions import Credential, CredentialKind, EndReason
from tenantry.governance.throttle import FailureCount, ThrottleRule, account_key, address_key
from tenantry.governance.tokens import (
    TOKEN_PREFIX,
    digest_secret,
    matches_digest,
    new_id,
    new_secret,
)
from tenantry.governance.users import User, UserSource, check_user_name

__all__ = [
    "PRIVILEGES",
    "ROOT",
    "SYSTEM_ROLE_NAMES",
    "TENANT_DATA_PRIVILEGES",
    "TENANT_TASKS",
    "TOKEN_PREFIX",
    "Actor",
    "Approval",
    "ApprovalStatus",
    "Authority",
    "Credential",
    "CredentialKind",
    "DataGrant",
    "DirectoryConfig",
    "DirectoryUser",
    "EndReason",
    "Entitlement",
    "FailureCount",
    "GovernanceRules",
    "GrantStatus",
    "Holder",
    "PasswordHashing",
    "Permission",
    "Principal",
    "Privilege",
    "PrivilegeInfo",
    "Role",
    "Scope",
    "ThrottleRule",
    "UnsafeFastPasswordHashing",
    "User",
    "UserSource",
    "account_key",
    "address_key",
    "authorize",
    "check_change",
    "check_decider",
    "check_directory_host",
    "check_password_rules",
    "check_user_name",
    "custom_role",
    "digest_secret",
    "domain_name",
    "hash_password",
    "is_visible",
    "matches_digest",
    "may",
    "new_id",
    "new_secret",
    "new_totp_secret",
    "privilege_for_kind",
    "privileges_for",
    "provisioning_uri",
    "scope_of",
    "sensitive_reasons",
    "system_role",
    "verify_password",
    "verify_totp",
]
