"""The tables: the estate's objects, its generation counter, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["AuditEntryRow", "AuditTenantRow", "Base", "EstateRow", "ObjectRow"]


class Base(DeclarativeBase):
    """Declarative base of every tenantry table."""


class EstateRow(Base):
    """One row: the estate's generation, bumped by every committed change set.

    Updating it with ``WHERE generation = :seen`` serialises writers on SQLite and
    PostgreSQL alike, so admission always judges the state it will change.
    """

    __tablename__ = "estate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ObjectRow(Base):
    """One object of the estate, stored as its validated JSON body."""

    __tablename__ = "objects"
    __table_args__ = (
        UniqueConstraint("kind", "owner", "name", name="uq_objects_kind_owner_name"),
        Index("ix_objects_owner", "owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    owner: Mapped[str] = mapped_column(String(63), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AuditEntryRow(Base):
    """One audit entry: its position in the log, its canonical bytes and its leaf hash."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class AuditTenantRow(Base):
    """Which tenant an audit entry concerns, and its number among the tenant's entries (the
    index behind tenant views).

    Keyed by (tenant, seq) in one b-tree (WITHOUT ROWID on SQLite): a tenant's view is one
    range scan, and an append writes one index entry per tenant, not two.
    """

    __tablename__ = "audit_tenants"
    __table_args__ = {"sqlite_with_rowid": False}

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tenant_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The entry's number among the tenant's entries (also in the entry's body); none for an
    entry naming several tenants."""
