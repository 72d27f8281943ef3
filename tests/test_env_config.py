"""Configuration outside ``TIMETABLE_*`` (``AWS_*``, ``DAGSTER_HOME``, ``DAGSTER_PG_*``) comes from ``.env``
as well as the environment, and a missing piece is one line and exit code 2, never a traceback.

The CLI runs as an operator runs it: the installed ``timetable`` script in a fresh process whose
environment has no AWS variables and whose HOME has no ~/.aws, in a directory holding the ``.env``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import ROOT
from tests.support.aws import REGION, make_queue
from timetable_platform.settings import Settings

TIMETABLE = str(Path(sys.executable).parent / "timetable")
ENV_EXAMPLE = (ROOT / ".env.example").read_text()


def _run(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(cwd),  # no ~/.aws credentials or config
        "PYTHONPATH": str(ROOT),
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata lookup for credentials
        "TIMETABLE_LOG_JSON": "false",
        **env,
    }
    return subprocess.run([TIMETABLE, *argv], cwd=cwd, env=clean, capture_output=True, text=True, timeout=120)


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "variable",
    ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "DAGSTER_HOME",
     "DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"],
)  # fmt: skip
def test_env_example_ships_the_variables_other_libraries_read(variable: str) -> None:
    assert re.search(rf"^#? ?{variable}=", ENV_EXAMPLE, re.M), variable


def test_status_reads_aws_credentials_from_dotenv_and_says_when_there_are_none(
    tmp_path: Path, moto_server: str
) -> None:
    queue_url, _ = make_queue(moto_server)
    sqs = {
        "TIMETABLE_DATA_DIR": str(tmp_path / "data"),
        "TIMETABLE_QUEUE_BACKEND": "sqs",
        "TIMETABLE_SQS_QUEUE_URL": queue_url,
        "TIMETABLE_SQS_ENDPOINT_URL": moto_server,
        "TIMETABLE_SQS_REGION": REGION,
    }
    line = _one_line_error(_run(tmp_path, "status", **sqs))
    assert "AWS_ACCESS_KEY_ID" in line and ".env" in line

    (tmp_path / ".env").write_text("AWS_ACCESS_KEY_ID=testing\nAWS_SECRET_ACCESS_KEY=testing\n")
    result = _run(tmp_path, "status", **sqs)
    assert result.returncode == 0, result.stderr
    assert "queue:   visible 0" in result.stdout


def test_an_invalid_setting_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMETABLE_QUEUE_BACKEND=kafka\n")
    line = _one_line_error(_run(tmp_path, "status", TIMETABLE_DATA_DIR=str(tmp_path / "data")))
    assert line.startswith("timetable: TIMETABLE_QUEUE_BACKEND: ") and ".env" in line


@pytest.fixture
def dagster_webserver_stand_in() -> Iterator[str]:
    """Answers ``/server_info`` as a running Dagster webserver does, so backfill gets past that check."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"dagster_webserver_version": "1.13.27"}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_backfill_without_a_dagster_home_is_one_line_and_reads_it_from_dotenv(
    tmp_path: Path, dagster_webserver_stand_in: str
) -> None:
    from tests.e2e.test_platform_processes import _uploads_in_states

    data = tmp_path / "data"
    ids = _uploads_in_states(Settings(_env_file=None, data_dir=data))  # type: ignore[call-arg]
    argv = ("backfill", "--failed", "--dagster-url", dagster_webserver_stand_in)
    line = _one_line_error(_run(tmp_path, *argv, TIMETABLE_DATA_DIR=str(data)))
    assert "DAGSTER_HOME" in line and ".env" in line

    # DAGSTER_HOME from .env: the failed upload's partition is added to that instance; the stand-in
    # cannot launch runs, which is one line too.
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    (tmp_path / ".env").write_text(f"DAGSTER_HOME={home}\n")
    result = _run(tmp_path, *argv, TIMETABLE_DATA_DIR=str(data))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "did not launch the runs" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_dynamic_partitions("uploads") == [ids["failed"]]

    # A PostgreSQL instance whose DAGSTER_PG_* are not set: named, not a traceback from four processes.
    (home / "dagster.yaml").write_text((ROOT / "deploy" / "dagster-postgres.yaml").read_text())
    line = _one_line_error(_run(tmp_path, *argv, TIMETABLE_DATA_DIR=str(data)))
    assert "DAGSTER_PG_HOST" in line
