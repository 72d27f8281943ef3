"""Engines, sessions and programmatic migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from timetable_platform.store.errors import BackendUnavailable, StoreConfigError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 40
SQLITE_BEGIN_OPTION = "sqlite_begin"  # execution option: "IMMEDIATE" (default) or "DEFERRED"


def normalise_url(url: str) -> URL:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 here (psycopg2 is not installed)."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # ArgumentError for garbage
        raise StoreConfigError(f"not a database URL: {url!r}") from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreConfigError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")
    return parsed


def make_engine(url: str, **engine_kwargs: Any) -> Engine:
    """An engine with the settings each backend needs.

    SQLite: WAL (readers never block the writer), foreign keys on, busy timeout, and every
    transaction opened with ``BEGIN IMMEDIATE``. Deferred transactions that read and then write
    fail at once with SQLITE_BUSY when another process wrote in between (the API and Dagster
    share the file); IMMEDIATE makes them wait their turn instead. Keep transactions short.
    PostgreSQL: psycopg 3 with pool_pre_ping.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **engine_kwargs)
    engine_kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **engine_kwargs)


def _sqlite_engine(parsed: URL, **engine_kwargs: Any) -> Engine:
    database = parsed.database
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    if in_memory:
        engine_kwargs.setdefault("poolclass", StaticPool)  # one shared connection, else each sees an empty DB
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # As many pooled connections as the API's thread pool runs requests (40): beyond the default 5,
        # overflow connections were opened and closed per request (connect + PRAGMAs, ~3% of submit CPU).
        if "poolclass" not in engine_kwargs:
            engine_kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
    engine = create_engine(parsed, connect_args=connect_args, **engine_kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {'DEFERRED' if mode == 'DEFERRED' else 'IMMEDIATE'}")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: objects stay readable after the transaction (API responses, CLI output).
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads only. On SQLite they begin DEFERRED, so they never wait for (or block) a writer;
    a write in such a session can fail with "database is locked". Elsewhere the same as ``make_session_factory``.
    """
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
    return sessionmaker(bind=engine, expire_on_commit=False)


def ping(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise BackendUnavailable(f"database unreachable: {exc.__class__.__name__}: {exc}") from exc


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The migration the code expects (the packaged scripts' head)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def check_ready(engine: Engine) -> None:
    """What a submission needs from the database, or ``BackendUnavailable`` saying what is wrong:
    the schema at the code's migration, the uploads table readable the way the API reads it, and
    a write accepted (an audit row inserted, then rolled back). ``SELECT 1`` alone answers on a
    database whose tables are corrupt or read-only."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import insert, select

    from timetable_platform.store.api_models import AuditEvent
    from timetable_platform.store.models import Upload, utcnow

    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
            expected = head_revision()
            if revision != expected:
                raise BackendUnavailable(f"schema at migration {revision}, this code needs {expected}")
            conn.execute(select(Upload.id, Upload.status).order_by(Upload.created_at.desc()).limit(1)).all()
            conn.execute(
                insert(AuditEvent).values(at=utcnow(), tenant="_ready", action="ready.probe", detail="rolled back")
            )
            conn.rollback()
    except SQLAlchemyError as exc:
        raise BackendUnavailable(f"database unusable: {exc.__class__.__name__}: {exc}") from exc


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic configuration pointing at the migrations inside the package (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def migrate(url: str, revision: str = "head") -> None:
    """``alembic upgrade head``: safe to call from several processes at once."""
    engine = make_engine(url)
    try:
        command.upgrade(alembic_config(engine), revision)
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        command.downgrade(alembic_config(engine), revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
