"""Governance tables: users, roles, permissions, credentials, throttles, approvals, grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.store.tables import Base

__all__ = [
    "ApprovalRow",
    "CredentialRow",
    "DataGrantRow",
    "DirectoryRow",
    "LoginFailureRow",
    "PermissionRow",
    "RoleRow",
    "UserRow",
]


class UserRow(Base):
    """A user of one credential domain (``provider`` or a tenant's name)."""

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_domain_name", "domain", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    domain: Mapped[str] = mapped_column(String(63), nullable=False)
    name: Mapped[str] = mapped_column(String(63), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(Text)
    totp_secret: Mapped[str | None] = mapped_column(Text)
    """Sealed (``tenantry.keys.SecretBox``) for ``totp_place(id, "totp_secret")``."""
    totp_pending: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    groups: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)


class RoleRow(Base):
    """A custom role of one domain."""

    __tablename__ = "roles"

    domain: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    privileges: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)


class PermissionRow(Base):
    """A role granted to a user or group of a domain on a node of the inventory."""

    __tablename__ = "permissions"
    __table_args__ = (
        Index("uq_permissions_domain_principal_scope", "domain", "principal", "scope", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    domain: Mapped[str] = mapped_column(String(63), nullable=False)
    principal: Mapped[str] = mapped_column(String(210), nullable=False)
    role: Mapped[str] = mapped_column(String(63), nullable=False)
    scope: Mapped[str] = mapped_column(String(400), nullable=False)
    propagate: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CredentialRow(Base):
    """A session or API token: only the SHA-256 digest of its secret is stored."""

    __tablename__ = "credentials"
    __table_args__ = (
        Index("uq_credentials_digest", "digest", unique=True),
        Index("ix_credentials_user", "user_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    privileges: Mapped[list[str] | None] = mapped_column(JSON)
    groups: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    source: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_source: Mapped[str] = mapped_column(String(64), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str] = mapped_column(String(32), nullable=False, default="")


class LoginFailureRow(Base):
    """Consecutive failed logins of an account or a source address."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApprovalRow(Base):
    """A sensitive operation waiting for (or decided by) a second person."""

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_status", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    operation: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    requester_id: Mapped[str] = mapped_column(String(32), nullable=False)
    requester: Mapped[str] = mapped_column(String(200), nullable=False)
    tenants: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    excluded: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    decided_by: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[str] = mapped_column(Text, nullable=False, default="")


class DataGrantRow(Base):
    """A tenant's grant of one tenant-data privilege on one object to one provider operator."""

    __tablename__ = "data_grants"
    __table_args__ = (
        Index("ix_data_grants_tenant", "tenant"),
        Index("ix_data_grants_grantee", "grantee_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63), nullable=False)
    grantee_id: Mapped[str] = mapped_column(String(32), nullable=False)
    grantee: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    owner: Mapped[str] = mapped_column(String(63), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    privilege: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    approval_id: Mapped[str] = mapped_column(String(32), nullable=False, default="")


class DirectoryRow(Base):
    """The LDAP / Active Directory configuration of one credential domain."""

    __tablename__ = "directories"

    domain: Mapped[str] = mapped_column(String(63), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
