"""Alembic migrations: upgrade/downgrade on both databases, and the migrated schema equals the models."""

from __future__ import annotations

import multiprocessing
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.store import repository
from timetable_platform.store.db import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    downgrade,
    make_engine,
    make_session_factory,
    migrate,
)
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
    migrate(db_url)
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
    assert own == [], f"models and migrations differ: {own}"


def test_concurrent_migrations_do_not_collide(tmp_path: Path, postgres_url: str) -> None:
    """The API and the Dagster daemon may both migrate at start-up (separate processes), on either database."""
    urls = [f"sqlite:///{tmp_path / 'x.db'}", postgres_url]
    # One pool for both databases: starting interpreters is the slow part.
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        # Warm both workers (imports) so the two migrations of each database really overlap.
        for warm in [pool.submit(current_revision, urls[0]) for _ in range(2)]:
            warm.result(timeout=120)
        for url in urls:
            futures = [pool.submit(migrate, url) for _ in range(2)]
            for future in futures:
                future.result(timeout=120)
    for url in urls:
        assert _tables(url) >= OWN_TABLES
        assert current_revision(url) is not None


def test_a_later_batch_migration_of_uploads_keeps_its_entries_on_sqlite(tmp_path: Path) -> None:
    """SQLite batch mode rebuilds `uploads`; with foreign keys on, that would cascade-delete all entries."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    (scripts / "versions" / "9999_batch.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n"
        f"revision = '9999'\ndown_revision = {head!r}\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade():\n"
        "    with op.batch_alter_table('uploads') as batch:\n"
        "        batch.add_column(sa.Column('extra', sa.Text(), nullable=True))\n"
        "        batch.alter_column('label', type_=sa.String(300))\n"
        "def downgrade():\n    pass\n"
    )
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            upload = repository.create_upload(
                session, tenant="t", filename="f", media_type="text/csv", size_bytes=1, sha256="0" * 64, mode="hybrid"
            )
            repository.replace_entries(session, upload.id, Timetable(entries=[Entry(day="MON", subject="Maths")]))
        config = alembic_config(engine)
        config.set_main_option("script_location", str(scripts))
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM entries").scalar() == 1
            assert "extra" in {c["name"] for c in inspect(conn).get_columns("uploads")}
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on afterwards
    finally:
        engine.dispose()
