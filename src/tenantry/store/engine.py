"""Engines for SQLite (durable pragmas) and PostgreSQL, and migrations to the newest schema."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from tenantry.errors import StoreUnavailableError

__all__ = ["create_store_engine", "describe", "migrate", "redact_url"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid store URL>"


def create_store_engine(url: str) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql+psycopg://...``, set up for durability."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreUnavailableError(
            f"store URL {url!r} is not a database URL",
            hint="Use sqlite:///path/to/tenantry.db or postgresql+psycopg://user@host/db.",
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite opens transactions lazily; writers say BEGIN IMMEDIATE so that they take
        # the write lock before reading the generation they will compare against.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed, pool_pre_ping=True, connect_args={"options": "-c synchronous_commit=on"}
        )
    raise StoreUnavailableError(
        f"unsupported store {backend!r} in {redact_url(url)}",
        hint="tenantry stores its state in SQLite (default) or PostgreSQL.",
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL + synchronous=FULL: a committed apply survives power loss (THREATS row 49).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    write = connection.get_execution_options().get("tenantry_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    # Alembic configures logging from its ini file; we have none and keep the caller's.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise StoreUnavailableError(f"cannot open the store {where}: {describe(exc)}") from exc


def describe(exc: SQLAlchemyError) -> str:
    """The driver's first line of complaint, without the statement's parameters."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).splitlines()
    return text[0][:300] if text else exc.__class__.__name__
