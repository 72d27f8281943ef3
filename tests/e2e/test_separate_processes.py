"""The production recipe of ``docs/operations.md`` ("Running the processes separately"), run as written.

The prepare commands, the workspace file, the five commands and the variables each process needs are
read from that section, so the doc and this test cannot drift: every process gets only the variables
the doc's table names for it. Against PostgreSQL (a fresh database for the app and one for Dagster)
and moto's S3 and SQS (with a dead-letter queue), an upload goes through to ``succeeded``; then the
queue sensor's tick interval is measured against the figure the doc states, ``timetable backfill``
re-runs the upload without printing a warning, and every process stops on SIGTERM.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, make_url, text

from tests.conftest import ROOT
from tests.support.aws import REGION, make_bucket, make_queue
from tests.support.postgres import create_database, drop_database
from timetable_platform.cli.platform import code_server_loaded, free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

OPERATIONS = ROOT / "docs" / "operations.md"
BIN = Path(sys.executable).parent
START_TIMEOUT = 180.0  # Dagster processes loading on a shared 2-core machine
PIPELINE_TIMEOUT = 120.0
# Documented defaults the test maps to free ports (and the code server's host name to this machine).
DOC_PORTS = {"api": "8000", "ui": "3000", "code": "4000"}
DOC_CODE_SERVER_HOST = "code-server.internal"
FINAL = ("succeeded", "needs_review", "failed")
PROCESSES = ("migrate", "API", "code server", "webserver", "daemon")
MANAGED_PREFIXES = ("TIMETABLE_", "DAGSTER_", "AWS_")
CSV = (
    "Day,Start,End,Subject,Teacher,Room\n"
    "Monday,09:00,10:00,Maths,Ms Lee,R1\n"
    "Monday,10:00,11:00,Art,Mr Poe,R2\n"
    "Tuesday,09:00,10:00,History,Ms Lee,R1\n"
)


@dataclass
class Recipe:
    prepare: list[str]
    workspace: dict
    commands: dict[str, str]  # process -> command line
    variables: dict[str, list[str]]  # process -> names or NAME_* patterns
    queue_tick_seconds: float


def _section(doc: str) -> str:
    start = doc.index("## Running the processes separately")
    end = doc.index("\n## ", start + 1)
    return doc[start:end]


def _block(section: str, name: str) -> str:
    found = re.search(rf"<!-- recipe: {name} -->\s*```\w*\n(.*?)```", section, re.S)
    assert found, f"docs/operations.md: no ```block after <!-- recipe: {name} -->"
    return found.group(1)


def parse_recipe(doc: str) -> Recipe:
    section = _section(doc)
    variables: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in PROCESSES:
            variables[cells[0]] = re.findall(r"`([A-Z][A-Z0-9_]*\*?)`", cells[3])
    assert set(variables) == set(PROCESSES), variables
    lines = [ln.strip() for ln in _block(section, "commands").splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(lines) == 5, lines
    tick = re.search(r"`upload_queue_sensor` \(every (\d+(?:\.\d+)?) s", doc)
    assert tick, "docs/operations.md no longer states the queue sensor's interval"
    return Recipe(
        prepare=[ln for ln in _block(section, "prepare").splitlines() if ln.strip()],
        workspace=yaml.safe_load(_block(section, "workspace")),
        commands=dict(zip(PROCESSES, lines, strict=True)),
        variables=variables,
        queue_tick_seconds=float(tick.group(1)),
    )


def environment_for(patterns: list[str], config: Mapping[str, str], base: Mapping[str, str]) -> dict[str, str]:
    """``base`` plus only the configuration variables ``patterns`` name (``NAME`` or ``PREFIX_*``)."""
    env = dict(base)
    for name, value in config.items():
        if any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in patterns):
            env[name] = value
    return env


def _restore_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _with_ports(command: str, ports: Mapping[str, int]) -> str:
    for name, documented in DOC_PORTS.items():
        command = re.sub(rf"\b{documented}\b", str(ports[name]), command)
    return command


@dataclass
class Running:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return f"--- {self.name} ({self.log.name})\n" + "\n".join(lines[-40:])


@contextlib.contextmanager
def supervised(tmp_path: Path) -> Iterator[list[Running]]:
    running: list[Running] = []
    try:
        yield running
    finally:
        for item in running:
            if item.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(item.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                item.process.wait(timeout=10)


def _start(name: str, command: str, env: dict[str, str], cwd: Path, running: list[Running]) -> Running:
    log = cwd / f"{name.replace(' ', '-')}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_restore_signals,
        )  # fmt: skip
    item = Running(name, process, log)
    running.append(item)
    return item


def _wait(what: str, check: object, running: list[Running], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in running:
            if item.process.poll() is not None:
                pytest.fail(f"{item.name} exited with {item.process.returncode}\n" + "\n".join(r.tail() for r in running))
        with contextlib.suppress(Exception):
            if check():  # type: ignore[operator]
                return
        time.sleep(1.0)
    pytest.fail(f"{what} not ready after {timeout:.0f} s\n" + "\n".join(r.tail() for r in running))


def _http_ok(url: str) -> bool:
    return httpx.get(url, timeout=3.0).status_code == 200


def _queue_tick_intervals(dagster_url: str) -> list[float]:
    engine = create_engine(dagster_url)
    try:
        with engine.connect() as conn:
            bodies = conn.execute(text("SELECT tick_body FROM job_ticks ORDER BY id")).scalars().all()
    finally:
        engine.dispose()
    stamps = sorted(
        body["timestamp"]
        for body in map(json.loads, bodies)
        if body.get("job_name") == "upload_queue_sensor"  # TickData's instigator_name, as stored
    )
    return [b - a for a, b in itertools.pairwise(stamps)]


def _wait_for_upload(client: httpx.Client, upload_id: str, done: object) -> dict:
    deadline = time.monotonic() + PIPELINE_TIMEOUT
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(f"/api/v2/timetable/uploads/{upload_id}").json()
        if done(body):  # type: ignore[operator]
            return body
        time.sleep(1.0)
    pytest.fail(f"upload not done after {PIPELINE_TIMEOUT:.0f} s: {body}")


def test_the_documented_recipe_runs_an_upload_through(tmp_path: Path, moto_server: str) -> None:
    recipe = parse_recipe(OPERATIONS.read_text())
    app_db, app_url = create_database()
    dagster_db, dagster_url = create_database()
    pg = make_url(dagster_url)
    queue_url, dlq_url = make_queue(moto_server, max_receives=5, visibility_timeout=60)
    home = tmp_path / "dagster_home"
    ports = {"api": free_port(), "ui": free_port(), "code": free_port()}
    # Everything an operator would configure; each process gets the part the doc's table names.
    config = {
        "TIMETABLE_DATABASE_URL": app_url,
        "TIMETABLE_BLOB_BACKEND": "s3",
        "TIMETABLE_S3_BUCKET": make_bucket(moto_server),
        "TIMETABLE_S3_ENDPOINT_URL": moto_server,
        "TIMETABLE_S3_REGION": REGION,
        "TIMETABLE_QUEUE_BACKEND": "sqs",
        "TIMETABLE_SQS_QUEUE_URL": queue_url,
        "TIMETABLE_SQS_DLQ_URL": dlq_url,
        "TIMETABLE_SQS_ENDPOINT_URL": moto_server,
        "TIMETABLE_SQS_REGION": REGION,
        "TIMETABLE_QUEUE_MAX_RECEIVES": "5",
        "TIMETABLE_LOG_JSON": "false",
        "TIMETABLE_MODE": "document_ai",  # one reading: the CSV's entries at full confidence
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": pg.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(pg.port or 5432),
        "DAGSTER_PG_USER": pg.username or "postgres",
        "DAGSTER_PG_PASSWORD": pg.password or "unused-under-trust-auth",
        "DAGSTER_PG_DB": dagster_db,
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_")},  # moto's fake credentials
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(MANAGED_PREFIXES)}
    base |= {"PATH": f"{BIN}{os.pathsep}{base.get('PATH', '')}", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    envs = {name: environment_for(recipe.variables[name], config, base) for name in PROCESSES}
    work = tmp_path / "run"
    work.mkdir()
    try:
        with supervised(tmp_path) as running:
            for line in recipe.prepare:  # from the checkout, as the doc says
                subprocess.run(["bash", "-c", line], cwd=ROOT, env=base | {"DAGSTER_HOME": str(home)}, check=True)
            workspace = recipe.workspace
            server = workspace["load_from"][0]["grpc_server"]
            assert server["host"] == DOC_CODE_SERVER_HOST and str(server["port"]) == DOC_PORTS["code"]
            server |= {"host": "127.0.0.1", "port": ports["code"]}
            (home / "workspace.yaml").write_text(yaml.safe_dump(workspace))

            commands = {name: _with_ports(line, ports) for name, line in recipe.commands.items()}
            migrate = subprocess.run(
                ["bash", "-c", f"exec {commands['migrate']}"], cwd=work, env=envs["migrate"], capture_output=True,
                text=True, timeout=120,
            )  # fmt: skip
            assert migrate.returncode == 0, migrate.stderr

            code_server = _start("code server", commands["code server"], envs["code server"], work, running)
            _start("API", commands["API"], envs["API"], work, running)
            api = f"http://127.0.0.1:{ports['api']}"
            _wait("code server", code_server_loaded(ports["code"]), running)
            _wait("API", lambda: _http_ok(f"{api}/ready"), running)
            _start("webserver", commands["webserver"], envs["webserver"], work, running)
            _start("daemon", commands["daemon"], envs["daemon"], work, running)
            ui = f"http://127.0.0.1:{ports['ui']}"
            _wait("webserver", lambda: _http_ok(f"{ui}/server_info"), running)

            keys = subprocess.run(
                [str(BIN / "timetable"), "keys", "create", "--tenant", "school", "--json"], cwd=work,
                env=envs["API"], capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert keys.returncode == 0, keys.stderr
            key = json.loads(keys.stdout)["key"]

            with httpx.Client(base_url=api, headers={"X-API-Key": key}, timeout=60.0) as client:
                response = client.post("/api/v2/timetable/uploads", files={"file": ("week.csv", CSV.encode(), "text/csv")})
                assert response.status_code == 202, response.text
                upload_id = response.json()["upload_id"]
                body = _wait_for_upload(client, upload_id, lambda b: b["status"] in FINAL)
                assert body["status"] == "succeeded", body
                assert body["dagster_run_id"]
                timetable = client.get(f"/api/v2/timetable/uploads/{upload_id}/timetable").json()
                assert {e["subject"] for e in timetable["entries"]} == {"Maths", "Art", "History"}

                # The sensor ticks as often as the doc says (Dagster's sensor loop sets the floor).
                # The long-polling sensor can run the upload within its first ticks: wait for a few more.
                deadline = time.monotonic() + 75
                intervals = _queue_tick_intervals(dagster_url)
                while len(intervals) < 5 and time.monotonic() < deadline:
                    time.sleep(2)
                    intervals = _queue_tick_intervals(dagster_url)
                assert len(intervals) >= 5, intervals
                # On a loaded machine a tick runs late and the gap after it is short by as much, so one gap
                # says little; two gaps running show the rate, and their median is not thrown by the first
                # gap measured following a late tick before it. A sensor that misses every other loop
                # averages 10 s over every two gaps.
                paced = statistics.median((a + b) / 2 for a, b in itertools.pairwise(intervals))
                assert recipe.queue_tick_seconds - 1 <= paced <= recipe.queue_tick_seconds + 3, intervals

                # `timetable backfill` with what the doc gives it: re-runs the upload, prints no warning.
                engine = create_engine(app_url)
                try:
                    with engine.begin() as conn:
                        conn.execute(text("UPDATE uploads SET extractor_version = '0.old' WHERE id = :id"), {"id": upload_id})
                finally:
                    engine.dispose()
                backfill_env = envs["code server"] | {"TIMETABLE_DAGSTER_UI_URL": ui}
                backfill = subprocess.run(
                    [str(BIN / "timetable"), "backfill", "--stale"], cwd=work, env=backfill_env,
                    capture_output=True, text=True, timeout=120,
                )  # fmt: skip
                assert backfill.returncode == 0, backfill.stderr
                assert "requested 1 runs for 1 uploads" in backfill.stdout
                assert "BetaWarning" not in backfill.stderr and "Warning" not in backfill.stderr, backfill.stderr
                again = _wait_for_upload(client, upload_id, lambda b: b["extractor_version"] != "0.old")
                assert again["status"] == "succeeded" and again["attempts"] == 2, again

            # Supervision: SIGTERM (what systemd, ECS and Kubernetes send) stops every process.
            for item in running:
                item.process.send_signal(signal.SIGTERM)
            for item in running:
                try:
                    item.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    pytest.fail(f"{item.name} ignored SIGTERM\n{item.tail()}")
            assert code_server.process.returncode is not None
    finally:
        drop_database(app_db)
        drop_database(dagster_db)


def test_the_recipe_names_every_process_and_splits_the_variables() -> None:
    """Cheap guard for the parser: what each process gets from the doc."""
    recipe = parse_recipe(OPERATIONS.read_text())
    config = {"TIMETABLE_DATABASE_URL": "u", "TIMETABLE_LAYOUT_BACKEND": "embedded", "DAGSTER_PG_DB": "d",
              "DAGSTER_HOME": "/h", "AWS_ACCESS_KEY_ID": "a"}  # fmt: skip
    got = {name: set(environment_for(recipe.variables[name], config, {})) for name in PROCESSES}
    assert got["migrate"] == {"TIMETABLE_DATABASE_URL"}
    assert got["API"] == {"TIMETABLE_DATABASE_URL", "TIMETABLE_LAYOUT_BACKEND", "AWS_ACCESS_KEY_ID"}
    assert got["code server"] == set(config)
    assert got["webserver"] == got["daemon"] == {"DAGSTER_HOME", "DAGSTER_PG_DB"}
    assert shlex.split(recipe.commands["code server"])[:2] == ["timetable", "code-server"]
