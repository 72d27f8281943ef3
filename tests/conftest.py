"""Shared pytest configuration. Fixtures for real services live in ``tests/support``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Real-service fixtures: postgres_url, migrated_postgres_url (tests.support.postgres); moto_server, s3_bucket,
# sqs_queue (tests.support.aws).
pytest_plugins = ["tests.support.postgres", "tests.support.aws"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
REAL_CORPUS = CORPUS / "real"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under ``CI=true`` a missing ../shared or PostgreSQL fails the run at once: otherwise dozens of
    tests would skip and the run would still pass, hiding what it did not test."""
    if os.environ.get("CI", "").lower() != "true":
        return
    import psycopg

    from tests.support.postgres import admin_dsn

    problems = []
    shared = Path(os.environ.get("TIMETABLE_TEST_SHARED", SHARED))
    if not (shared / "corpus").is_dir():
        problems.append(f"{shared / 'corpus'} is missing (the corpus and scorer beside the checkout)")
    try:
        psycopg.connect(admin_dsn(), connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        problems.append(f"PostgreSQL is not reachable at {admin_dsn()!r}: {str(exc).strip()}")
    if problems:
        pytest.exit("CI=true, but " + "; ".join(problems), returncode=1)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS
