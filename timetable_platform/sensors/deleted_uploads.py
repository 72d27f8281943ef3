"""``deleted_uploads_sensor``: an erased upload's Dagster partition goes too.

The API never imports Dagster, so it cannot delete the partition itself; it records each erasure
as an ``upload.deleted`` audit event, and this sensor follows those events (cursor: the last
event id handled). A partition whose live run is still going is kept until the run ends (the
run's steps stop writing for a deleted upload), so no run works on a partition that is gone.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, RunsFilter

from timetable_platform.assets.partitions import UPLOAD_ID_TAG, UPLOADS_PARTITIONS
from timetable_platform.resources import StoreResource

PARTITIONS_NAME = UPLOADS_PARTITIONS.name or "uploads"
TICK_SECONDS = 30


def _run_in_progress(instance: dg.DagsterInstance, upload_id: str) -> bool:
    filters = RunsFilter(tags={UPLOAD_ID_TAG: upload_id}, statuses=list(IN_PROGRESS_RUN_STATUSES))
    return bool(instance.get_run_ids(filters=filters, limit=1))


@dg.sensor(
    name="deleted_uploads_sensor",
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Deletes the `uploads` partition of every erased upload (from the audit log's upload.deleted events).",
)
def deleted_uploads_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    from timetable_platform.store import audit

    after = int(context.cursor) if context.cursor else 0
    with store.session() as session:
        events = audit.deleted_uploads_after(session, after)
    to_delete: list[str] = []
    cursor = after
    for event_id, upload_id in events:
        if context.instance.has_dynamic_partition(PARTITIONS_NAME, upload_id):
            if _run_in_progress(context.instance, upload_id):
                break  # try again next tick, from this event on
            to_delete.append(upload_id)
        cursor = event_id
    if to_delete:
        context.log.info(f"deleting {len(to_delete)} partitions of erased uploads")
    return dg.SensorResult(
        cursor=str(cursor),
        dynamic_partitions_requests=[UPLOADS_PARTITIONS.build_delete_request(to_delete)] if to_delete else [],
    )
