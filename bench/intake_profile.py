"""Where a submission's latency goes under concurrency, without HTTP: the store path alone, timed by phase.

Mimics the API at concurrency 16 on two uvicorn workers: ``--processes`` processes (default 2) with
``--threads`` threads each (default 8), every thread submitting unique ~100 KB documents back to back
through ``store.intake.submit_document``'s own steps, timed one by one:

- *per-request* (one transaction per upload, the path before group commit): duplicate SELECT; blob
  bytes written + fsync'd; the blob's directories fsync'd; the first INSERT (on SQLite this is where
  ``BEGIN IMMEDIATE`` waits for the write lock); the other INSERTs + COMMIT;
- *group commit* (``store/intake_writer.py``): the same SELECT and blob bytes (plus the upload's own
  directory fsync'd, in ``blob_bytes_fsync``), then the hand-over to
  the writer until the member's batch has committed (directory fsyncs and the one transaction included).

Prints p50 / p99 per phase and per submission, and the writer's mean batch size. Writes nothing to
bench/README.md (the API figures are ``bench/api_throughput.py``'s); its findings are quoted there.

    .venv/bin/python bench/intake_profile.py --databases sqlite,postgresql --submissions 100
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PHASES_PER_REQUEST = ("duplicate_select", "blob_bytes_fsync", "blob_dirs_fsync", "first_insert", "rest_commit")
PHASES_GROUP = ("duplicate_select", "blob_bytes_fsync", "writer_wait")


def _worker(args: tuple[str, str, str, int, int, float, int]) -> dict[str, Any]:
    """One process: ``threads`` threads submitting ``submissions`` documents each; phase timings in ms."""
    import threading

    from api_throughput import pdf_of_size

    from timetable_platform.store import audit, repository
    from timetable_platform.store.audit import AuditEntry
    from timetable_platform.store.blobs import LocalBlobStore, fsync_directories, upload_key
    from timetable_platform.store.db import make_engine, make_read_session_factory, make_session_factory
    from timetable_platform.store.factory import Store
    from timetable_platform.store.intake import _find_duplicate, intake_writer
    from timetable_platform.store.intake_writer import PendingUpload
    from timetable_platform.store.queue import DatabaseQueue, upload_message

    url, blob_dir, path, threads, submissions, start_at, process_index = args
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    store = Store(engine=engine, session_factory=session_factory, blobs=LocalBlobStore(blob_dir),
                  queue=DatabaseQueue(session_factory), read_session_factory=make_read_session_factory(engine))  # fmt: skip
    base = pdf_of_size(100 * 1024)
    samples: list[dict[str, float]] = []
    lock = threading.Lock()

    def submit(thread: int, n: int) -> dict[str, float]:
        content = base + f"%{process_index}-{thread}-{n}-{time.time_ns()}\n".encode()
        sha = hashlib.sha256(content).hexdigest()
        times: dict[str, float] = {}
        t0 = time.perf_counter()
        row = repository.upload_row(tenant="bench", filename="t.pdf", media_type="application/pdf",
                                    size_bytes=len(content), sha256=sha, mode="hybrid", claim_content=True)  # fmt: skip
        _find_duplicate(store, tenant="bench", sha256=sha, mode="hybrid")
        t1 = time.perf_counter()
        key = upload_key("bench", row["id"])
        directories = store.blobs.put_deferring_directories(key, content)
        if path == "group":  # as store.intake does: the upload's own directory now, shared ones in the batch
            fsync_directories(directories[:1])
            directories = directories[1:]
        t2 = time.perf_counter()
        entry = AuditEntry(tenant="bench", action="upload.created", api_key_id=None, request_id="r", detail="x")
        message = upload_message(row["id"], "bench")
        times["duplicate_select"], times["blob_bytes_fsync"] = (t1 - t0) * 1000, (t2 - t1) * 1000
        if path == "group":
            intake_writer(store).write(PendingUpload(row, entry, message, directories))
            t3 = time.perf_counter()
            times["writer_wait"] = (t3 - t2) * 1000
        else:
            fsync_directories(directories)
            t3a = time.perf_counter()
            with engine.begin() as connection:
                repository.insert_upload(connection, row)  # SQLite: BEGIN IMMEDIATE waits here
                t3b = time.perf_counter()
                audit.insert_event(connection, entry, row["id"])
                store.queue.send_within(connection, message)  # type: ignore[attr-defined]
            t3 = time.perf_counter()
            times["blob_dirs_fsync"], times["first_insert"] = (t3a - t2) * 1000, (t3b - t3a) * 1000
            times["rest_commit"] = (t3 - t3b) * 1000
        times["total"] = (t3 - t0) * 1000
        return times

    def loop(thread: int) -> None:
        for n in range(submissions):
            one = submit(thread, n)
            with lock:
                samples.append(one)

    submit(-1, 0)  # warm: connections, imports
    time.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    pool = [threading.Thread(target=loop, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    writer = store.intake_writer
    batches = (
        (writer.batches, writer.members, writer.directory_fsync_seconds, writer.transaction_seconds)
        if writer is not None
        else (0, 0, 0.0, 0.0)
    )
    store.dispose()
    return {"samples": samples, "wall": wall, "batches": batches}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def run(database: str, path: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="intake-profile-") as tmp:
        if database == "sqlite":
            url = f"sqlite:///{tmp}/timetable.db"
        else:
            from api_throughput import fresh_postgres_database

            url = fresh_postgres_database(args.postgres_url)
        from timetable_platform.store.db import migrate

        migrate(url)
        start_at = time.time() + 3.0
        jobs = [(url, f"{tmp}/blobs", path, args.threads, args.submissions, start_at, i) for i in range(args.processes)]
        with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
            results = pool.map(_worker, jobs)
    samples = [s for r in results for s in r["samples"]]
    wall = max(r["wall"] for r in results)
    batches = sum(r["batches"][0] for r in results)
    members = sum(r["batches"][1] for r in results)
    dir_ms = sum(r["batches"][2] for r in results) * 1000
    txn_ms = sum(r["batches"][3] for r in results) * 1000
    phases = PHASES_GROUP if path == "group" else PHASES_PER_REQUEST
    return {
        "database": database,
        "path": path,
        "submissions": len(samples),
        "per_second": len(samples) / wall,
        "phases": {
            p: (statistics.median(s[p] for s in samples), percentile([s[p] for s in samples], 0.99))
            for p in (*phases, "total")
        },
        "mean_batch": members / batches if batches else None,
        "batch_ms": (dir_ms / batches, txn_ms / batches) if batches else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--paths", default="per-request,group")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--submissions", type=int, default=100, help="per thread")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/timetable_bench")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [run(d, p, args) for d in args.databases.split(",") for p in args.paths.split(",")]
    if args.json:
        print(json.dumps(rows))
        return 0
    load = os.getloadavg()[0]
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.processes} processes x {args.threads} threads, "
          f"{args.submissions} submissions per thread, load average {load:.1f} at the end")  # fmt: skip
    print()
    print(
        "| database | path | submissions/s | phase: p50 / p99 ms | total p50 / p99 ms | mean batch "
        "| writer per batch: directory fsyncs / transaction ms |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        phases = "; ".join(f"{name} {p50:.1f} / {p99:.1f}" for name, (p50, p99) in row["phases"].items() if name != "total")
        total = row["phases"]["total"]
        batch = f"{row['mean_batch']:.1f}" if row["mean_batch"] else "-"
        split = f"{row['batch_ms'][0]:.1f} / {row['batch_ms'][1]:.1f}" if row["batch_ms"] else "-"
        print(
            f"| {row['database']} | {row['path']} | {row['per_second']:.0f} | {phases} | "
            f"{total[0]:.1f} / {total[1]:.1f} | {batch} | {split} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
