"""With ``CI=true`` the test run fails when ../shared or PostgreSQL is missing, instead of skipping."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def _pytest(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/test_readme.py::test_quickstart_is_exactly_two_commands_that_the_makefile_defines"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_ci_fails_without_postgresql() -> None:
    run = _pytest({"CI": "true", "TEST_POSTGRES_DSN": "host=127.0.0.1 port=1 user=postgres dbname=postgres"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert "PostgreSQL is not reachable" in run.stdout + run.stderr


def test_ci_fails_without_the_shared_corpus(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = _pytest({"CI": "true", "TIMETABLE_TEST_SHARED": str(tmp_path / "nowhere")})
    assert run.returncode == 1, run.stdout + run.stderr
    assert "corpus is missing" in run.stdout + run.stderr


def test_outside_ci_the_same_run_passes() -> None:
    run = _pytest({"CI": "false", "TEST_POSTGRES_DSN": "host=127.0.0.1 port=1 user=postgres dbname=postgres"})
    assert run.returncode == 0, run.stdout + run.stderr
