"""Nightly backfill: re-run uploads extracted by an older extractor version, and failed ones.

Runs are ranged (up to ``MAX_PARTITIONS_PER_RUN`` uploads each) and tagged ``timetable/lane=backfill``;
dagster.yaml caps concurrent backfill runs so live uploads always find a free slot.
"""

import dagster as dg

from timetable_platform.assets import upload_job
from timetable_platform.assets.partitions import EXTRACTOR_VERSION
from timetable_platform.resources import StoreResource
from timetable_platform.sensors.backfill_requests import backfill_run_requests

MAX_UPLOADS_PER_NIGHT = 5_000
MAX_ATTEMPTS = 3  # a document that failed this often waits for a person


def stale_or_failed_upload_ids(store: StoreResource, *, limit: int = MAX_UPLOADS_PER_NIGHT) -> list[str]:
    from timetable_platform.store import repository

    with store.session() as session:
        uploads = repository.stale_or_failed_uploads(
            session, extractor_version=EXTRACTOR_VERSION, limit=limit, max_attempts=MAX_ATTEMPTS
        )
        return [u.id for u in uploads]


@dg.schedule(
    name="stale_and_failed_backfill",
    job=upload_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night: re-materialise uploads whose extractor version is stale or whose last run failed.",
)
def stale_and_failed_backfill_schedule(
    context: dg.ScheduleEvaluationContext, store: StoreResource
) -> list[dg.RunRequest] | dg.SkipReason:
    upload_ids = stale_or_failed_upload_ids(store)
    if not upload_ids:
        return dg.SkipReason("no stale or failed uploads")
    stamp = (
        context.scheduled_execution_time.strftime("%Y%m%dT%H%M")
        if context.scheduled_execution_time
        else "now"
    )
    return backfill_run_requests(
        context.instance, upload_ids, reason="stale_or_failed", run_key_prefix=f"nightly-{stamp}"
    )
