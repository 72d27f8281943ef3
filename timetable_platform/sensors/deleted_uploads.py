"""``deleted_uploads_sensor``: an erased upload's Dagster partition and runs go too.

The API never imports Dagster, so it cannot delete them itself; it records each erasure (DELETE or
retention) as an ``upload.deleted`` audit event, and this sensor follows those events (cursor: the
last event id handled). For each erased upload it deletes the runs of that upload alone (tagged with
its upload id, or with its partition: live runs and single-upload backfills), with their event logs,
and its ``uploads`` partition. Ranged runs, which cover many uploads (backfills, and live runs shared
by the uploads of a burst), are kept: Dagster's metadata holds figures and ids only, never document
text (docs/security.md). An upload whose run is still going (its own, or a shared live run naming
it) is handled once the run ends (the run's steps stop writing for a deleted upload).
"""

from __future__ import annotations

import dagster as dg
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, RunsFilter
from dagster._core.storage.tags import PARTITION_NAME_TAG

from timetable_platform.assets.partitions import LANE_TAG, LIVE_LANE, UPLOAD_ID_TAG, UPLOADS_PARTITIONS
from timetable_platform.resources import StoreResource
from timetable_platform.sensors.upload_queue import batch_generation_tag

PARTITIONS_NAME = UPLOADS_PARTITIONS.name or "uploads"
TICK_SECONDS = 30


def upload_run_ids(instance: dg.DagsterInstance, upload_id: str, *, in_progress: bool = False) -> set[str]:
    """Runs of this one upload: tagged with its id (queue sensor) or its partition (single-upload backfill)."""
    statuses = list(IN_PROGRESS_RUN_STATUSES) if in_progress else None
    found: set[str] = set()
    for tags in ({UPLOAD_ID_TAG: upload_id}, {PARTITION_NAME_TAG: upload_id}):
        found.update(instance.get_run_ids(filters=RunsFilter(tags=tags, statuses=statuses)))
    if in_progress:  # a live run shared by a burst's uploads names each one's generation
        shared = instance.get_runs(filters=RunsFilter(tags={LANE_TAG: LIVE_LANE}, statuses=statuses))
        found.update(r.run_id for r in shared if batch_generation_tag(upload_id) in r.tags)
    return found


@dg.sensor(
    name="deleted_uploads_sensor",
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Deletes the runs (with their events) and the `uploads` partition of every erased upload "
    "(from the audit log's upload.deleted events).",
)
def deleted_uploads_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    from timetable_platform.store import audit

    after = int(context.cursor) if context.cursor else 0
    with store.session() as session:
        events = audit.deleted_uploads_after(session, after)
    instance = context.instance
    to_delete: list[str] = []
    runs_deleted = 0
    cursor = after
    for event_id, upload_id in events:
        if upload_run_ids(instance, upload_id, in_progress=True):
            break  # try again next tick, from this event on
        for run_id in upload_run_ids(instance, upload_id):
            instance.delete_run(run_id)  # the run, its tags and its whole event log
            runs_deleted += 1
        if instance.has_dynamic_partition(PARTITIONS_NAME, upload_id):
            to_delete.append(upload_id)
        cursor = event_id
    if to_delete or runs_deleted:
        context.log.info(f"erased uploads: deleted {runs_deleted} runs and {len(to_delete)} partitions")
    return dg.SensorResult(
        cursor=str(cursor),
        dynamic_partitions_requests=[UPLOADS_PARTITIONS.build_delete_request(to_delete)] if to_delete else [],
    )
