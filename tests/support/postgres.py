"""PostgreSQL for tests: a uniquely named database per test on 127.0.0.1:5432, dropped afterwards.

The server comes from ``TEST_POSTGRES_DSN`` (libpq form, default ``host=127.0.0.1 port=5432
user=postgres dbname=postgres``). Unreachable server: the test is skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

DEFAULT_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def admin_dsn() -> str:
    return os.environ.get("TEST_POSTGRES_DSN", DEFAULT_ADMIN_DSN)


def _admin_connection() -> psycopg.Connection:
    try:
        return psycopg.connect(admin_dsn(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {admin_dsn()!r}: {exc}")


def _sqlalchemy_url(database: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(admin_dsn())
    user = info.get("user", "postgres")
    password = f":{info['password']}" if info.get("password") else ""
    host = info.get("host", "127.0.0.1")
    port = info.get("port", "5432")
    return f"postgresql+psycopg://{user}{password}@{host}:{port}/{database}"


def create_database() -> tuple[str, str]:
    """Create a fresh database; returns (name, SQLAlchemy URL)."""
    name = f"tt_test_{uuid.uuid4().hex[:16]}"
    with _admin_connection() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name, _sqlalchemy_url(name)


def drop_database(name: str) -> None:
    with _admin_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """``postgresql+psycopg://...`` of an empty database that exists for this test only."""
    name, url = create_database()
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def _migrated_postgres_database() -> Iterator[str]:
    from timetable_platform.store.db import migrate

    name, url = create_database()
    try:
        migrate(url)
        yield url
    finally:
        drop_database(name)


@pytest.fixture
def migrated_postgres_url(_migrated_postgres_database: str) -> Iterator[str]:
    """A database already at the head migration, emptied after the test (faster than a new database each time).

    Shared by the tests of one worker, one at a time: dispose your engines before the test ends.
    """
    yield _migrated_postgres_database
    dbname = _migrated_postgres_database.rsplit("/", 1)[1]
    with psycopg.connect(f"{admin_dsn()} dbname={dbname}", autocommit=True, connect_timeout=5) as conn:
        conn.execute("SET lock_timeout = '10s'")
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        if tables:
            conn.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
            )
