"""Backfill throughput on what teachers upload: documents per minute and CPU seconds per document by format.

The mix of ``bench/pipeline_latency.py`` (LY real documents; photos, scans, PDF, DOCX, PNG, XLSX from
``tests.corpusgen``), one format after the other: registered as uploads already extracted by an older
extractor version (stale), the real ``stale_and_failed_backfill`` schedule evaluated, its run
requests submitted to the run queue as ``dagster job launch`` does; the real ``dagster-daemon``
launches them under dagster.yaml's limits (backfill lane: two runs at a time). Writes the "Dagster
backfill throughput" section of bench/README.md.

    .venv/bin/python bench/backfill.py [--per-format 6] [--mode hybrid] [--passes 2] [--no-layout-reuse] [--no-readme]
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


def register_stale(stack: Any, instance: Any, docs: list[Path], mode: str) -> list[str]:
    """``docs`` as uploads extracted earlier by an older extractor (nothing of theirs stored)."""
    from timetable_platform.assets.partitions import UPLOADS_PARTITIONS

    ids = [stack.register(path.read_bytes(), path.name, mode=mode) for path in docs]
    mark_stale(stack, ids)
    assert UPLOADS_PARTITIONS.name is not None
    instance.add_dynamic_partitions(UPLOADS_PARTITIONS.name, ids)
    return ids


def mark_stale(stack: Any, ids: list[str]) -> None:
    """As if extracted by an older extractor version: the nightly schedule's business again."""
    from timetable_platform.store import repository

    with stack.store().session() as session:
        for upload_id in ids:
            repository.mark_succeeded(session, upload_id, run_id="earlier", extractor_version="bench-old")


def backfill_group(stack: Any, instance: Any, ids: list[str], timeout: float) -> dict[str, Any]:
    """Let the nightly schedule request runs for the stale uploads ``ids``, submit them and wait until
    every upload is stored again. Wall time, stack CPU, runs, and how many reused a stored layout."""
    import dagster as dg
    from sqlalchemy import func, select

    from timetable_platform.assets.partitions import EXTRACTOR_VERSION
    from timetable_platform.schedules.backfill import stale_and_failed_backfill_schedule
    from timetable_platform.store.models import Upload

    store = stack.store()
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
            "cpu": cpu, "runs": len(runs), "reused": layouts_reused(instance, runs)}  # fmt: skip


def layouts_reused(instance: Any, runs: list[Any]) -> int:
    """Uploads whose layout step interpreted a stored layout instead of reading (from the runs' metadata)."""
    from dagster import AssetKey, DagsterEventType, EventRecordsFilter

    count = 0
    run_ids = {r.dagster_run.run_id for r in runs}
    records = instance.get_event_records(
        EventRecordsFilter(DagsterEventType.ASSET_MATERIALIZATION, asset_key=AssetKey("document_ai_extraction")),
        limit=10_000,
    )
    seen: set[str] = set()
    for record in records:
        if record.run_id not in run_ids:
            continue
        metadata = record.asset_materialization.metadata if record.asset_materialization else {}
        if "layout_reused" in metadata:  # a single-upload run
            count += bool(metadata["layout_reused"].value)
        elif "per_upload" in metadata and record.run_id not in seen:  # a ranged run: once per run
            seen.add(record.run_id)
            count += sum(bool(f.get("layout_reused")) for f in metadata["per_upload"].value.values())
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-format", type=int, default=6, help="documents of each format in the mix")
    parser.add_argument("--passes", type=int, default=2, choices=[1, 2],
                        help="2: each format backfilled again once stored (its stored layouts reused)")
    parser.add_argument("--no-layout-reuse", action="store_true", help="TIMETABLE_LAYOUT_REUSE=false")
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
    by_format: dict[int, dict[str, dict[str, Any]]] = {}
    try:
        for path, label in mixed_documents(workdir / "docs", 48, args.seed):
            group = groups.setdefault(label, [])
            if path not in group:
                group.append(path)
        with running_stack(workdir, mode=args.mode) as stack:
            if args.no_layout_reuse:
                stack.env["TIMETABLE_LAYOUT_REUSE"] = "false"
            instance = stack.instance()  # before the daemon: two processes creating its storage at once race
            stack.start_daemon()
            time.sleep(5)  # first ticks done; then what the idle stack (daemon ticking sensors) burns per second
            idle_before, idle_began = stack.sample_cpu(), time.monotonic()
            time.sleep(15)
            idle_rate = (stack.sample_cpu() - idle_before) / (time.monotonic() - idle_began)
            for label, paths in sorted(groups.items()):
                docs = [paths[i % len(paths)] for i in range(args.per_format)]
                ids = register_stale(stack, instance, docs, args.mode)
                for number in range(1, args.passes + 1):
                    if number > 1:
                        mark_stale(stack, ids)
                    row = by_format.setdefault(number, {})[label] = backfill_group(stack, instance, ids, args.timeout)
                    print(f"pass {number} {label:<8} {row['done']}/{row['documents']} in {row['elapsed']:.1f} s, CPU "
                          f"{row['cpu']:.1f} s, {row['runs']} run(s), {row['reused']} layouts reused, "
                          f"{row['failed']} failed", flush=True)  # fmt: skip
            instance.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    body = report(args, by_format, started_load, idle_rate)
    print(body)
    if not args.no_readme:
        replace_section("Dagster backfill throughput", body)
    return 0


