"""Fault injection over real processes: every accepted upload must end ``succeeded`` exactly once.

Starts a Dagster code server and ``dagster-daemon`` as ``timetable up`` does (each in its own
process group, the repository's ``dagster.yaml``: run monitoring with the code-server health check,
runs that lost their worker queued again by the run-failure sensor), embedded backends in a temporary directory. For each fault of the plan it submits a
fresh upload (a PDF or a scan from ../shared/corpus, each under its own tenant, as the API does:
blob, row, message), waits until a run of it reaches the targeted step, and kills the target with
SIGKILL: the daemon or the code server by process group (a code server's group holds its run
workers), or one run worker by pid. The killed service is started again at once on the same port.
Uploads of earlier faults are still in flight when the next fault lands. At the end it waits until
every upload is final and counts, per upload: lost (never final), wrongly failed, and duplicated
(more than one successful run). Writes the "Fault injection" section of bench/README.md.

    PYTHONPATH=$PWD .venv/bin/python bench/fault_injection.py [--rounds 1] [--no-readme]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline_latency import CORPUS, machine, replace_section  # noqa: E402  (sibling benchmark module)

from timetable_platform.cli.platform import (  # noqa: E402
    LOCATION_NAME,
    Service,
    _bin,
    code_server_loaded,
    daemon_heartbeating,
    free_port,
    kill_group,
    prepare_dagster_home,
    start_service,
    stop_services,
    wait_healthy,
)
from timetable_platform.settings import Settings  # noqa: E402

TARGETS = ("daemon", "run_worker", "code_server")
# "queued": the upload is submitted and the kill lands while the sensor requests and the daemon
# launches its run; the others: while the run executes that step.
STEPS = ("queued", "raw_upload", "document_ai_extraction", "merged_timetable")
MEDIA_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".png": "image/png"}
START_TIMEOUT = 240.0
TRIGGER_TIMEOUT = 120.0
DRAIN_TIMEOUT = 600.0
PID_PATTERN = re.compile(r"pid: (\d+)")


@dataclass
class Fault:
    target: str
    step: str
    upload_id: str = ""
    landed: str = ""  # what the run was doing when the kill landed
    restart_seconds: float = 0.0


@dataclass
class Outcome:
    uploads: int
    succeeded: int
    lost: list[str] = field(default_factory=list)
    wrongly_failed: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    runs: int = 0
    retried_runs: int = 0  # runs beyond the first per upload
    drain_seconds: float = 0.0


class FaultStack:
    """Code server + daemon on embedded backends under ``workdir``, restartable one at a time."""

    def __init__(self, workdir: Path, *, mode: str = "document_ai") -> None:
        self.workdir = workdir
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.code_port = free_port()
        # The repository's dagster.yaml copied under the data directory, as `timetable up` does by default.
        prepared = prepare_dagster_home(Settings(data_dir=self.data), self.code_port, environ={})
        self.home, workspace = prepared.home, prepared.workspace
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "TIMETABLE_DATA_DIR": str(self.data),
            "TIMETABLE_DATABASE_URL": f"sqlite:///{self.data / 'timetable.db'}",
            "TIMETABLE_BLOB_BACKEND": "local",
            "TIMETABLE_BLOB_DIR": str(self.data / "blobs"),
            "TIMETABLE_QUEUE_BACKEND": "database",
            "TIMETABLE_MODE": mode,
            "PYTHONUNBUFFERED": "1",
            "PYTHONWARNINGS": "ignore",
        }
        os.environ.update({k: v for k, v in self.env.items() if k.startswith(("TIMETABLE_", "DAGSTER_HOME"))})
        from timetable_platform.store import db

        db.migrate(self.env["TIMETABLE_DATABASE_URL"])
        logs = workdir / "logs"
        self.code = Service(
            "code server",
            [_bin("dagster"), "code-server", "start", "-h", "127.0.0.1", "-p", str(self.code_port),
             "-m", "timetable_platform.definitions", "--location-name", LOCATION_NAME],
            logs / "code-server.log", code_server_loaded(self.code_port),
        )  # fmt: skip
        self.daemon = Service(
            "daemon",
            [_bin("dagster-daemon"), "run", "-w", str(workspace)],
            logs / "daemon.log", daemon_heartbeating(self.home, time.time()),
        )  # fmt: skip
        self._instance: Any = None
        self._store: Any = None

    # --- processes ---------------------------------------------------------------------------

    def start(self) -> None:
        self._start(self.code)
        self._start(self.daemon)

    def _start(self, service: Service) -> float:
        started = time.monotonic()
        if service is self.daemon:  # healthy = a heartbeat newer than this start
            service.healthy = daemon_heartbeating(self.home, time.time())
        start_service(service, self.env)
        wait_healthy(service, START_TIMEOUT)
        return time.monotonic() - started

    def kill_and_restart(self, target: str, run_id: str | None) -> tuple[str, float]:
        """SIGKILL the target; start it again. Returns (what was killed, seconds until healthy again)."""
        if target == "run_worker":
            pid = self.run_worker_pid(run_id) if run_id else None
            if pid is None:
                return "no run worker alive", 0.0
            with _suppress_lookup():
                os.kill(pid, signal.SIGKILL)
            return f"run worker pid {pid}", 0.0
        service = self.daemon if target == "daemon" else self.code
        assert service.process is not None
        kill_group(service.process.pid, signal.SIGKILL)  # the whole group: a code server's run workers too
        service.process.wait(timeout=30)
        if service.log_file is not None:
            service.log_file.close()
        return f"{service.name} group", self._start(service)

    def stop(self) -> None:
        stop_services([self.code, self.daemon], grace=5.0)
        if self._instance is not None:
            self._instance.dispose()

    # --- state -------------------------------------------------------------------------------

    def instance(self) -> Any:
        import dagster as dg

        if self._instance is None:
            self._instance = dg.DagsterInstance.from_config(str(self.home))
        return self._instance

    def store(self) -> Any:
        if self._store is None:
            from timetable_platform.settings import Settings
            from timetable_platform.store.factory import build_store

            self._store = build_store(Settings())
        return self._store

    def submit(self, path: Path, tenant: str) -> str:
        from timetable_platform.store.intake import submit_document

        submission = submit_document(
            self.store(), content=path.read_bytes(), filename=path.name, media_type=MEDIA_TYPES[path.suffix],
            tenant=tenant, mode=self.env["TIMETABLE_MODE"],
        )  # fmt: skip
        return submission.upload.id

    def runs_of(self, upload_id: str) -> list[Any]:
        from dagster._core.storage.dagster_run import RunsFilter

        from timetable_platform.assets.partitions import UPLOAD_ID_TAG

        return list(self.instance().get_runs(filters=RunsFilter(tags={UPLOAD_ID_TAG: upload_id})))

    def step_state(self, run_id: str) -> tuple[set[str], set[str]]:
        """(steps started, steps finished) of a run."""
        import dagster as dg

        started, finished = set(), set()
        for record in self.instance().get_records_for_run(run_id, of_type={
            dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE,
        }).records:  # fmt: skip
            event = record.event_log_entry
            (started if event.dagster_event_type == dg.DagsterEventType.STEP_START else finished).add(event.step_key)
        return started, finished

    def run_worker_pid(self, run_id: str) -> int | None:
        import dagster as dg

        records = self.instance().get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records
        for record in records:
            found = PID_PATTERN.search(record.event_log_entry.message or "")
            if found and _alive(int(found.group(1))):
                return int(found.group(1))
        return None

    def statuses(self, upload_ids: Sequence[str]) -> dict[str, str]:
        from timetable_platform.store import repository

        with self.store().session_factory() as session:
            return {
                uid: str(u.status) if (u := repository.get_upload(session, uid)) is not None else "missing"
                for uid in upload_ids
            }


class _suppress_lookup:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is ProcessLookupError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def documents() -> list[Path]:
    found = sorted(p for p in CORPUS.glob("*") if p.suffix in (".pdf", ".jpg"))
    if not found:
        raise SystemExit(f"no PDF or scan under {CORPUS}")
    return found


def wait_for_step(stack: FaultStack, upload_id: str, step: str) -> tuple[str | None, str]:
    """Block until a run of the upload is executing ``step``; (run id, what it was doing)."""
    deadline = time.monotonic() + TRIGGER_TIMEOUT
    while time.monotonic() < deadline:
        for run in stack.runs_of(upload_id):
            if run.is_finished:
                continue
            started, finished = stack.step_state(run.run_id)
            if step in started and step not in finished:
                return run.run_id, f"in {step}"
            if step in finished:  # too quick to catch: report where the run is now
                running = sorted(started - finished)
                return run.run_id, f"after {step}" + (f", in {running[0]}" if running else "")
        time.sleep(0.05)
    return None, f"{step} not reached in {TRIGGER_TIMEOUT:.0f} s"


def wait_for_worker(stack: FaultStack, upload_id: str) -> tuple[str | None, str]:
    """Block until a run of the upload has a live worker that has not begun its first step."""
    deadline = time.monotonic() + TRIGGER_TIMEOUT
    while time.monotonic() < deadline:
        for run in stack.runs_of(upload_id):
            if not run.is_finished and stack.run_worker_pid(run.run_id) is not None:
                started, _ = stack.step_state(run.run_id)
                return run.run_id, "worker starting" if not started else f"worker in {sorted(started)[-1]}"
        time.sleep(0.05)
    return None, f"no run worker in {TRIGGER_TIMEOUT:.0f} s"


def inject(stack: FaultStack, faults: list[Fault], docs: list[Path]) -> list[str]:
    uploads: list[str] = []
    for n, fault in enumerate(faults):
        doc = docs[n % len(docs)]
        fault.upload_id = stack.submit(doc, tenant=f"fault-{n}")
        uploads.append(fault.upload_id)
        if fault.step == "queued" and fault.target == "run_worker":
            run_id, fault.landed = wait_for_worker(stack, fault.upload_id)
        elif fault.step == "queued":
            time.sleep(1.0)  # the sensor is receiving the message / the daemon launching its run
            runs = stack.runs_of(fault.upload_id)
            run_id = runs[0].run_id if runs else None
            fault.landed = f"run {runs[0].status.value}" if runs else "no run yet"
        else:
            run_id, fault.landed = wait_for_step(stack, fault.upload_id, fault.step)
        killed, fault.restart_seconds = stack.kill_and_restart(fault.target, run_id)
        fault.landed += f"; killed {killed}"
        print(f"fault {n + 1}/{len(faults)}: {fault.target} at {fault.step}: {fault.landed}", flush=True)
    return uploads


def drain(stack: FaultStack, uploads: list[str]) -> Outcome:
    started = time.monotonic()
    statuses = stack.statuses(uploads)
    while time.monotonic() - started < DRAIN_TIMEOUT:
        statuses = stack.statuses(uploads)
        if all(s in ("succeeded", "failed") for s in statuses.values()):
            break
        time.sleep(2.0)
    outcome = Outcome(uploads=len(uploads), succeeded=sum(s == "succeeded" for s in statuses.values()))
    outcome.drain_seconds = time.monotonic() - started
    time.sleep(15)  # let late status ticks and retries show before counting runs
    for upload_id, status in statuses.items():
        runs = stack.runs_of(upload_id)
        outcome.runs += len(runs)
        outcome.retried_runs += max(0, len(runs) - 1)  # runs after the first: re-runs after a fault
        if status == "failed":
            outcome.wrongly_failed.append(upload_id)
        elif status != "succeeded":
            outcome.lost.append(upload_id)
        if sum(1 for r in runs if r.status.value == "SUCCESS") > 1:
            outcome.duplicated.append(upload_id)
    return outcome


def plan(rounds: int) -> list[Fault]:
    return [Fault(target, step) for _ in range(rounds) for step in STEPS for target in TARGETS]


def _stop_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds through run()'s finally: no process left behind


def run(workdir: Path, faults: list[Fault]) -> Outcome:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    stack = FaultStack(workdir)
    try:
        stack.start()
        uploads = inject(stack, faults, documents())
        outcome = drain(stack, uploads)
        for upload_id in outcome.wrongly_failed + outcome.lost:
            print(f"  {upload_id}: {stack.statuses([upload_id])[upload_id]}", flush=True)
        return outcome
    finally:
        stack.stop()


def report(faults: list[Fault], outcome: Outcome, seconds: float, command: str) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}, on {machine()}; {seconds:.0f} s in all. "
        f"Command: `{command}`.",
        "",
        "A code server and `dagster-daemon` on embedded backends with the repository's `dagster.yaml` (run "
        "monitoring asking the code server whether each started run still has its worker; runs that lost "
        "their worker get their upload queued again by `upload_run_failed_sensor`). "
        "Per fault: submit one upload (a corpus PDF or scan, mode `document_ai`), wait until its run is at "
        "the step, SIGKILL the target (daemon or code server: the whole process group, run workers "
        "included; run worker: that process only), start it again on the same port. Earlier uploads are "
        "still in flight when later faults land.",
        "",
        f"**{len(faults)} faults injected, {outcome.uploads} uploads: {len(outcome.lost)} lost, "
        f"{len(outcome.duplicated)} duplicated, {len(outcome.wrongly_failed)} wrongly failed** "
        f"({outcome.succeeded} succeeded; {outcome.runs} runs, {outcome.retried_runs} of them "
        f"re-runs; all final {outcome.drain_seconds:.0f} s after the last fault).",
        "",
        "| # | killed | at step | where the run was | restart s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n, fault in enumerate(faults, 1):
        lines.append(f"| {n} | {fault.target} | {fault.step} | {fault.landed} | {fault.restart_seconds:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="times through targets x steps (default 1)")
    parser.add_argument("--no-readme", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args(argv)
    faults = plan(args.rounds)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        outcome = run(Path(tmp), faults)
    section = report(faults, outcome, time.monotonic() - started, "PYTHONPATH=$PWD .venv/bin/python bench/fault_injection.py"
                     + (f" --rounds {args.rounds}" if args.rounds != 1 else ""))  # fmt: skip
    print(section)
    if not args.no_readme:
        replace_section("Fault injection", section)
    return 0 if not (outcome.lost or outcome.duplicated or outcome.wrongly_failed) else 1


if __name__ == "__main__":
    sys.exit(main())
