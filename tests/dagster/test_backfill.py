"""The nightly backfill: stale and failed uploads re-run in ranged runs, everything else left alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from tests.dagster.conftest import Platform
from timetable_platform.assets.partitions import BACKFILL_LANE, EXTRACTOR_VERSION, LANE_TAG
from timetable_platform.schedules import backfill
from timetable_platform.sensors.backfill_requests import contiguous_chunks, run_size
from timetable_platform.store import repository
from timetable_platform.store.models import Upload


def test_contiguous_chunks_split_at_gaps_and_size() -> None:
    order = [f"p{i}" for i in range(10)]
    assert contiguous_chunks(["p5", "p1", "p2", "p3", "p9", "p8", "nope"], order, max_per_run=2) == [
        ["p1", "p2"],
        ["p3"],
        ["p5"],
        ["p8", "p9"],
    ]
    assert contiguous_chunks([], order) == []


def test_a_backfill_is_split_so_that_two_runs_work_at_once() -> None:
    """One run works on one core: two runs at once use both, but no run is made smaller than 25 uploads
    (each costs a few CPU seconds of its own)."""
    assert run_size(10) == 25 and run_size(49) == 25  # one run of 10; runs of 25 and 24
    assert run_size(60) == 30 and run_size(61) == 31  # two runs
    assert run_size(150) == 75 and run_size(1000) == 100  # two runs; then at most 100 each
    assert run_size(30, max_per_run=10) == 10


def test_nightly_schedule_reruns_stale_and_failed_uploads_in_ranges(platform: Platform, small_timetable: Path) -> None:
    content = small_timetable.read_bytes()
    ids = [platform.register(content, filename=f"{name}.csv") for name in "abcde"]
    stale, current, stale_too, failed, given_up = ids
    platform.instance.add_dynamic_partitions("uploads", ids)
    first = platform.materialize(tags={ASSET_PARTITION_RANGE_START_TAG: ids[0], ASSET_PARTITION_RANGE_END_TAG: ids[-1]})
    assert first.success
    queued = platform.register(content + b"\n", filename="queued.csv")  # never run: not the schedule's business
    with platform.store.session() as session:
        for upload_id in (stale, stale_too):
            session.get(Upload, upload_id).extractor_version = "2020.01.01.0"  # type: ignore[union-attr]
        repository.mark_failed(session, failed, error="simulated outage")
        repository.mark_failed(session, given_up, error="poison document")
        session.get(Upload, given_up).attempts = backfill.MAX_ATTEMPTS  # type: ignore[union-attr]

    context = dg.build_schedule_context(
        instance=platform.instance,
        resources={"store": platform.store},
        scheduled_execution_time=datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
    )
    requests = backfill.stale_and_failed_backfill_schedule(context)
    assert isinstance(requests, list)
    covered = []
    for request in requests:
        assert request.tags[LANE_TAG] == BACKFILL_LANE
        if request.partition_key:
            covered.append([request.partition_key])
        else:
            covered.append([request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[ASSET_PARTITION_RANGE_END_TAG]])
    # a is alone (b between is current); c and d are neighbours: one ranged run.
    assert covered == [[stale], [stale_too, failed]]

    runs = [platform.launch(r) for r in requests]
    assert all(r.success for r in runs)
    for upload_id in (stale, stale_too, failed):
        upload = platform.upload(upload_id)
        assert str(upload.status) == "succeeded" and upload.extractor_version == EXTRACTOR_VERSION
        assert upload.dagster_run_id in {r.run_id for r in runs}
    assert platform.upload(current).dagster_run_id == first.run_id
    assert str(platform.upload(given_up).status) == "failed"
    assert str(platform.upload(queued).status) == "queued"
    assert isinstance(backfill.stale_and_failed_backfill_schedule(context), dg.SkipReason)
