"""Initial schema: estate generation, objects, audit entries.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "estate",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "objects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kind", "owner", "name", name="uq_objects_kind_owner_name"),
    )
    op.create_index("ix_objects_owner", "objects", ["owner"])
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "audit_tenants",
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("tenant", sa.String(63), primary_key=True),
    )
    op.create_index("ix_audit_tenants_tenant", "audit_tenants", ["tenant", "seq"])


def downgrade() -> None:
    op.drop_table("audit_tenants")
    op.drop_table("audit_entries")
    op.drop_index("ix_objects_owner", "objects")
    op.drop_table("objects")
    op.drop_table("estate")
