"""Engine set-up: SQLite pragmas and transaction modes, URL handling."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from timetable_platform.store.db import (
    make_engine,
    make_read_session_factory,
    make_session_factory,
    migrate,
    normalise_url,
)
from timetable_platform.store.errors import StoreConfigError


def test_sqlite_engine_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'deep' / 'dir' / 'x.db'}")  # parent directories created
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    finally:
        engine.dispose()


def test_sqlite_writers_queue_up_but_readers_do_not_wait(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate(url)
    engine = make_engine(url)
    writes, reads = make_session_factory(engine), make_read_session_factory(engine)
    holding, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with writes.begin() as session:
            session.execute(text("SELECT count(*) FROM uploads"))
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert holding.wait(10)
        with reads() as session:  # returns while the writer still holds its transaction
            assert session.execute(text("SELECT count(*) FROM uploads")).scalar() == 0
        assert writer.is_alive()

        second_done = threading.Event()

        def second_write() -> None:
            with writes.begin() as session:
                session.execute(text("SELECT 1"))
            second_done.set()

        second = threading.Thread(target=second_write)
        second.start()
        assert not second_done.wait(0.5)  # BEGIN IMMEDIATE: waits its turn instead of failing later
        release.set()
        assert second_done.wait(10)
        second.join(10)
    finally:
        release.set()
        writer.join(10)
        engine.dispose()


def test_url_normalisation() -> None:
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    for bad in ("mysql://u@h/db", "not a url"):
        with pytest.raises(StoreConfigError):
            normalise_url(bad)


def test_in_memory_sqlite_shares_one_database() -> None:
    engine = make_engine("sqlite://")
    try:
        with make_session_factory(engine).begin() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        with make_session_factory(engine)() as session:
            assert session.execute(text("SELECT x FROM t")).scalar() == 1
    finally:
        engine.dispose()
