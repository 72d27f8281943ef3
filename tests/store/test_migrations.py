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
    # alembic_version is Alembic's own table, not one of the models
    diff = [op for op in diff if not (isinstance(op, tuple) and getattr(op[1], "name", None) == "alembic_version")]
    assert diff == [], f"models and migrations differ: {diff}"


def test_0004_allows_needs_review_and_downgrades_it_to_succeeded(db_url: str) -> None:
    """The status CHECK constraint is replaced on both databases; rows written before it survive."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    migrate(db_url, "0003_term_settings")
    engine = make_engine(db_url)
    insert = text(
        "INSERT INTO uploads (id, tenant, filename, media_type, size_bytes, sha256, mode, status, attempts,"
        " created_at, updated_at) VALUES (:id, 't', 'f', 'text/csv', 1, :sha, 'hybrid', :status, 0,"
        " '2026-12-01 10:00:00', '2026-12-01 10:00:00')"
    )
    try:
        with engine.begin() as conn:
            conn.execute(insert, {"id": "old", "sha": "0" * 64, "status": "succeeded"})
        try:
            with engine.begin() as conn:
                conn.execute(insert, {"id": "early", "sha": "1" * 64, "status": "needs_review"})
        except IntegrityError:
            pass
        else:
            raise AssertionError("0003's constraint should refuse needs_review")

        migrate(db_url, "0004")
        with engine.begin() as conn:
            conn.execute(insert, {"id": "new", "sha": "2" * 64, "status": "needs_review"})
            conn.execute(text("UPDATE uploads SET review_reasons = '[\"check Monday\"]' WHERE id = 'new'"))
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status, review_reasons FROM uploads ORDER BY id")).all()
            assert [(r[0], r[1]) for r in rows] == [("new", "needs_review"), ("old", "succeeded")]
            assert "check Monday" in rows[0][2]
        try:
            with engine.begin() as conn:
                conn.execute(insert, {"id": "bad", "sha": "3" * 64, "status": "bogus"})
        except IntegrityError:
            pass
        else:
            raise AssertionError("the new constraint should still refuse unknown statuses")

        downgrade(db_url, "0003_term_settings")
        with engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT id, status FROM uploads")).all())
            assert rows == {"old": "succeeded", "new": "succeeded"}
            assert "review_reasons" not in {c["name"] for c in inspect(conn).get_columns("uploads")}
    finally:
        engine.dispose()


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


def test_0005_gives_existing_uploads_their_created_at_as_queued_at(db_url: str) -> None:
    from sqlalchemy import text

    migrate(db_url, "0004")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO uploads (id, tenant, filename, media_type, size_bytes, sha256, mode, status,"
                    " attempts, created_at, updated_at) VALUES ('u', 't', 'f', 'text/csv', 1, :sha, 'hybrid',"
                    " 'succeeded', 0, '2026-12-01 10:00:00', '2026-12-01 11:00:00')"
                ),
                {"sha": "0" * 64},
            )
        migrate(db_url)
        with make_session_factory(engine)() as session:
            upload = repository.get_upload(session, "u")
            assert upload is not None and upload.queued_at == upload.created_at
        downgrade(db_url, "0004")
        with engine.connect() as conn:
            assert "queued_at" not in {c["name"] for c in inspect(conn).get_columns("uploads")}
    finally:
        engine.dispose()
