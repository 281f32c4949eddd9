"""What a database administrator can do to the audit tables with SQL, and backup/restore."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from tenantry.audit import Ed25519Signer, Frontier, TreeHead, leaf_hash, log_id_of

__all__ = ["dba", "resign_all", "restore", "rewrite", "snapshot"]


@contextmanager
def dba(url: str) -> Iterator[Connection]:
    """A plain SQL session on the store, outside tenantry, committed at the end."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def rewrite(connection: Connection, seq: int, old: str, new: str, *, rehash: bool) -> None:
    """Edit an entry's body (and its leaf hash too, if ``rehash``), as an admin would."""
    body = connection.execute(
        text("SELECT body FROM audit_entries WHERE seq = :s"), {"s": seq}
    ).scalar_one()
    assert old in body, (old, body)
    edited = body.replace(old, new, 1)
    connection.execute(
        text("UPDATE audit_entries SET body = :b WHERE seq = :s"), {"b": edited, "s": seq}
    )
    if rehash:
        connection.execute(
            text("UPDATE audit_entries SET leaf_hash = :h WHERE seq = :s"),
            {"h": leaf_hash(edited.encode()), "s": seq},
        )


def resign_all(connection: Connection, signer: Ed25519Signer) -> None:
    """Recompute every stored head over the current entries and sign it with ``signer``."""
    hashes = [
        bytes(h)
        for (h,) in connection.execute(text("SELECT leaf_hash FROM audit_entries ORDER BY seq"))
    ]
    sizes = [
        int(s) for (s,) in connection.execute(text("SELECT size FROM audit_heads ORDER BY size"))
    ]
    connection.execute(text("DELETE FROM audit_heads"))
    frontier = Frontier()
    log_id = log_id_of(signer.public_key())
    for size in sizes:
        frontier.append(hashes[frontier.size : size])
        head = TreeHead(size, frontier.root(), 1_800_000_000_000 + size, log_id).sign(signer)
        connection.execute(
            text(
                "INSERT INTO audit_heads (size, root, timestamp, log_id, signature) "
                "VALUES (:s, :r, :t, :l, :g)"
            ),
            {"s": size, "r": head.root, "t": head.head.timestamp, "l": log_id, "g": head.signature},
        )
    connection.execute(text("UPDATE audit_log SET log_id = :l, frontier = :f"),
                       {"l": log_id, "f": frontier.to_bytes()})  # fmt: skip


def _admin(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    return parsed.set(database="tenantry").render_as_string(hide_password=False), str(
        parsed.database
    )


def snapshot(url: str, label: str) -> None:
    """Take a backup of the whole store (a file copy, or a template database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        shutil.copyfile(str(parsed.database), f"{parsed.database}.{label}")
        return
    admin, name = _admin(url)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}_{label}" TEMPLATE "{name}"'))
    engine.dispose()


def restore(url: str, label: str) -> None:
    """Put the backup back in place of the store (every connection must be closed)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(f"{parsed.database}.{label}", str(parsed.database))
        return
    admin, name = _admin(url)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{name}_{label}"'))
        connection.execute(text(f'DROP DATABASE "{name}_{label}"'))
    engine.dispose()
