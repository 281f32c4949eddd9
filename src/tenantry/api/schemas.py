"""Request and response bodies of the REST API (the domain objects themselves are the model's)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AccessOut",
    "ApprovalOut",
    "AuditEntryOut",
    "AuditPage",
    "ChangeOut",
    "CredentialOut",
    "DirectoryIn",
    "DirectoryOut",
    "DiskReadOut",
    "EnforcementOut",
    "GrantIn",
    "GrantOut",
    "IssuedOut",
    "LoginIn",
    "MfaConfirmIn",
    "MfaOut",
    "OwnPasswordIn",
    "PasswordIn",
    "PermissionIn",
    "PermissionOut",
    "PlanOut",
    "PrivilegeOut",
    "Problem",
    "RoleIn",
    "RoleOut",
    "TokenIn",
    "UserIn",
    "UserOut",
    "WhoAmI",
]

DOMAIN = Field(
    pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
    description="a credential domain: 'provider' or a tenant's name",
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(description="the stable error code (see docs/errors.md)")
    title: str
    status: int
    detail: str
    code: str
    hint: str = ""
    instance: str = ""
    errors: list[dict[str, Any]] = Field(default_factory=list)
    approval_id: str | None = None


class LoginIn(_In):
    """Credentials for a new session."""

    username: str = Field(min_length=1, max_length=63)
    tenant: str | None = Field(None, description="the user's tenant; omit for provider users")
    password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(None, max_length=16, description="the TOTP code, if enrolled")


class CredentialOut(BaseModel):
    """A session or API token (never its secret)."""

    id: str
    kind: str
    user: str
    name: str
    source: str
    created_at: str
    expires_at: str
    last_used_at: str
    last_source: str
    privileges: list[str] | None
    ended_at: str | None
    end_reason: str


class IssuedOut(BaseModel):
    """A new bearer secret, shown once, and its credential."""

    token: str
    credential: CredentialOut


class WhoAmI(BaseModel):
    """The authenticated actor."""

    name: str
    domain: str
    roles: list[str]
    session: str | None
    privileges: list[str] = Field(description="privileges held on the root of one's domain")


class MfaOut(BaseModel):
    """A new TOTP secret to enrol (shown once)."""

    secret: str
    uri: str


class MfaConfirmIn(_In):
    """A code proving the authenticator holds the secret."""

    code: str = Field(min_length=1, max_length=16)


class OwnPasswordIn(_In):
    """A new password for oneself."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordIn(_In):
    """A new password set by the domain's administrator."""

    password: str = Field(min_length=1, max_length=1024)


class TokenIn(_In):
    """A new API token for oneself."""

    name: str = Field(min_length=1, max_length=200)
    expires_in: int = Field(gt=0, le=90 * 86400, description="seconds until it expires")
    privileges: list[str] | None = Field(None, description="cap on privileges; all if omitted")


class UserIn(_In):
    """A new user of a domain."""

    domain: str = DOMAIN
    name: str = Field(min_length=1, max_length=63)
    password: str | None = Field(None, max_length=1024)
    source: str = Field("local", pattern="^(local|ldap)$")
    groups: list[str] = Field(default_factory=list, max_length=100)


class UserOut(BaseModel):
    """A user (never its password hash or second-factor secret)."""

    domain: str
    name: str
    source: str
    disabled: bool
    mfa_enabled: bool
    groups: list[str]
    created_at: str | None
    created_by: str


class PrivilegeOut(BaseModel):
    """One entry of the privilege catalogue."""

    name: str
    description: str
    holder: str
    tenant_data: bool


class RoleIn(_In):
    """A new custom role."""

    domain: str = DOMAIN
    name: str = Field(min_length=1, max_length=63)
    privileges: list[str] = Field(max_length=64)
    description: str = Field("", max_length=1000)


class RoleOut(BaseModel):
    """A system or custom role of a domain."""

    name: str
    domain: str
    system: bool
    privileges: list[str]
    description: str


class PermissionIn(_In):
    """A role for a user or group on a node of the inventory."""

    domain: str = DOMAIN
    principal: str = Field(min_length=1, max_length=210, description="user:NAME or group:NAME")
    role: str = Field(min_length=1, max_length=63)
    scope: str = Field("/", max_length=400, description="'/', 'tenant/T', 'KIND/OWNER/NAME'")
    propagate: bool = True


class PermissionOut(BaseModel):
    """A permission."""

    id: str
    domain: str
    principal: str
    role: str
    scope: str
    propagate: bool
    created_by: str


class ApprovalOut(BaseModel):
    """A two-person request."""

    id: str
    action: str
    summary: str
    requester: str
    created_at: str
    expires_at: str
    tenants: list[str]
    status: str
    decided_by: str
    decided_at: str | None
    result: str
    counterexamples: list[str] = Field(
        default_factory=list, description="the leaks a request to override isolation opens"
    )


class GrantIn(_In):
    """A tenant's grant of one tenant-data privilege on one guest to one provider operator."""

    grantee: str = Field(min_length=1, max_length=63, description="a provider user name")
    guest: str = Field(min_length=3, max_length=130, description="OWNER/NAME of the guest")
    privilege: str = Field(min_length=1, max_length=64)
    expires_in: int = Field(gt=0, le=7 * 86400, description="seconds of access once approved")


class GrantOut(BaseModel):
    """A data-access grant."""

    id: str
    tenant: str
    grantee: str
    object: str
    privilege: str
    created_by: str
    created_at: str
    expires_at: str
    status: str
    approval_id: str


class AccessOut(BaseModel):
    """What a use of a tenant-data privilege shows (metadata, never plaintext)."""

    model_config = ConfigDict(extra="allow")

    privilege: str
    via: str
    guest: str
    power: str


class DiskReadOut(AccessOut):
    """A disk read: the use's metadata and the plaintext of the range, base64."""

    offset: int
    length: int
    data: str = Field(description="the plaintext bytes, base64 (RFC 4648)")


class DirectoryIn(_In):
    """LDAP / Active Directory settings of a domain."""

    url: str = Field(pattern=r"^ldaps?://", max_length=300)
    user_dn_template: str = Field(max_length=300)
    group_base: str = Field(max_length=300)
    group_filter: str = Field("(&(objectClass=groupOfNames)(member={user_dn}))", max_length=300)
    group_name_attribute: str = Field("cn", max_length=64)
    start_tls: bool = False
    ca_file: str | None = Field(None, max_length=300)
    timeout: float = Field(5.0, gt=0, le=60)


class DirectoryOut(DirectoryIn):
    """A domain's directory settings."""


class ChangeOut(BaseModel):
    """One planned or applied change."""

    op: str
    kind: str
    ref: str
    fields: list[str]
    needs_approval: list[str] = Field(default_factory=list)


class EnforcementOut(BaseModel):
    """What the server's data-plane backend enforced for an apply."""

    backend: str
    generation: int
    ports: int
    policies: int
    rules: int
    chains: int
    incremental: bool
    compile_ms: float
    apply_ms: float


class PlanOut(BaseModel):
    """What an apply changed, or would change, and (for an apply) what was enforced."""

    changes: list[ChangeOut]
    placements: dict[str, str]
    generation: int
    applied: bool
    enforcement: EnforcementOut | None = None
    enforcement_errors: list[str] = Field(
        default_factory=list, description="backends that failed to follow the commit"
    )


class AuditEntryOut(BaseModel):
    """One audit entry as the caller may see it."""

    seq: int
    record: dict[str, Any]


class AuditPage(BaseModel):
    """A page of the audit trail."""

    items: list[AuditEntryOut]
    next_start: int | None
