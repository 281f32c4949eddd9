"""Governance: users, roles, permissions, credentials, login throttles, approvals, grants.

Revision ID: governance
Revises: keys (chained after keys when main was merged; originally 0001)
"""

import sqlalchemy as sa
from alembic import op

revision = "governance"
down_revision = "audit"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("domain", sa.String(63), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("totp_pending", sa.String(64)),
        sa.Column("totp_last_step", sa.BigInteger),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("groups", sa.JSON, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("uq_users_domain_name", "users", ["domain", "name"], unique=True)
    op.create_table(
        "roles",
        sa.Column("domain", sa.String(63), primary_key=True),
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("privileges", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
    )
    op.create_table(
        "permissions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("domain", sa.String(63), nullable=False),
        sa.Column("principal", sa.String(210), nullable=False),
        sa.Column("role", sa.String(63), nullable=False),
        sa.Column("scope", sa.String(400), nullable=False),
        sa.Column("propagate", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_index(
        "uq_permissions_domain_principal_scope",
        "permissions",
        ["domain", "principal", "scope"],
        unique=True,
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("privileges", sa.JSON),
        sa.Column("groups", sa.JSON, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("last_used_at", _TZ, nullable=False),
        sa.Column("last_source", sa.String(64), nullable=False),
        sa.Column("ended_at", _TZ),
        sa.Column("end_reason", sa.String(32), nullable=False),
    )
    op.create_index("uq_credentials_digest", "credentials", ["digest"], unique=True)
    op.create_index("ix_credentials_user", "credentials", ["user_id"])
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("locked_until", _TZ),
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("operation", sa.JSON, nullable=False),
        sa.Column("requester_id", sa.String(32), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("tenants", sa.JSON, nullable=False),
        sa.Column("excluded", sa.JSON, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("decided_at", _TZ),
        sa.Column("result", sa.Text, nullable=False),
    )
    op.create_index("ix_approvals_status", "approvals", ["status", "created_at"])
    op.create_table(
        "data_grants",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("grantee_id", sa.String(32), nullable=False),
        sa.Column("grantee", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("privilege", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("approval_id", sa.String(32), nullable=False),
    )
    op.create_index("ix_data_grants_tenant", "data_grants", ["tenant"])
    op.create_index("ix_data_grants_grantee", "data_grants", ["grantee_id"])
    op.create_table(
        "directories",
        sa.Column("domain", sa.String(63), primary_key=True),
        sa.Column("config", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "directories",
        "data_grants",
        "approvals",
        "login_failures",
        "credentials",
        "permissions",
        "roles",
        "users",
    ):
        op.drop_table(table)
