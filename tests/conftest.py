"""Shared pytest configuration. Fixtures for real services live in ``tests/support``."""

from __future__ import annotations

from pathlib import Path

import pytest

# Real-service fixtures: postgres_url, migrated_postgres_url (tests.support.postgres); moto_server, s3_bucket,
# sqs_queue (tests.support.aws).
pytest_plugins = ["tests.support.postgres", "tests.support.aws"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
REAL_CORPUS = CORPUS / "real"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS
