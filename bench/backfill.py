"""Backfill throughput: N generated documents re-materialised by the nightly schedule's ranged runs.

Generates documents with ``tests.corpusgen``, registers them as uploads already extracted by an
older extractor version (stale), evaluates the real ``stale_and_failed_backfill`` schedule against a
fresh instance, and submits its run requests to the run queue with ``dagster job launch``; the real
``dagster-daemon`` launches them under dagster.yaml's limits (backfill lane: one run at a time).
Throughput = documents / (first submission -> last upload stored). Writes the "Dagster backfill
throughput" section of bench/README.md.

    .venv/bin/python bench/backfill.py [--documents 300] [--seed 7] [--no-readme]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_latency import (  # sibling benchmark module, not a package
    MEDIA_TYPES,
    ROOT,
    VENV_BIN,
    load_average,
    machine,
    replace_section,
    running_stack,
)


def generate(out: Path, count: int, seed: int) -> list[Path]:
    subprocess.run(
        [str(VENV_BIN / "python"), "-m", "tests.corpusgen", "--out", str(out), "--count", str(count), "--seed", str(seed)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return sorted(p for p in out.iterdir() if p.suffix in MEDIA_TYPES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mode", default="document_ai", choices=["hybrid", "document_ai", "fallback"])
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="tt-backfill-"))
    started_load = machine()
    try:
        docs = generate(workdir / "docs", args.documents, args.seed)
        print(f"generated {len(docs)} documents", flush=True)
        with running_stack(workdir, mode=args.mode) as stack:
            import dagster as dg
            from sqlalchemy import func, select

            from timetable_platform.assets.partitions import EXTRACTOR_VERSION, UPLOADS_PARTITIONS
            from timetable_platform.schedules.backfill import stale_and_failed_backfill_schedule
            from timetable_platform.store import repository
            from timetable_platform.store.models import Upload

            store = stack.store()
            ids = []
            for path in docs:
                upload_id = stack.register(path.read_bytes(), path.name, mode=args.mode)
                with store.session() as session:  # as if extracted earlier by an older extractor
                    repository.mark_succeeded(session, upload_id, run_id="earlier", extractor_version="bench-old")
                ids.append(upload_id)
            instance = stack.instance()
            assert UPLOADS_PARTITIONS.name is not None
            instance.add_dynamic_partitions(UPLOADS_PARTITIONS.name, ids)
            context = dg.build_schedule_context(
                instance=instance, resources={"store": store}, scheduled_execution_time=datetime.now(UTC)
            )
            requests = stale_and_failed_backfill_schedule(context)
            assert isinstance(requests, list), requests
            print(f"schedule requested {len(requests)} runs for {len(ids)} stale uploads", flush=True)

            stack.start_daemon()
            # Submit to the run queue as the schedule daemon would (the `dagster job launch` internals,
            # with one workspace for all runs instead of one code server per CLI call).
            from dagster import __version__ as dagster_version
            from dagster._cli.job import _create_run
            from dagster._cli.workspace.cli_target import (
                WorkspaceOpts,
                get_code_location_from_workspace,
                get_remote_job_from_remote_repo,
                get_remote_repository_from_code_location,
                get_workspace_from_cli_opts,
            )

            workspace_opts = WorkspaceOpts(workspace=[str(ROOT / "workspace.yaml")])
            with get_workspace_from_cli_opts(instance, version=dagster_version, workspace_opts=workspace_opts) as workspace:
                location = get_code_location_from_workspace(workspace, None)
                repository = get_remote_repository_from_code_location(location, None)
                job = get_remote_job_from_remote_repo(repository, "process_upload")
                began = time.monotonic()
                began_at = datetime.now(UTC)
                for request in requests:
                    tags = dict(request.tags)
                    if request.partition_key:
                        tags["dagster/partition"] = request.partition_key
                    run = _create_run(
                        instance=instance,
                        code_location=location,
                        remote_repo=repository,
                        remote_job=job,
                        run_config={},
                        tags=tags,
                        op_selection=None,
                        run_id=None,
                    )
                    instance.submit_run(run.run_id, workspace)
            submitted = time.monotonic() - began
            print(f"submitted in {submitted:.1f} s", flush=True)

            def counts() -> dict[str, int]:
                with store.session() as session:
                    done = session.scalar(
                        select(func.count()).where(
                            Upload.id.in_(ids), Upload.status == "succeeded", Upload.extractor_version == EXTRACTOR_VERSION
                        )
                    )
                    failed = session.scalar(select(func.count()).where(Upload.id.in_(ids), Upload.status == "failed"))
                return {"done": int(done or 0), "failed": int(failed or 0)}

            deadline = began + args.timeout
            cpu_before = stack.sample_cpu()
            state = counts()
            while state["done"] + state["failed"] < len(ids) and time.monotonic() < deadline:
                time.sleep(1.0)
                stack.sample_cpu()
                state = counts()
                print(f"  {time.monotonic() - began:6.1f} s: {state}", end="\r", flush=True)
            print()
            with store.session() as session:
                last = session.scalar(select(func.max(Upload.finished_at)).where(Upload.id.in_(ids)))
            elapsed = (last - began_at).total_seconds() if last else time.monotonic() - began
            cpu_seconds = stack.sample_cpu() - cpu_before
            time.sleep(2)  # the run's end event lands just after its last upload is stored
            runs = instance.get_run_records()
            run_seconds = [r.end_time - r.start_time for r in runs if r.start_time and r.end_time]
            instance.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    from timetable_platform.assets.partitions import MAX_PARTITIONS_PER_RUN

    ended_load = load_average()
    finished = state["done"] + state["failed"]
    per_minute = finished / (elapsed / 60) if elapsed > 0 else float("nan")
    cpu_per_document = cpu_seconds / finished if finished else float("nan")
    # What the same work gives on one core of its own (the backfill lane runs one run at a time).
    per_minute_one_core = 60 / cpu_per_document if finished else float("nan")
    summary = (
        f"{finished}/{len(ids)} documents re-materialised in {elapsed:.1f} s = {per_minute:.0f} documents/minute "
        f"({len(requests)} runs, {state['failed']} documents failed extraction); stack CPU {cpu_seconds:.0f} s = "
        f"{cpu_per_document:.2f} s per document -> {per_minute_one_core:.0f} documents/minute on one dedicated core"
    )
    print(summary)
    print("run seconds:", [round(x, 1) for x in run_seconds])
    if finished < len(ids):
        print("timed out before every document finished", file=sys.stderr)
    if not args.no_readme:
        mean_run = sum(run_seconds) / len(run_seconds) if run_seconds else float("nan")
        body = f"""Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {started_load}, load {ended_load:.1f} at the end, by `bench/backfill.py --documents {args.documents} --seed {args.seed} --mode {args.mode}`.
{len(ids)} documents from `tests.corpusgen` (PDF, DOCX, XLSX, CSV) registered as stale uploads; the nightly
`stale_and_failed_backfill` schedule turned them into {len(requests)} ranged runs (up to {MAX_PARTITIONS_PER_RUN} uploads each,
`timetable/lane=backfill`), submitted to the run queue and launched by `dagster-daemon` one at a time (the
backfill lane limit in dagster.yaml). Target: >= 100 documents per minute on 2 cores.

| documents | runs | wall time | documents / minute | failed documents | mean run time | CPU s / document |
|---|---|---|---|---|---|---|
| {finished} of {len(ids)} | {len(requests)} | {elapsed:.1f} s | {per_minute:.0f} | {state['failed']} | {mean_run:.1f} s | {cpu_per_document:.2f} |

CPU is every process of the stack (daemon, code server, run workers) read from /proc while the backfill ran:
on a core of its own the same work would re-materialise about {per_minute_one_core:.0f} documents per minute
(wall-clock figures above are from a machine shared with other jobs; see the load figures).

A failing document fails only its own upload row; the rest of its run carries on.
"""
        replace_section("Dagster backfill throughput", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

