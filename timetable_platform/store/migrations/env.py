"""Alembic environment: the URL comes from a passed engine, ``-x url=...``, or the platform settings."""

from __future__ import annotations

import contextlib
import importlib
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, Engine, text

from timetable_platform.store.db import make_engine
from timetable_platform.store.models import Base

# Other areas' tables register on the same Base; import them when present so autogenerate sees them.
for _module in ("timetable_platform.store.api_models", "timetable_platform.store.review_models"):
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(_module)

target_metadata = Base.metadata
config = context.config
if config.config_file_name is not None:  # the alembic CLI with alembic.ini; programmatic runs keep their logging
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# Serialises concurrent `migrate()` calls (API and Dagster starting together) on PostgreSQL.
MIGRATION_LOCK_KEY = 0x7417_7AB1E


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from timetable_platform.settings import Settings

    return Settings().resolved_database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # Only effective outside a transaction, hence on the DBAPI connection (autocommit, see db.make_engine).
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    owned = engine is None
    if engine is None:
        engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch mode rebuilds a table (copy, DROP, rename); with foreign keys on, dropping
                # `uploads` would cascade-delete every entry. Off while migrating, checked at the end.
                _sqlite_foreign_keys(connection, on=False)
            try:
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    render_as_batch=sqlite,  # SQLite cannot ALTER most things
                    transactional_ddl=True,  # SQLite too: all revisions or none, and one writer at a time
                    compare_type=True,
                )
                with context.begin_transaction():
                    if connection.dialect.name == "postgresql":
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                    context.run_migrations()
                    if sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")
            finally:
                if sqlite:
                    _sqlite_foreign_keys(connection, on=True)
    finally:
        if owned:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
