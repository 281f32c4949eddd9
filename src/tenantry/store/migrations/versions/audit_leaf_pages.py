"""Audit leaf pages: 1024 leaf hashes per row, for reading the whole tree fast.

Revision ID: audit_leaf_pages
Revises: totp_sealed (the newest revision on main when written; the lead re-chains)

Pages of an existing log are filled in here; after that, appends write them.
"""

import sqlalchemy as sa
from alembic import op

revision = "audit_leaf_pages"
down_revision = "totp_sealed"
branch_labels = None
depends_on = None

_PAGE_LEAVES = 1024


def upgrade() -> None:
    pages = op.create_table(
        "audit_leaf_pages",
        sa.Column("page", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hashes", sa.LargeBinary, nullable=False),
    )
    connection = op.get_bind()
    size = connection.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar_one()
    for page in range(int(size) // _PAGE_LEAVES):
        hashes = connection.execute(
            sa.text(
                "SELECT leaf_hash FROM audit_entries WHERE seq >= :low AND seq < :high ORDER BY seq"
            ),
            {"low": page * _PAGE_LEAVES, "high": (page + 1) * _PAGE_LEAVES},
        ).scalars()
        data = b"".join(bytes(h) for h in hashes)
        if len(data) == 32 * _PAGE_LEAVES:
            op.bulk_insert(pages, [{"page": page, "hashes": data}])


def downgrade() -> None:
    op.drop_table("audit_leaf_pages")
