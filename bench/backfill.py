"""Backfill throughput on what teachers upload: documents per minute and CPU seconds per document by format.

The mix of ``bench/pipeline_latency.py`` (LY real documents; photos, scans, PDF, DOCX, PNG, XLSX from
``tests.corpusgen``), one format after the other: registered as uploads already extracted by an older
extractor version (stale), the real ``stale_and_failed_backfill`` schedule evaluated, its run
requests submitted to the run queue as ``dagster job launch`` does; the real ``dagster-daemon``
launches them under dagster.yaml's limits (backfill lane: two runs at a time). Writes the "Dagster
backfill throughput" section of bench/README.md.

    .venv/bin/python bench/backfill.py [--per-format 6] [--mode hybrid] [--no-readme]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_latency import (  # sibling benchmark module, not a package
    ROOT,
    load_average,
    machine,
    mixed_documents,
    replace_section,
    running_stack,
)


def submit_schedule_runs(stack: Any, instance: Any, requests: list[Any]) -> None:
    """Submit the schedule's run requests to the run queue as the schedule daemon would (the
    `dagster job launch` internals, with one workspace for all runs instead of one code server per call)."""
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
        for request in requests:
            tags = dict(request.tags)
            if request.partition_key:
                tags["dagster/partition"] = request.partition_key
            run = _create_run(instance=instance, code_location=location, remote_repo=repository, remote_job=job,
                              run_config={}, tags=tags, op_selection=None, run_id=None)  # fmt: skip
            instance.submit_run(run.run_id, workspace)


def backfill_group(stack: Any, instance: Any, docs: list[Path], mode: str, timeout: float) -> dict[str, Any]:
    """Register ``docs`` as stale uploads, let the nightly schedule request their runs, submit them and
    wait until every upload is stored again. Wall time, stack CPU, runs."""
    import dagster as dg
    from sqlalchemy import func, select

    from timetable_platform.assets.partitions import EXTRACTOR_VERSION, UPLOADS_PARTITIONS
    from timetable_platform.schedules.backfill import stale_and_failed_backfill_schedule
    from timetable_platform.store import repository
    from timetable_platform.store.models import Upload

    store = stack.store()
    ids = []
    for path in docs:
        upload_id = stack.register(path.read_bytes(), path.name, mode=mode)
        with store.session() as session:  # as if extracted earlier by an older extractor
            repository.mark_succeeded(session, upload_id, run_id="earlier", extractor_version="bench-old")
        ids.append(upload_id)
    assert UPLOADS_PARTITIONS.name is not None
    instance.add_dynamic_partitions(UPLOADS_PARTITIONS.name, ids)
    context = dg.build_schedule_context(
        instance=instance, resources={"store": store}, scheduled_execution_time=datetime.now(UTC)
    )
    requests = stale_and_failed_backfill_schedule(context)
    assert isinstance(requests, list), requests
    began = time.monotonic()
    began_at = datetime.now(UTC)
    cpu_before = stack.sample_cpu()
    known_runs = {r.dagster_run.run_id for r in instance.get_run_records()}
    submit_schedule_runs(stack, instance, requests)

    def counts() -> dict[str, int]:
        with store.session() as session:
            done = session.scalar(
                select(func.count()).where(
                    Upload.id.in_(ids),
                    Upload.status.in_(("succeeded", "needs_review")),  # needs_review: extracted, entries stored
                    Upload.extractor_version == EXTRACTOR_VERSION,
                )
            )
            failed = session.scalar(select(func.count()).where(Upload.id.in_(ids), Upload.status == "failed"))
        return {"done": int(done or 0), "failed": int(failed or 0)}

    state = counts()
    while state["done"] + state["failed"] < len(ids) and time.monotonic() < began + timeout:
        time.sleep(0.5)
        stack.sample_cpu()
        state = counts()
    with store.session() as session:
        last = session.scalar(select(func.max(Upload.finished_at)).where(Upload.id.in_(ids)))
    elapsed = (last - began_at).total_seconds() if last else time.monotonic() - began
    time.sleep(2)  # the run's end event (and its CPU) lands just after its last upload is stored
    cpu = stack.sample_cpu() - cpu_before
    runs = [r for r in instance.get_run_records() if r.dagster_run.run_id not in known_runs]
    return {"documents": len(ids), "done": state["done"], "failed": state["failed"], "elapsed": elapsed,
            "cpu": cpu, "runs": len(runs)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-format", type=int, default=6, help="documents of each format in the mix")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "document_ai", "fallback"])
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds for one format's backfill")
    parser.add_argument("--note", default="", help="added to the README line, e.g. 'machine shared'")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="tt-backfill-"))
    started_load = machine()
    groups: dict[str, list[Path]] = {}
    by_format: dict[str, dict[str, Any]] = {}
    try:
        for path, label in mixed_documents(workdir / "docs", 48, args.seed):
            group = groups.setdefault(label, [])
            if path not in group:
                group.append(path)
        with running_stack(workdir, mode=args.mode) as stack:
            instance = stack.instance()  # before the daemon: two processes creating its storage at once race
            stack.start_daemon()
            time.sleep(5)  # first ticks done; then what the idle stack (daemon ticking sensors) burns per second
            idle_before, idle_began = stack.sample_cpu(), time.monotonic()
            time.sleep(15)
            idle_rate = (stack.sample_cpu() - idle_before) / (time.monotonic() - idle_began)
            for label, paths in sorted(groups.items()):
                docs = [paths[i % len(paths)] for i in range(args.per_format)]
                by_format[label] = backfill_group(stack, instance, docs, args.mode, args.timeout)
                row = by_format[label]
                print(f"{label:<8} {row['done']}/{row['documents']} in {row['elapsed']:.1f} s, CPU {row['cpu']:.1f} s, "
                      f"{row['runs']} run(s), {row['failed']} failed", flush=True)  # fmt: skip
            instance.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    body = report(args, by_format, started_load, idle_rate)
    print(body)
    if not args.no_readme:
        replace_section("Dagster backfill throughput", body)
    return 0


def report(args: argparse.Namespace, by_format: dict[str, dict[str, Any]], started_load: str, idle_rate: float) -> str:
    from timetable_platform.assets.partitions import MAX_PARTITIONS_PER_RUN

    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {started_load}, load {load_average():.1f} at the end"
        f"{', ' + args.note if args.note else ''}, by `bench/backfill.py --per-format {args.per_format} --seed "
        f"{args.seed} --mode {args.mode}`.",
        f"The mix of `bench/pipeline_latency.py` (LY real documents, generated photos, scans, PDF, DOCX, PNG, XLSX), "
        f"{args.per_format} documents of each format registered as stale uploads, one format after the other; for each, "
        f"the nightly `stale_and_failed_backfill` schedule's ranged runs (up to {MAX_PARTITIONS_PER_RUN} uploads, "
        "`timetable/lane=backfill`) submitted to the run queue and launched by `dagster-daemon` (backfill lane: one "
        "run at a time). Documents per minute = documents / (submission -> last upload stored); CPU = every process "
        "of the stack (daemon, code server, run worker, Tesseract) from /proc over the same interval. "
        "Target: >= 100 documents per minute for the mix on 2 cores.",
        "",
        "| format | documents | runs | wall s | documents / minute | CPU s / document | CPU s / document without "
        "the idle stack | failed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    total = {"documents": 0, "done": 0, "failed": 0, "elapsed": 0.0, "cpu": 0.0, "runs": 0}
    for label, row in sorted(by_format.items()):
        finished = row["done"] + row["failed"]
        lines.append(
            f"| {label} | {row['documents']} | {row['runs']} | {row['elapsed']:.1f} | "
            f"{finished / (row['elapsed'] / 60) if row['elapsed'] > 0 else float('nan'):.0f} | "
            f"{row['cpu'] / max(finished, 1):.2f} | "
            f"{(row['cpu'] - idle_rate * row['elapsed']) / max(finished, 1):.2f} | {row['failed']} |"
        )
        for key in total:
            total[key] += row[key]
    finished = total["done"] + total["failed"]
    if finished:
        lines.append(
            f"| **mix** | {total['documents']} | {total['runs']} | {total['elapsed']:.1f} | "
            f"{finished / (total['elapsed'] / 60):.0f} | {total['cpu'] / finished:.2f} | "
            f"{(total['cpu'] - idle_rate * total['elapsed']) / finished:.2f} | {total['failed']} |"
        )
        lines += [
            "",
            f"The idle stack (the daemon evaluating its sensors every few seconds, the code server) used {idle_rate:.2f} "
            "CPU s per second before the backfill; the column without it subtracts that rate over each format's wall "
            "time. What remains per document still carries each run's fixed cost (a process, the definitions "
            "imported, the run's start and end events), shared by the documents of the run: with few documents per "
            "format it dominates the digital formats (DOCX, XLSX, PDF need about 0.1-0.3 CPU s of extraction each, "
            "see Extraction accuracy); raise `--per-format` to spread it.",
            "",
            f"On 2 otherwise idle cores the mix's CPU ({total['cpu'] / finished:.2f} s per document) would allow about "
            f"{2 * 60 * finished / total['cpu']:.0f} documents per minute if the backfill used both cores; the backfill "
            "lane runs one run (one process, one step at a time) at once, so it uses about one.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

