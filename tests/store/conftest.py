"""Fixtures of the store tests: the same tests run on SQLite and PostgreSQL, and on local and cloud backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from timetable_platform.store.db import make_engine, make_session_factory, migrate


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind (SQLite file in tmp_path, or a throwaway PostgreSQL database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of each kind at the head migration, with no rows."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        migrate(url)
        return url
    return request.getfixturevalue("migrated_postgres_url")


@pytest.fixture
def session_factory(migrated_db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a migrated database of each kind."""
    engine = make_engine(migrated_db_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()
