"""End-to-end latency: POST an upload -> ``merged_timetable`` materialised, through the real API and daemon.

Starts the API (uvicorn) and ``dagster-daemon`` (upload_queue_sensor, run queue, run launcher) on a
fresh DAGSTER_HOME with the repository's ``dagster.yaml``, embedded backends in a temporary directory,
then POSTs a mix of what teachers upload (the LY photos/screenshots/PDF of ../shared/corpus/real and
generated photos, scans, PDF, DOCX, PNG, XLSX) one at a time, then in bursts, and waits for each.
Latency is the upload row's ``finished_at`` minus the moment the POST was sent, split by the run's
event log (sensor, queue, launch, each step). Also samples the RSS of the API worker, daemon, code
server and run workers at rest and under this load. Writes the "Dagster pipeline latency" section
of bench/README.md.

    .venv/bin/python bench/pipeline_latency.py                       # 12 one at a time + 1 burst of 20, hybrid
    .venv/bin/python bench/pipeline_latency.py --single 4 --bursts 0 --no-readme     # a quick check
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent  # the venv running this script (.venv/bin in a checkout)
CORPUS = ROOT.parent / "shared" / "corpus"
README = ROOT / "bench" / "README.md"
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
}


def _default_signals() -> None:
    # Children in this sandbox may inherit ignored SIGINT/SIGTERM; restore them so stop() works.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class DagsterStack:
    """A DAGSTER_HOME, embedded backends under one work directory, and the processes started on them."""

    def __init__(self, workdir: Path, *, mode: str = "document_ai") -> None:
        self.workdir = workdir
        self.home = workdir / "dagster_home"
        self.data = workdir / "data"
        self.home.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "dagster.yaml", self.home / "dagster.yaml")
        self.database_url = f"sqlite:///{self.data / 'timetable.db'}"
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "TIMETABLE_DATA_DIR": str(self.data),
            "TIMETABLE_DATABASE_URL": self.database_url,
            "TIMETABLE_BLOB_BACKEND": "local",
            "TIMETABLE_BLOB_DIR": str(self.data / "blobs"),
            "TIMETABLE_QUEUE_BACKEND": "database",
            "TIMETABLE_MODE": mode,
            "PYTHONWARNINGS": "ignore",
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self._cpu_by_pid: dict[int, float] = {}
        # Run workers: the code server starts each run as a multiprocessing child (`spawn_main`).
        self._run_pids: set[int] = set()
        # This process uses the same settings as the daemon it starts.
        os.environ.update({k: v for k, v in self.env.items() if k.startswith(("TIMETABLE_", "DAGSTER_HOME"))})
        from timetable_platform.store import db

        db.migrate(self.database_url)

    def store(self) -> Any:
        from timetable_platform.resources import StoreResource

        return StoreResource()

    def instance(self) -> Any:
        import dagster as dg

        return dg.DagsterInstance.from_config(str(self.home))

    def start(self, *args: str, log_name: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / log_name).open("wb")
        process = subprocess.Popen(
            list(args),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches the code server and runs too
            preexec_fn=_default_signals,
        )
        self.processes.append(process)
        return process

    def start_daemon(self, *, ready_timeout: float = 300.0) -> None:
        """Start ``dagster-daemon`` and wait until its run queue and sensor daemons report heartbeats."""
        instance = self.instance()  # first: the daemon and this process creating the storage at once can race
        self.start(str(VENV_BIN / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml"), log_name="daemon.log")
        deadline = time.monotonic() + ready_timeout
        try:
            while time.monotonic() < deadline:
                beats = instance.get_daemon_heartbeats()
                if {"QUEUED_RUN_COORDINATOR", "SENSOR"} <= set(beats):
                    return
                time.sleep(0.5)
        finally:
            instance.dispose()
        raise TimeoutError(f"dagster-daemon not ready after {ready_timeout:.0f} s (see {self.workdir}/daemon.log)")

    def sample_cpu(self) -> float:
        """CPU seconds used so far by every process of the stack (daemon, code server, runs).

        Read from /proc for all processes in the stack's process groups; call it often (about once a
        second), since a process that exits between two samples loses its last interval.
        """
        groups = {p.pid for p in self.processes}
        ticks = os.sysconf("SC_CLK_TCK")
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            # After the command: state ppid pgrp ... utime(12) stime(13) (0-based after the ')').
            if int(fields[2]) in groups:
                pid = int(stat.parent.name)
                self._cpu_by_pid[pid] = (int(fields[11]) + int(fields[12])) / ticks
                if pid not in self._run_pids:
                    try:
                        command = (stat.parent / "cmdline").read_bytes()
                        if b"spawn_main" in command or b"execute_run" in command:
                            self._run_pids.add(pid)
                    except OSError:
                        pass
        return sum(self._cpu_by_pid.values())

    def run_worker_cpu(self) -> float:
        """CPU seconds of run worker processes only (as of the last ``sample_cpu``)."""
        return sum(cpu for pid, cpu in self._cpu_by_pid.items() if pid in self._run_pids)

    def stop(self) -> None:
        for process in self.processes:
            for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
            # Run workers may outlive the daemon in the same group: make sure the group is gone.
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def register(self, content: bytes, filename: str, *, mode: str, tenant: str = "bench") -> str:
        """Blob then row, as the API does (the message is sent separately)."""
        from timetable_platform.extraction.sniff import sniff_media_type
        from timetable_platform.store import repository
        from timetable_platform.store.blobs import upload_key

        store = self.store()
        import uuid

        upload_id = uuid.uuid4().hex
        store.blobs.put(upload_key(tenant, upload_id), content)
        with store.session() as session:
            repository.create_upload(
                session,
                tenant=tenant,
                filename=filename,
                media_type=sniff_media_type(content, filename),
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                mode=mode,
                upload_id=upload_id,
            )
        return upload_id


@contextmanager
def running_stack(workdir: Path, *, mode: str) -> Iterator[DagsterStack]:
    stack = DagsterStack(workdir, mode=mode)
    try:
        yield stack
    finally:
        stack.stop()


def wait_final(stack: DagsterStack, upload_id: str, timeout: float) -> Any:
    from timetable_platform.store import repository

    store = stack.store()
    deadline = time.monotonic() + timeout
    next_sample = 0.0
    while time.monotonic() < deadline:
        with store.session() as session:
            upload = repository.get_upload(session, upload_id)
            if upload is not None and str(upload.status) in ("succeeded", "failed"):
                session.expunge(upload)
                return upload
        if time.monotonic() >= next_sample:
            stack.sample_cpu()
            next_sample = time.monotonic() + 0.5
        time.sleep(0.1)
    raise TimeoutError(f"upload {upload_id} not finished after {timeout:.0f} s (see {stack.workdir}/daemon.log)")


def documents(limit: int) -> list[Path]:
    found = sorted(p for p in CORPUS.glob("*") if p.suffix in (".pdf", ".docx", ".xlsx"))
    if not found:
        raise SystemExit(f"no documents under {CORPUS}")
    return [found[i % len(found)] for i in range(limit)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def replace_section(title: str, body: str, readme: Path = README) -> None:
    """Replace (or append) ``## title`` in the shared bench/README.md, leaving other sections alone."""
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    header = f"## {title}"
    section = f"{header}\n\n{body.strip()}\n"
    if header in text:
        start = text.index(header)
        nxt = text.find("\n## ", start + len(header))
        text = text[:start] + section + (text[nxt:] if nxt != -1 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    readme.write_text(text)


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def machine() -> str:
    """The machine, with the 1-minute load average now (other engineers share these 2 cores)."""
    return f"{platform.node()} ({os.cpu_count()} CPUs, load {load_average():.1f} at start), Python {platform.python_version()}"


# --- the document mix: what teachers upload ----------------------------------------------------------

REAL = CORPUS / "real"
LY_DOCUMENTS = ("ly_1_1.png", "ly_1_2.png", "ly_2.pdf", "ly_3.png", "ly_4.jpeg")  # phone photos, screenshots, a PDF
GENERATED_FORMATS = ("photo", "scan", "pdf", "docx", "png", "xlsx")


def mixed_documents(out: Path, count: int, seed: int) -> list[tuple[Path, str]]:
    """``count`` documents, alternating the LY real documents with ones ``tests.corpusgen`` generates
    (photos, scans, PDF, DOCX, clean PNG, XLSX), each with its format label."""
    generated = max(1, count - count * len(LY_DOCUMENTS) // (len(LY_DOCUMENTS) + len(GENERATED_FORMATS)))
    subprocess.run(
        [sys.executable, "-m", "tests.corpusgen", "--out", str(out), "--count", str(min(generated, 4 * len(GENERATED_FORMATS))),
         "--seed", str(seed), "--formats", ",".join(GENERATED_FORMATS)],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    made = sorted(p for p in out.iterdir() if p.suffix in (".jpg", ".png", ".pdf", ".docx", ".xlsx"))
    pool: list[tuple[Path, str]] = []
    real = [(REAL / name, "LY " + Path(name).suffix.lstrip(".").replace("jpeg", "jpg")) for name in LY_DOCUMENTS]
    real = [(path, label) for path, label in real if path.is_file()]
    for i in range(max(len(made), len(real))):
        if i < len(made):
            pool.append((made[i], made[i].stem.rsplit("_", 1)[-1]))
        if i < len(real):
            pool.append(real[i])
    return [pool[i % len(pool)] for i in range(count)]


# --- the API in front of the stack --------------------------------------------------------------------


def start_api(stack: DagsterStack) -> tuple[str, str]:
    """uvicorn (one worker) on the stack's settings, and an API key: uploads go through the real API."""
    import socket

    import httpx

    from timetable_platform.store import apikeys

    with stack.store().session() as session:
        key = apikeys.create_api_key(session, "bench").key
        session.commit()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stack.start(str(VENV_BIN / "python"), "-m", "uvicorn", "timetable_platform.api:create_app", "--factory",
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", log_name="api.log")  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with suppress(httpx.HTTPError):
            if httpx.get(base + "/docs", timeout=2).status_code == 200:
                return base, key
        time.sleep(0.3)
    raise TimeoutError("the API did not start (see api.log)")


def post_upload(base: str, key: str, path: Path, mode: str) -> tuple[str, float]:
    """POST the document (force: a new upload even for bytes seen before); its id and when it was sent."""
    import httpx

    sent = time.time()
    response = httpx.post(
        f"{base}/api/v2/timetable/uploads",
        headers={"X-API-Key": key},
        files={"file": (path.name, path.read_bytes())},
        data={"mode": mode, "force": "true"},
        timeout=60,
    )
    if response.status_code != 202:
        raise RuntimeError(f"{path.name}: {response.status_code} {response.text[:300]}")
    return response.json()["upload_id"], sent


# --- memory of the stack's processes --------------------------------------------------------------------


def process_kind(cmdline: bytes) -> str | None:
    if b"uvicorn" in cmdline:
        return "API worker"
    if b"dagster-daemon" in cmdline:
        return "daemon"
    if b"spawn_main" in cmdline or b"execute_run" in cmdline:
        return "run worker"
    if b"api\x00grpc" in cmdline or b"code-server" in cmdline or b"code_server" in cmdline:
        return "code server"
    if b"tesseract" in cmdline:
        return "tesseract (OCR child)"
    return None


class MemorySampler:
    """Largest RSS per process kind, read from /proc (VmRSS) for every process in the stack's groups."""

    def __init__(self, stack: DagsterStack) -> None:
        self.stack = stack
        self.peak: dict[str, float] = {}

    def snapshot(self) -> dict[str, float]:
        groups = {p.pid for p in self.stack.processes}
        now: dict[str, float] = {}
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                stat = (status.parent / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[2]) not in groups:
                    continue
                kind = process_kind((status.parent / "cmdline").read_bytes())
                rss = next(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmRSS:"))
            except (OSError, IndexError, StopIteration, ValueError):
                continue
            if kind is not None:
                now[kind] = max(now.get(kind, 0.0), rss / 1024)
        for kind, mb in now.items():
            self.peak[kind] = max(self.peak.get(kind, 0.0), mb)
        return now


# --- one upload's timeline ------------------------------------------------------------------------------


def timeline(instance: Any, upload_id: str, sent: float, upload: Any) -> dict[str, Any]:
    """Seconds from the POST to each milestone of the upload's run, from the run record and its event log."""
    from dagster import DagsterEventType
    from dagster._core.storage.dagster_run import RunsFilter

    from timetable_platform.assets.partitions import GENERATION_TAG, UPLOAD_ID_TAG

    row: dict[str, Any] = {"latency": upload.finished_at.timestamp() - sent if upload.finished_at else float("nan")}
    deadline = time.monotonic() + 30  # the row is stored inside the last step: let its run finish logging
    while True:
        # The run that stored it (its own, or one shared with other uploads of a burst).
        record = instance.get_run_record_by_id(upload.dagster_run_id) if upload.dagster_run_id else None
        if record is None:
            records = instance.get_run_records(RunsFilter(tags={UPLOAD_ID_TAG: upload_id}), limit=1)
            record = records[0] if records else None
        if (record is not None and record.dagster_run.is_finished) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    if record is None:
        return row
    row["run"] = record.dagster_run.run_id
    row["uploads in run"] = max(1, sum(1 for k in record.dagster_run.tags if k.startswith(GENERATION_TAG + "/")))
    created = record.create_timestamp.timestamp()
    row["sensor"] = created - sent
    kinds = {DagsterEventType.RUN_STARTING, DagsterEventType.RUN_START, DagsterEventType.STEP_START,
             DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}  # fmt: skip
    starting = start = None
    step_start: dict[str, float] = {}
    last_step_end = None
    for entry in instance.all_logs(record.dagster_run.run_id, of_type=kinds):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.RUN_STARTING:
            starting = entry.timestamp
        elif event.event_type == DagsterEventType.RUN_START:
            start = entry.timestamp
        elif event.event_type == DagsterEventType.STEP_START and event.step_key:
            step_start[event.step_key] = entry.timestamp
        elif event.step_key in step_start:
            row[f"step {event.step_key}"] = entry.timestamp - step_start[event.step_key]
            last_step_end = max(last_step_end or 0.0, entry.timestamp)
    if starting is not None:
        row["queue"] = starting - created
    if starting is not None and start is not None:
        row["launch"] = start - starting  # a process started, the code loaded, the run begun
    if start is not None and step_start:
        row["to first step"] = min(step_start.values()) - start
    if last_step_end is not None and upload.finished_at:
        row["steps total"] = last_step_end - min(step_start.values())
    return row


def wait_all(stack: DagsterStack, ids: list[str], timeout: float, memory: MemorySampler) -> dict[str, Any]:
    from timetable_platform.store import repository

    store = stack.store()
    deadline = time.monotonic() + timeout
    final: dict[str, Any] = {}
    while len(final) < len(ids) and time.monotonic() < deadline:
        with store.session() as session:
            for upload_id in ids:
                if upload_id in final:
                    continue
                upload = repository.get_upload(session, upload_id)
                if upload is not None and str(upload.status) in ("succeeded", "failed", "needs_review"):
                    session.expunge(upload)
                    final[upload_id] = upload
        stack.sample_cpu()
        memory.snapshot()
        time.sleep(0.25)
    missing = [i for i in ids if i not in final]
    if missing:
        raise TimeoutError(f"{len(missing)} uploads not finished after {timeout:.0f} s (see {stack.workdir})")
    return final


def launch_floor() -> dict[str, float]:
    """What a run worker pays before its first step whatever Dagster does: a fresh interpreter importing
    the definitions (dagster, the assets, the readers). CPU and wall seconds, in a child process."""
    code = ("import time; c, w = time.process_time(), time.perf_counter(); import timetable_platform.definitions; "
            "print(time.process_time() - c, time.perf_counter() - w)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"})  # fmt: skip
    cpu, wall = (float(x) for x in done.stdout.split()[-2:])
    return {"cpu": cpu, "wall": wall}


def summarise(rows: list[dict[str, Any]]) -> dict[str, float]:
    latencies = [r["latency"] for r in rows]
    return {"n": len(rows), "median": statistics.median(latencies), "p95": percentile(latencies, 0.95),
            "max": max(latencies), "failed": sum(1 for r in rows if r["status"] == "failed")}  # fmt: skip


def split_columns(rows: list[dict[str, Any]]) -> list[str]:
    steps = sorted({k for r in rows for k in r if k.startswith("step ")})
    return ["sensor", "queue", "launch", "to first step", *steps, "steps total"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--single", type=int, default=12, help="uploads sent one at a time")
    parser.add_argument("--bursts", type=int, default=1, help="bursts of --burst-size uploads sent at once")
    parser.add_argument("--burst-size", type=int, default=20)
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "document_ai", "fallback"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dequeue-interval", type=float, default=None, help="override dagster.yaml's (1 s)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for one upload or burst")
    parser.add_argument("--note", default="", help="added to the README line, e.g. 'machine shared'")
    parser.add_argument("--readme-title", default="Dagster pipeline latency")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, databases)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="tt-latency-"))
    started_load = machine()
    results: dict[str, list[dict[str, Any]]] = {"one at a time": [], f"bursts of {args.burst_size}": []}
    rest: dict[str, float] = {}
    floor = launch_floor()
    try:
        count = args.single + args.bursts * args.burst_size
        docs = mixed_documents(workdir / "docs", max(count, 1), args.seed)
        with running_stack(workdir, mode=args.mode) as stack:
            if args.dequeue_interval is not None:
                config = stack.home / "dagster.yaml"
                config.write_text(config.read_text().replace(
                    "dequeue_interval_seconds: 1", f"dequeue_interval_seconds: {args.dequeue_interval:g}"))  # fmt: skip
            base, key = start_api(stack)
            stack.start_daemon()
            memory = MemorySampler(stack)
            instance = stack.instance()
            warm, sent = post_upload(base, key, docs[0][0], args.mode)  # not counted: first tick, first run
            wait_all(stack, [warm], max(args.timeout, 300), memory)
            time.sleep(3)
            rest = memory.snapshot()
            memory.peak = {}
            plan = [("one at a time", [d]) for d in docs[: args.single]]
            for b in range(args.bursts):
                chunk = docs[args.single + b * args.burst_size : args.single + (b + 1) * args.burst_size]
                plan.append((f"bursts of {args.burst_size}", chunk))
            from concurrent.futures import ThreadPoolExecutor

            for scenario, chunk in plan:
                with ThreadPoolExecutor(len(chunk)) as pool:
                    posted = list(pool.map(lambda doc: post_upload(base, key, doc[0], args.mode), chunk))
                final = wait_all(stack, [u for u, _ in posted], args.timeout, memory)
                for (path, label), (upload_id, sent) in zip(chunk, posted, strict=True):
                    row = {"file": path.name, "format": label, "status": str(final[upload_id].status),
                           **timeline(instance, upload_id, sent, final[upload_id])}  # fmt: skip
                    results[scenario].append(row)
                    print(f"{scenario:<14} {path.name:<24} {row['status']:<9} {row['latency']:6.2f} s  "
                          + " ".join(f"{k}={row[k]:.2f}" for k in split_columns([row]) if k in row), flush=True)  # fmt: skip
            instance.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    body = report(args, results, rest, memory.peak if rest else {}, started_load, floor)
    print(body)
    if not args.no_readme:
        replace_section(args.readme_title, body)
    return 0


def report(
    args: argparse.Namespace,
    results: dict[str, list[dict[str, Any]]],
    rest: dict[str, float],
    peak: dict[str, float],
    started_load: str,
    floor: dict[str, float],
) -> str:
    all_rows = [r for rows in results.values() for r in rows]
    columns = split_columns(all_rows)

    def med(rows: list[dict[str, Any]], key: str) -> str:
        values = [r[key] for r in rows if key in r]
        return f"{statistics.median(values):.2f}" if values else "-"

    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {started_load}, load {load_average():.1f} at the end"
        f"{', ' + args.note if args.note else ''}, by `bench/pipeline_latency.py --single {args.single} --bursts "
        f"{args.bursts} --burst-size {args.burst_size} --mode {args.mode}"
        + (f" --dequeue-interval {args.dequeue_interval:g}" if args.dequeue_interval is not None else "") + "`.",
        "The real API (uvicorn, one worker) and `dagster-daemon` with the repository's `dagster.yaml` (queued runs, "
        f"dequeue every {args.dequeue_interval if args.dequeue_interval is not None else 1:g} s, at most 3 runs at once, "
        "the default launcher: one process per run, started by the code server), `upload_queue_sensor` (the daemon evaluates sensors every 5 s; each tick long-polls the queue up to 3.5 s; one run per upload while run slots are free, else runs shared by up to 5 uploads), "
        "embedded backends (SQLite, local blobs, database queue). The mix: the LY documents of ../shared/corpus/real "
        "(phone photos and screenshots, a PDF) alternating with documents `tests.corpusgen` generates (photo, scan, "
        "PDF, DOCX, clean PNG, XLSX), each POSTed with `force=true`. Latency = the upload row's `finished_at` (same "
        "transaction as the entries) minus the moment the POST was sent. Targets: median <= 8 s, p95 <= 12 s.",
        "",
        "| uploads | count | median s | p95 s | max s | failed |",
        "|---|---|---|---|---|---|",
    ]
    for scenario, rows in results.items():
        if rows:
            s = summarise(rows)
            lines.append(f"| {scenario} | {s['n']} | {s['median']:.2f} | {s['p95']:.2f} | {s['max']:.2f} | {s['failed']} |")
    for scenario, rows in results.items():
        shared = [r for r in rows if r.get("uploads in run", 1) > 1]
        if rows and "run" in rows[0]:
            lines += ["", f"{scenario}: {len(rows)} uploads in {len({r.get('run') for r in rows})} runs"
                      + (f" ({len(shared)} uploads in runs shared by several uploads: more uploads waited than run "
                         "slots were free)" if shared else "") + "."]  # fmt: skip
    lines += [
        "",
        "Median split, seconds: *sensor* = POST sent -> run created (the queue sensor's tick); *queue* = created -> "
        "dequeued and handed to the launcher; *launch* = launcher -> run worker started (a process, imports, the "
        "definitions loaded); *to first step* = run started -> first step starting; then each step.",
        "",
        "| uploads | format | count | median latency | " + " | ".join(columns) + " |",
        "|---|---|---|---|" + "---|" * len(columns),
    ]
    for scenario, rows in results.items():
        for fmt in sorted({r["format"] for r in rows}):
            group = [r for r in rows if r["format"] == fmt]
            lines.append(f"| {scenario} | {fmt} | {len(group)} | {med(group, 'latency')} | "
                         + " | ".join(med(group, c) for c in columns) + " |")  # fmt: skip
        if rows:
            lines.append(f"| {scenario} | **all** | {len(rows)} | {med(rows, 'latency')} | "
                         + " | ".join(med(rows, c) for c in columns) + " |")  # fmt: skip
    overhead = [r["sensor"] + r["queue"] + r["launch"] for r in all_rows if {"sensor", "queue", "launch"} <= set(r)]
    steps_only = [r["steps total"] for r in all_rows if "steps total" in r]
    if overhead and steps_only:
        median_latency = statistics.median(r["latency"] for r in all_rows)
        lines += [
            "",
            f"Of the median latency ({median_latency:.1f} s), sensor + queue + launch took {statistics.median(overhead):.1f} s "
            f"(median) and the four steps {statistics.median(steps_only):.1f} s: the time before the first step is "
            "Dagster's, the rest is extraction.",
        ]
    lines += [
        "",
        f"What the launch costs at least: a fresh interpreter importing `timetable_platform.definitions` (Dagster, "
        f"the assets, the readers), as every run worker does before its first step, took {floor['cpu']:.2f} s CPU "
        f"({floor['wall']:.2f} s wall) in this run; the rest of *launch* is spawning the process from the code server "
        "and Dagster's run start-up.",
    ]
    if rest:
        lines += [
            "",
            "Memory (RSS, MB, from /proc; the largest process of each kind): at rest after the warm-up upload, and the "
            "peak while the uploads above ran.",
            "",
            "| process | at rest | peak under load |",
            "|---|---|---|",
        ]
        for kind in sorted(set(rest) | set(peak)):
            lines.append(f"| {kind} | {rest.get(kind, 0):.0f} | {peak.get(kind, 0):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
