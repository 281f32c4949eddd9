"""Tables of the Merkle log beyond its entries, and the estate's history for forensic snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.store.tables import Base

__all__ = [
    "AuditHeadRow",
    "AuditLeafPageRow",
    "AuditLogRow",
    "AuditNodeRow",
    "EstateCommitRow",
    "EstateHistoryRow",
]


class AuditLogRow(Base):
    """One row: the log's size, its right edge (frontier) and the log id it is pinned to.

    A cache for fast appends, never trusted by verification: the verifier recomputes
    everything from the entries, and appends refuse to run if it disagrees with them.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    log_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditNodeRow(Base):
    """A complete subtree root at a level that is a multiple of the tile height (4, 8, ...)."""

    __tablename__ = "audit_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class AuditLeafPageRow(Base):
    """The leaf hashes of entries page * 1024 .. page * 1024 + 1023, end to end
    (tenantry.store.audit_pages)."""

    __tablename__ = "audit_leaf_pages"

    page: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hashes: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class AuditHeadRow(Base):
    """A signed tree head, written in the same transaction as the entries it covers."""

    __tablename__ = "audit_heads"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    timestamp: Mapped[int] = mapped_column(BigInteger, nullable=False)
    log_id: Mapped[str] = mapped_column(String(64), nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)


class EstateHistoryRow(Base):
    """An object's body as of a generation (NULL once deleted): the estate at any point in time."""

    __tablename__ = "estate_history"
    __table_args__ = (Index("ix_estate_history_generation", "generation"),)

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class EstateCommitRow(Base):
    """When each generation was committed and how long the audit log was right after it."""

    __tablename__ = "estate_commits"

    generation: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    log_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    committed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
