"""Alembic migrations: upgrade/downgrade on both databases, and the migrated schema equals the models."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from timetable_platform.store.db import alembic_config, current_revision, downgrade, make_engine, migrate
from timetable_platform.store.models import Base

OWN_TABLES = {"uploads", "entries", "queue_messages"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_first_revision_is_0001_and_history_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions())
    assert revisions[-1].revision == "0001" and revisions[-1].down_revision is None
    assert len(script.get_heads()) == 1, "two migration heads: chain new revisions to the latest one"


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    migrate(db_url)
    assert _tables(db_url) >= OWN_TABLES
    head = current_revision(db_url)
    assert head is not None

    downgrade(db_url, "base")
    assert current_revision(db_url) is None
    assert not (OWN_TABLES & _tables(db_url))

    migrate(db_url)
    assert current_revision(db_url) == head
    migrate(db_url)  # already at head: nothing to do, no error
    assert current_revision(db_url) == head


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    migrate(db_url, "0001")
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    def table_of(op: tuple) -> str | None:
        for item in op[1:]:
            name = getattr(item, "name", None)
            table = getattr(item, "table", None)
            if table is not None:
                return table.name
            if isinstance(item, str) and item in OWN_TABLES:
                return item
            if name in OWN_TABLES:
                return name
        return None

    own = [op for op in diff if not isinstance(op, tuple) or table_of(op) in OWN_TABLES]
    assert own == [], f"models and migration 0001 differ: {own}"


def test_concurrent_migrations_do_not_collide(db_url: str) -> None:
    """The API and the Dagster daemon may both migrate at start-up (separate processes)."""
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(migrate, db_url) for _ in range(2)]
        for future in futures:
            future.result(timeout=120)
    assert _tables(db_url) >= OWN_TABLES
    assert current_revision(db_url) is not None
