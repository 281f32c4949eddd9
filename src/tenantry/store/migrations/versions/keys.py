"""Tenant key records: KEK versions, signing keys, wrapped per-disk data keys.

Revision ID: keys
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "keys"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_keks",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("wrapping_key", sa.String(71), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tenant_signing_keys",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "disk_keys",
        sa.Column("disk_id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("guest", sa.String(63), nullable=False),
        sa.Column("disk", sa.String(63), nullable=False),
        sa.Column("block_size", sa.Integer, nullable=False),
        sa.Column("block_count", sa.BigInteger, nullable=False),
        sa.Column("kek_version", sa.Integer, nullable=False),
        sa.Column("wrapped_dek", sa.LargeBinary(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_disk_keys_tenant", "disk_keys", ["tenant"])


def downgrade() -> None:
    op.drop_index("ix_disk_keys_tenant", "disk_keys")
    op.drop_table("disk_keys")
    op.drop_table("tenant_signing_keys")
    op.drop_table("tenant_keks")
