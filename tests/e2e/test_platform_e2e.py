"""End to end over real processes: ``timetable up --no-examples`` starts the API (uvicorn), the Dagster
code server, webserver and daemon (queue sensor) on free 127.0.0.1 ports; the test submits the shipped
examples over HTTP with the printed API key, waits for the pipeline, scores the timetables against their
ground truth (``../shared/eval/score.py``), fetches every export and the week view, and stops it all with
``timetable down``. Two configurations: embedded backends; PostgreSQL (the app's database and Dagster's
instance, ``--dagster-config deploy/dagster-postgres.yaml``) + S3 and SQS on moto's server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from tests.conftest import ROOT, SHARED
from tests.support.aws import REGION, make_bucket, make_queue
from tests.support.postgres import create_database, drop_database
from timetable_platform.cli.platform import free_port

pytestmark = pytest.mark.slow

EXAMPLES = ROOT / "examples"
SCORE_SCRIPT = SHARED / "eval" / "score.py"
TIMETABLE = str(Path(sys.executable).parent / "timetable")
START_TIMEOUT = 240.0  # four processes loading Dagster on a shared 2-core machine
PIPELINE_TIMEOUT = 150.0
MIN_ENTRY_F1 = 0.9  # the examples score ~0.96 with the embedded readers


@dataclass
class Platform:
    process: subprocess.Popen[bytes]
    output: Path
    data_dir: Path
    env: dict[str, str]
    cwd: Path
    api: str
    ui: str
    key: str

    def logs(self) -> str:
        parts = [f"--- timetable up output\n{_read(self.output)}"]
        for log in sorted((self.data_dir / "logs").glob("*.log")):
            parts.append(f"--- {log.name} (last 60 lines)\n" + "\n".join(_read(log).splitlines()[-60:]))
        return "\n".join(parts)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _restore_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _child_pids(data_dir: Path) -> list[int]:
    try:
        return [int(p) for p in json.loads((data_dir / "platform.pid").read_text())["children"].values()]
    except (OSError, ValueError, KeyError):
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def running_platform(tmp_path: Path, extra_env: dict[str, str], *extra_args: str) -> Iterator[Platform]:
    data_dir = tmp_path / "data"
    output = tmp_path / "up.out"
    api_port, ui_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIMETABLE_", "DAGSTER_"))}
    env |= {"TIMETABLE_DATA_DIR": str(data_dir), "TIMETABLE_LOG_JSON": "false", **extra_env}
    argv = [TIMETABLE, "up", "--no-examples", "--api-port", str(api_port), "--ui-port", str(ui_port),
            "--start-timeout", str(START_TIMEOUT), *extra_args]  # fmt: skip
    with output.open("wb") as sink:
        process = subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_restore_signals,
        )  # fmt: skip
    platform = Platform(
        process, output, data_dir, env, tmp_path, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}", ""
    )
    children: list[int] = []
    try:
        deadline = time.monotonic() + 2 * START_TIMEOUT
        while "running;" not in _read(output):
            children = _child_pids(data_dir) or children
            if process.poll() is not None:
                pytest.fail(f"timetable up exited with {process.returncode}\n{platform.logs()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timetable up not ready after {2 * START_TIMEOUT:.0f} s\n{platform.logs()}")
            time.sleep(1.0)
        children = _child_pids(data_dir)
        found = re.search(r"\(kept in [^)]*\): (tt_\S+)", _read(output))
        assert found, platform.logs()
        platform.key = found.group(1)
        try:
            yield platform
        except BaseException:
            print(platform.logs(), file=sys.stderr)
            raise
        # The stop command as a user runs it: every process gone, the foreground one exits 0.
        down = subprocess.run([TIMETABLE, "down"], cwd=tmp_path, env=env, capture_output=True, timeout=60)
        assert down.returncode == 0, down.stderr.decode()
        assert process.wait(timeout=30) == 0, platform.logs()
        time.sleep(0.5)
        assert children and not [pid for pid in children if _alive(pid)], platform.logs()
        assert not (data_dir / "platform.pid").exists()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        for pid in [process.pid, *children]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


def _score_module() -> ModuleType | None:
    if not SCORE_SCRIPT.is_file():
        return None
    spec = importlib.util.spec_from_file_location("shared_eval_score", SCORE_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# An upload whose timetable is served: needs_review is served too, with reasons for a person to check.
READY = ("succeeded", "needs_review")


def exercise(platform: Platform) -> list[str]:
    examples = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".pdf", ".docx", ".xlsx"))
    assert len(examples) >= 2
    headers = {"X-API-Key": platform.key}
    with httpx.Client(base_url=platform.api, headers=headers, timeout=60.0) as client:
        assert httpx.get(f"{platform.api}/api/v2/timetable/uploads", timeout=30).status_code == 401

        uploads: dict[str, Path] = {}
        for path in examples:
            response = client.post("/api/v2/timetable/uploads", files={"file": (path.name, path.read_bytes())})
            assert response.status_code == 202, response.text
            uploads[response.json()["upload_id"]] = path

        deadline = time.monotonic() + PIPELINE_TIMEOUT
        pending = set(uploads)
        while pending and time.monotonic() < deadline:
            for upload_id in list(pending):
                body = client.get(f"/api/v2/timetable/uploads/{upload_id}").json()
                if body["status"] in (*READY, "failed"):
                    assert body["status"] in READY, body
                    assert body["dagster_run_id"], body
                    pending.discard(upload_id)
            time.sleep(1.0)
        assert not pending, f"not finished after {PIPELINE_TIMEOUT:.0f} s: {[uploads[u].name for u in pending]}"

        score = _score_module()
        totals = {"tp": 0, "pred": 0, "truth": 0}
        for upload_id, path in uploads.items():
            base = f"/api/v2/timetable/uploads/{upload_id}"
            timetable = client.get(f"{base}/timetable", params={"format": "json"})
            assert timetable.status_code == 200, timetable.text
            entries = timetable.json()["entries"]
            assert entries

            csv = client.get(f"{base}/timetable", params={"format": "csv"})
            assert csv.status_code == 200 and csv.text.startswith("day,start,end")
            assert len(csv.text.strip().splitlines()) == len(entries) + 1

            ics = client.get(f"{base}/timetable", params={"format": "ics"})
            assert ics.status_code == 200 and ics.text.startswith("BEGIN:VCALENDAR")
            assert ics.text.count("BEGIN:VEVENT") == len(entries)

            view = client.get(f"{base}/view")
            assert view.status_code == 200 and view.headers["content-type"].startswith("text/html")
            assert entries[0]["subject"].split()[0] in view.text

            if score is not None:
                truth = json.loads(path.with_suffix(".json").read_text())
                result = score.score_doc(truth, timetable.json())
                for name in totals:
                    totals[name] += result[name]
    if score is not None:
        _, _, f1 = score.f1(totals["tp"], totals["pred"], totals["truth"])
        assert f1 >= MIN_ENTRY_F1, totals
    return list(uploads)


def backfill_stale(platform: Platform, upload_id: str) -> None:
    """An upload of an older extractor version is re-run by `timetable backfill --stale` via the webserver."""
    database = sqlite3.connect(platform.data_dir / "timetable.db")
    with contextlib.closing(database), database:
        database.execute("UPDATE uploads SET extractor_version = '0.old' WHERE id = ?", (upload_id,))
    result = subprocess.run(
        [TIMETABLE, "backfill", "--stale", "--dagster-url", platform.ui],
        cwd=platform.cwd, env=platform.env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert "requested 1 runs for 1 uploads" in result.stdout.decode()
    assert "Warning" not in result.stderr.decode(), result.stderr.decode()  # e.g. Dagster's BetaWarnings
    deadline = time.monotonic() + PIPELINE_TIMEOUT
    with httpx.Client(base_url=platform.api, headers={"X-API-Key": platform.key}, timeout=30.0) as client:
        while time.monotonic() < deadline:
            body = client.get(f"/api/v2/timetable/uploads/{upload_id}").json()
            if body["status"] in READY and body["extractor_version"] != "0.old":
                assert body["attempts"] == 2, body
                return
            time.sleep(1.0)
    pytest.fail(f"backfilled upload not re-extracted after {PIPELINE_TIMEOUT:.0f} s: {body}")


def reprocess(platform: Platform, upload_id: str) -> None:
    """POST /reprocess on an upload that already ran goes through the queue sensor to a second run."""
    with httpx.Client(base_url=platform.api, headers={"X-API-Key": platform.key}, timeout=30.0) as client:
        base = f"/api/v2/timetable/uploads/{upload_id}"
        before = client.get(base).json()
        assert before["status"] in READY, before
        response = client.post(f"{base}/reprocess")
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + PIPELINE_TIMEOUT
        while time.monotonic() < deadline:
            body = client.get(base).json()
            if body["status"] in (*READY, "failed") and body["dagster_run_id"] != before["dagster_run_id"]:
                assert body["status"] in READY, body
                assert body["attempts"] == before["attempts"] + 1, body
                return
            time.sleep(1.0)
    pytest.fail(f"reprocessed upload not run again after {PIPELINE_TIMEOUT:.0f} s: {body}")


def test_platform_embedded_backends(tmp_path: Path) -> None:
    with running_platform(tmp_path, {}) as platform:
        upload_ids = exercise(platform)
        backfill_stale(platform, upload_ids[0])
        reprocess(platform, upload_ids[1])


@pytest.mark.postgres
def test_platform_postgres_s3_sqs(tmp_path: Path, moto_server: str) -> None:
    """The production configuration: the app and Dagster (deploy/dagster-postgres.yaml) on PostgreSQL."""
    name, database_url = create_database()
    dagster_db, dagster_url = create_database()
    pg = make_url(dagster_url)
    queue_url, dlq_url = make_queue(moto_server, max_receives=5, visibility_timeout=60)
    extra = {
        "TIMETABLE_DATABASE_URL": database_url,
        "TIMETABLE_BLOB_BACKEND": "s3",
        "TIMETABLE_S3_BUCKET": make_bucket(moto_server),
        "TIMETABLE_S3_ENDPOINT_URL": moto_server,
        "TIMETABLE_S3_REGION": REGION,
        "TIMETABLE_QUEUE_BACKEND": "sqs",
        "TIMETABLE_SQS_QUEUE_URL": queue_url,
        "TIMETABLE_SQS_DLQ_URL": dlq_url,
        "TIMETABLE_SQS_ENDPOINT_URL": moto_server,
        "TIMETABLE_SQS_REGION": REGION,
        "DAGSTER_PG_HOST": pg.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(pg.port or 5432),
        "DAGSTER_PG_USER": pg.username or "postgres",
        "DAGSTER_PG_PASSWORD": pg.password or "unused-under-trust-auth",
        "DAGSTER_PG_DB": dagster_db,
    }
    config = str(ROOT / "deploy" / "dagster-postgres.yaml")
    try:
        with running_platform(tmp_path, extra, "--dagster-config", config) as platform:
            exercise(platform)
            output = _read(platform.output)
            assert f"storage: postgres {extra['DAGSTER_PG_USER']}@{pg.host}:" in output, output
            assert f"/{dagster_db}" in output and "database      postgresql+psycopg://" in output, output
            # The runs are in Dagster's PostgreSQL storage, not in SQLite files under DAGSTER_HOME.
            engine = create_engine(dagster_url)
            try:
                with engine.connect() as conn:
                    assert conn.execute(text("SELECT count(*) FROM runs")).scalar_one() > 0
            finally:
                engine.dispose()
            assert not list((platform.data_dir / "dagster_home").glob("storage/*.db")), output
    finally:
        drop_database(name)
        drop_database(dagster_db)
