"""Alembic environment: the URL comes from a passed engine, ``-x url=...``, or the platform settings."""

from __future__ import annotations

import contextlib
import importlib

from alembic import context
from sqlalchemy import Engine, text

from timetable_platform.store.db import make_engine
from timetable_platform.store.models import Base

# Other areas' tables register on the same Base; import them when present so autogenerate sees them.
for _module in ("timetable_platform.store.api_models",):
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(_module)

target_metadata = Base.metadata
config = context.config

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


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    owned = engine is None
    if engine is None:
        engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
                compare_type=True,
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                context.run_migrations()
    finally:
        if owned:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
