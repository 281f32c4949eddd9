"""Audit log: frontier, tiles and signed heads; estate history for forensic snapshots.

Revision ID: audit
Revises: keys
"""

import json

import sqlalchemy as sa
from alembic import op

from tenantry.audit.frontier import Frontier

revision = "audit"
down_revision = "keys"
branch_labels = None
depends_on = None

TILE_HEIGHT = 4


def upgrade() -> None:
    _rekey_tenant_index()
    log = op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("frontier", sa.LargeBinary, nullable=False),
        sa.Column("log_id", sa.String(64), nullable=True),
    )
    nodes = op.create_table(
        "audit_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "audit_heads",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("log_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
    )
    history = op.create_table(
        "estate_history",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(63), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("generation", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("body", sa.JSON(none_as_null=True), nullable=True),
    )
    op.create_index("ix_estate_history_generation", "estate_history", ["generation"])
    commits = op.create_table(
        "estate_commits",
        sa.Column("generation", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("log_size", sa.BigInteger, nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
    )
    _backfill(log, nodes, history, commits)


def _rekey_tenant_index() -> None:
    # (tenant, seq) as the only key, WITHOUT ROWID on SQLite: one b-tree write per entry and
    # tenant instead of two, and a tenant's view is a single range scan.
    op.create_table(
        "audit_tenants_keyed",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("tenant_seq", sa.BigInteger, nullable=True),
        sqlite_with_rowid=False,
    )
    # Entries written before numbering stay unnumbered (their bodies, already hashed into
    # the log, carry no number); numbering starts with the next entry of each tenant.
    op.execute(
        "INSERT INTO audit_tenants_keyed (tenant, seq) SELECT tenant, seq FROM audit_tenants"
    )
    op.drop_index("ix_audit_tenants_tenant", "audit_tenants")
    op.drop_table("audit_tenants")
    op.rename_table("audit_tenants_keyed", "audit_tenants")


def _backfill(log: sa.Table, nodes: sa.Table, history: sa.Table, commits: sa.Table) -> None:
    # A store written before this revision keeps its entries: rebuild the right edge and the
    # tiles from their leaf hashes, and record the current estate as its own history.
    bind = op.get_bind()
    leaves = bind.execute(sa.text("SELECT leaf_hash FROM audit_entries ORDER BY seq"))
    frontier = Frontier()
    kept = frontier.append((bytes(h) for (h,) in leaves), keep_every=TILE_HEIGHT)
    if kept:
        bind.execute(nodes.insert(), [{"level": lv, "idx": i, "hash": h} for lv, i, h in kept])
    bind.execute(log.insert().values(id=1, size=frontier.size, frontier=frontier.to_bytes()))
    generation = bind.execute(sa.text("SELECT generation FROM estate")).scalar()
    if not generation:
        return
    rows = bind.execute(sa.text("SELECT kind, owner, name, body FROM objects")).all()
    if rows:
        bind.execute(
            history.insert(),
            [
                {"kind": k, "owner": o, "name": n, "generation": generation, "body": _json(b)}
                for k, o, n, b in rows
            ],
        )
    bind.execute(
        commits.insert().values(
            generation=generation, log_size=frontier.size, committed_at=sa.func.now()
        )
    )


def _json(body: object) -> object:
    # SQLite hands JSON columns back as text through a raw query; PostgreSQL as objects.
    return json.loads(body) if isinstance(body, str) else body


def downgrade() -> None:
    op.drop_table("estate_commits")
    op.drop_index("ix_estate_history_generation", "estate_history")
    op.drop_table("estate_history")
    op.drop_table("audit_heads")
    op.drop_table("audit_nodes")
    op.drop_table("audit_log")
