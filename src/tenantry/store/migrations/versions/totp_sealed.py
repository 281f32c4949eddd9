"""TOTP seeds sealed at rest: the columns hold AES-GCM ciphertext, and every seed stored in
plaintext before is sealed now, under the secrets key (a 0600 file outside the store,
``TENANTRY_SECRETS_KEY``, created here if it does not exist yet). On PostgreSQL the old row
versions stay in the table's pages until ``VACUUM FULL users`` (docs/api.md says so).

Revision ID: totp_sealed
Revises: governance
"""

import sqlalchemy as sa
from alembic import op

revision = "totp_sealed"
down_revision = "governance"
branch_labels = None
depends_on = None

_COLUMNS = ("totp_secret", "totp_pending")


def upgrade() -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite does not enforce VARCHAR lengths, and rebuilding the table would leave the
        # plaintext in freed pages; secure_delete zeroes what the updates below replace.
        connection.exec_driver_sql("PRAGMA secure_delete = ON")
    else:
        for column in _COLUMNS:
            op.alter_column("users", column, type_=sa.Text, existing_type=sa.String(64))
    users = sa.table("users", sa.column("id"), *(sa.column(c) for c in _COLUMNS))
    rows = connection.execute(
        sa.select(users).where(sa.or_(*(users.c[c].is_not(None) for c in _COLUMNS)))
    ).all()
    plain = [
        (row.id, column, getattr(row, column))
        for row in rows
        for column in _COLUMNS
        if getattr(row, column) is not None and ":" not in getattr(row, column)
    ]
    if not plain:
        if sqlite:
            connection.exec_driver_sql("PRAGMA secure_delete = OFF")
        return  # a store without plaintext seeds needs no key
    # Imported here: most stores never reach this, and it needs the settings.
    from tenantry.keys import load_secret_box  # noqa: PLC0415
    from tenantry.settings import Settings  # noqa: PLC0415
    from tenantry.store.identities import totp_place  # noqa: PLC0415

    box = load_secret_box(Settings().secrets_key_path())
    for user_id, column, value in plain:
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values({column: box.seal(value, totp_place(user_id, column))})
        )
    if sqlite:
        connection.exec_driver_sql("PRAGMA secure_delete = OFF")


def downgrade() -> None:
    raise NotImplementedError("sealed seeds are not written back in plaintext")