def _table(rows: dict[str, dict[str, Any]], idle_rate: float) -> tuple[list[str], dict[str, Any]]:
    lines = [
        "| format | documents | runs | wall s | documents / minute | CPU s / document | CPU s / document without "
        "the idle stack | layouts reused | failed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    total = {"documents": 0, "done": 0, "failed": 0, "elapsed": 0.0, "cpu": 0.0, "runs": 0, "reused": 0}
    for label, row in sorted(rows.items()):
        finished = row["done"] + row["failed"]
        lines.append(
            f"| {label} | {row['documents']} | {row['runs']} | {row['elapsed']:.1f} | "
            f"{finished / (row['elapsed'] / 60) if row['elapsed'] > 0 else float('nan'):.0f} | "
            f"{row['cpu'] / max(finished, 1):.2f} | "
            f"{(row['cpu'] - idle_rate * row['elapsed']) / max(finished, 1):.2f} | {row['reused']} | {row['failed']} |"
        )
        for key in total:
            total[key] += row[key]
    finished = total["done"] + total["failed"]
    if finished:
        lines.append(
            f"| **mix** | {total['documents']} | {total['runs']} | {total['elapsed']:.1f} | "
            f"{finished / (total['elapsed'] / 60):.0f} | {total['cpu'] / finished:.2f} | "
            f"{(total['cpu'] - idle_rate * total['elapsed']) / finished:.2f} | {total['reused']} | {total['failed']} |"
        )
    total["finished"] = finished
    return lines, total


def report(
    args: argparse.Namespace, by_pass: dict[int, dict[str, dict[str, Any]]], started_load: str, idle_rate: float
) -> str:
    from timetable_platform.assets.partitions import BACKFILL_RUNS_AT_ONCE, MAX_PARTITIONS_PER_RUN

    reuse = "off (`--no-layout-reuse`)" if args.no_layout_reuse else "on"
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {started_load}, load {load_average():.1f} at the end"
        f"{', ' + args.note if args.note else ''}, by `bench/backfill.py --per-format {args.per_format} --seed "
        f"{args.seed} --mode {args.mode} --passes {args.passes}{' --no-layout-reuse' if args.no_layout_reuse else ''}`.",
        f"The mix of `bench/pipeline_latency.py` (LY real documents, generated photos, scans, PDF, DOCX, PNG, XLSX), "
        f"{args.per_format} documents of each format registered as stale uploads, one format after the other; for each, "
        f"the nightly `stale_and_failed_backfill` schedule's ranged runs (up to {MAX_PARTITIONS_PER_RUN} uploads, split "
        f"so that {BACKFILL_RUNS_AT_ONCE} run at once, `timetable/lane=backfill`) submitted to the run queue and launched "
        "by `dagster-daemon` under dagster.yaml's limits. Documents per minute = documents / (submission -> last upload "
        "stored); CPU = every process of the stack (daemon, code server, run workers, Tesseract) from /proc over the "
        f"same interval. Layout reuse (`TIMETABLE_LAYOUT_REUSE`): {reuse}. Target: >= 100 documents per minute for the "
        "mix on 2 cores.",
    ]
    totals: dict[int, dict[str, Any]] = {}
    for number, rows in sorted(by_pass.items()):
        title = (
            "First pass: every document read (no stored layout yet), as after a reader change."
            if number == 1
            else "Second pass: the same uploads made stale again and backfilled again; their layouts, stored by the "
            "first pass with the same readers, are interpreted again instead of read"
            + (" (reuse off: read again)." if args.no_layout_reuse else ".")
        )
        table, totals[number] = _table(rows, idle_rate)
        lines += ["", title, "", *table]
    lines += [
        "",
        f"The idle stack (the daemon evaluating its sensors, the code server) used {idle_rate:.2f} CPU s per second "
        "before the backfill; the column without it subtracts that rate over each format's wall time. What remains per "
        "document still carries each run's fixed cost (a process, the definitions imported, the run's start and end "
        "events), shared by the documents of the run.",
    ]
    first = totals.get(1)
    if first and first["finished"]:
        per_doc = first["cpu"] / first["finished"]
        lines += [
            "",
            f"Bound on 2 cores: the first pass's mix costs {per_doc:.2f} CPU s per document, so 2 fully used cores "
            f"finish at most 2 x 60 / {per_doc:.2f} = {120 / per_doc:.0f} documents per minute"
            + (
                f"; the second pass {totals[2]['cpu'] / totals[2]['finished']:.2f} CPU s, at most "
                f"{120 * totals[2]['finished'] / totals[2]['cpu']:.0f} per minute."
                if 2 in totals and totals[2]["finished"] and totals[2]["cpu"] > 0
                else "."
            ),
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

