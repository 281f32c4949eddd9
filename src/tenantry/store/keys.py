"""Key records in the store: KEK versions, signing keys and wrapped data keys.

No plaintext key is ever written here: KEKs live only in the HSM (the table holds their
version and state), data keys only wrapped under a KEK, signing keys only as public keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    RowMapping,
    String,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from tenantry.keys import (
    DiskKeyRecord,
    DiskKeyState,
    KekRecord,
    KekState,
    KeyRecords,
    SigningKeyRecord,
)
from tenantry.store.store import Store
from tenantry.store.tables import Base

__all__ = ["DiskKeyRow", "SigningKeyRow", "StoreKeyRecords", "TenantKekRow"]


class TenantKekRow(Base):
    """One version of a tenant's KEK: its state, not the key."""

    __tablename__ = "tenant_keks"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    wrapping_key: Mapped[str] = mapped_column(String(71), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class SigningKeyRow(Base):
    """A tenant's Ed25519 header-signing public key."""

    __tablename__ = "tenant_signing_keys"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class DiskKeyRow(Base):
    """A disk's identity and geometry, and its data key wrapped under the tenant's KEK."""

    __tablename__ = "disk_keys"
    __table_args__ = (Index("ix_disk_keys_tenant", "tenant"),)

    disk_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63), nullable=False)
    guest: Mapped[str] = mapped_column(String(63), nullable=False)
    disk: Mapped[str] = mapped_column(String(63), nullable=False)
    block_size: Mapped[int] = mapped_column(Integer, nullable=False)
    block_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kek_version: Mapped[int] = mapped_column(Integer, nullable=False)
    wrapped_dek: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    generation: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class StoreKeyRecords(KeyRecords):
    """``KeyRecords`` over the store's database (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _rows(self, table: type[Base], *where: Any) -> list[RowMapping]:
        with self._store._connect(write=False) as connection:  # same package
            return list(connection.execute(select(table.__table__).where(*where)).mappings())

    def keks(self, tenant: str) -> list[KekRecord]:
        return [
            KekRecord(
                r["tenant"],
                r["version"],
                KekState(r["state"]),
                r["wrapping_key"],
                r["created_at"],
                r["changed_at"],
            )
            for r in self._rows(TenantKekRow, TenantKekRow.tenant == tenant)
        ]

    def signing_key(self, tenant: str) -> SigningKeyRecord | None:
        rows = self._rows(SigningKeyRow, SigningKeyRow.tenant == tenant)
        if not rows:
            return None
        r = rows[0]
        return SigningKeyRecord(
            r["tenant"], bytes(r["public_key"]), bool(r["active"]), r["created_at"], r["changed_at"]
        )

    def disk_key(self, disk_id: str) -> DiskKeyRecord | None:
        rows = self._rows(DiskKeyRow, DiskKeyRow.disk_id == disk_id)
        return _disk(rows[0]) if rows else None

    def disk_keys(self, tenant: str) -> list[DiskKeyRecord]:
        rows = self._rows(DiskKeyRow, DiskKeyRow.tenant == tenant)
        return sorted((_disk(r) for r in rows), key=lambda d: (d.guest, d.disk, d.disk_id))

    def save(
        self,
        *,
        keks: Sequence[KekRecord] = (),
        disks: Sequence[DiskKeyRecord] = (),
        signing: SigningKeyRecord | None = None,
    ) -> None:
        upserts: list[tuple[type[Base], list[str], dict[str, Any]]] = []
        for kek in keks:
            values = {**vars(kek), "state": str(kek.state)}
            upserts.append((TenantKekRow, ["tenant", "version"], values))
        for disk in disks:
            values = {**vars(disk), "state": str(disk.state)}
            upserts.append((DiskKeyRow, ["disk_id"], values))
        if signing is not None:
            upserts.append((SigningKeyRow, ["tenant"], dict(vars(signing))))
        with self._store._connect(write=True) as connection:
            insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
            for table, keys, values in upserts:
                connection.execute(
                    insert(table)
                    .values(**values)
                    .on_conflict_do_update(index_elements=keys, set_=values)
                )


def _disk(r: RowMapping) -> DiskKeyRecord:
    return DiskKeyRecord(
        disk_id=r["disk_id"],
        tenant=r["tenant"],
        guest=r["guest"],
        disk=r["disk"],
        block_size=r["block_size"],
        block_count=r["block_count"],
        kek_version=r["kek_version"],
        wrapped_dek=bytes(r["wrapped_dek"]),
        state=DiskKeyState(r["state"]),
        generation=r["generation"],
        created_at=r["created_at"],
        changed_at=r["changed_at"],
    )
