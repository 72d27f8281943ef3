"""Run status sensors: keep ``uploads.status`` in step with the Dagster runs that process them.

The assets already mark each upload running / succeeded / failed as they go (exact, in-run);
these sensors cover what a run cannot say about itself: it was cancelled, crashed, or failed
before its first step. They also queue completion callbacks once an upload is final.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
    RUN_FAILURE_REASON_TAG,
    WILL_RETRY_TAG,
)
from sqlalchemy import select

from timetable_platform.assets.partitions import UPLOADS_PARTITIONS
from timetable_platform.resources import StoreResource

FINAL = ("succeeded", "needs_review", "failed")
# Runs an upload gets when runs keep failing for infrastructure reasons (then it fails, with the reason).
MAX_RUN_ATTEMPTS = 4
# Bookkeeping, not on the upload's critical path (the assets set statuses themselves); every tick
# costs the daemon and code server CPU that live runs on a small machine would rather have.
RUN_STATUS_TICK_SECONDS = 10


def uploads_of_run(instance: dg.DagsterInstance, run: dg.DagsterRun, store: StoreResource) -> list[str]:
    """The uploads a run covers: its partition or partition range, plus rows it marked itself."""
    from timetable_platform.store.models import Upload

    ids: list[str] = []
    tags = run.tags
    if PARTITION_NAME_TAG in tags:
        ids.append(tags[PARTITION_NAME_TAG])
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if start and end:
        assert UPLOADS_PARTITIONS.name is not None
        order = list(instance.get_dynamic_partitions(UPLOADS_PARTITIONS.name))
        if start in order and end in order:
            ids.extend(order[order.index(start) : order.index(end) + 1])
    with store.session() as session:
        ids.extend(session.scalars(select(Upload.id).where(Upload.dagster_run_id == run.run_id)))
    return list(dict.fromkeys(ids))


def run_created_at(instance: dg.DagsterInstance, run_id: str) -> datetime | None:
    record = instance.get_run_record_by_id(run_id)
    return record.create_timestamp.astimezone(UTC) if record is not None else None


def settle_run(
    context: dg.RunStatusSensorContext,
    store: StoreResource,
    *,
    error: str | None,
    merged_selected: bool = True,
    infrastructure: bool = False,
) -> None:
    """``record_finished`` for the run a status sensor was woken for, when it processes uploads."""
    run = context.dagster_run
    if _is_upload_run(run):
        record_finished(
            store,
            run.run_id,
            uploads_of_run(context.instance, run, store),
            error=error,
            merged_selected=merged_selected,
            run_created=run_created_at(context.instance, run.run_id),
            infrastructure=infrastructure,
        )


def _is_upload_run(run: dg.DagsterRun) -> bool:
    return (
        run.job_name == "process_upload"
        or PARTITION_NAME_TAG in run.tags
        or (ASSET_PARTITION_RANGE_START_TAG in run.tags)
    )


def record_started(
    store: StoreResource, run_id: str, upload_ids: Sequence[str], *, run_created: datetime | None = None
) -> int:
    """Mark the run's ``queued`` uploads running. An upload queued again after this run was created
    (reprocessed, or re-queued after this very run failed: status sensors can see a run's start
    late, after a daemon restart) waits for its own new run and is left alone."""
    from timetable_platform.store import repository

    changed = 0
    with store.session() as session:
        for upload_id in upload_ids:
            upload = repository.get_upload(session, upload_id)
            # Only queued uploads: the run's own first step may already have moved it further.
            if upload is None or str(upload.status) != "queued":
                continue
            if run_created is not None and upload.updated_at.astimezone(UTC) > run_created:
                continue
            repository.mark_running(session, upload_id, run_id=run_id)
            changed += 1
    return changed


def record_finished(
    store: StoreResource,
    run_id: str,
    upload_ids: Sequence[str],
    *,
    error: str | None,
    merged_selected: bool = True,
    run_created: datetime | None = None,
    infrastructure: bool = False,
) -> int:
    """After a run ends: uploads it left unfinished fail with ``error``; final ones get their callback.

    A successful run that was never meant to store a timetable (``merged_selected`` False: a data
    engineer re-materialised upstream assets only) gives back its earlier ``succeeded`` or
    ``needs_review`` where a result exists.
    An upload queued again after this run was created (a reprocess) belongs to a later run: it is
    left alone, so a late tick for the old run cannot fail the new request. ``infrastructure``: the
    run failed for reasons outside the document (its worker died or never started); its unfinished
    uploads are queued again (a new run) while they have had fewer than ``MAX_RUN_ATTEMPTS`` runs,
    and only then fail, as infrastructure failures (dead-lettered with the reason).
    """
    from timetable_platform.store import repository
    from timetable_platform.store.blobs import result_key
    from timetable_platform.store.callbacks import enqueue_completion_callback
    from timetable_platform.store.queue import upload_message

    changed = 0
    requeued: list[tuple[str, str]] = []
    with store.session() as session:
        for upload_id in upload_ids:
            upload = repository.get_upload(session, upload_id)
            if upload is None:
                continue
            status = str(upload.status)
            requeued_later = (
                status == "queued" and run_created is not None and upload.updated_at.astimezone(UTC) > run_created
            )
            if requeued_later:
                continue
            unfinished = status == "queued" or (status == "running" and upload.dagster_run_id == run_id)
            if (
                unfinished
                and error is None
                and not merged_selected
                and store.blobs.exists(result_key(upload_id))
            ):
                repository.mark_succeeded(session, upload_id)
                changed += 1
                continue
            reason = error or "the run ended without materialising merged_timetable"
            if unfinished and infrastructure:
                started = status == "running"
                tried = upload.attempts + (0 if started else 1)
                if tried < MAX_RUN_ATTEMPTS:
                    repository.requeue_after_infrastructure_failure(
                        session, upload_id, reason=error or "the run failed", started=started
                    )
                    requeued.append((upload_id, upload.tenant))
                    changed += 1
                    continue
                reason = f"infrastructure_failure: {error or 'the run failed'} (gave up after {tried} runs)"
            if unfinished:
                repository.mark_failed(session, upload_id, error=reason, run_id=run_id)
                changed += 1
                status = "failed"
            if status in FINAL and upload.dagster_run_id == run_id:
                enqueue_completion_callback(session, upload_id)
    # After the commit: a message for a row not yet queued would be dropped as stale by the queue sensor.
    for upload_id, tenant in requeued:
        store.queue.send(upload_message(upload_id, tenant))
    return changed


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.STARTED,
    name="upload_run_started_sensor",
    minimum_interval_seconds=RUN_STATUS_TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks the uploads of a started run as running.",
)
def upload_run_started_sensor(context: dg.RunStatusSensorContext, store: StoreResource) -> None:
    run = context.instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
    if _is_upload_run(run) and not run.is_finished:  # a start seen late, after the run ended, changes nothing
        record_started(
            store,
            run.run_id,
            uploads_of_run(context.instance, run, store),
            run_created=run_created_at(context.instance, run.run_id),
        )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="upload_run_succeeded_sensor",
    minimum_interval_seconds=RUN_STATUS_TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Settles the uploads of a successful run and queues their completion callbacks.",
)
def upload_run_succeeded_sensor(context: dg.RunStatusSensorContext, store: StoreResource) -> None:
    selection = context.dagster_run.asset_selection
    merged_selected = selection is None or dg.AssetKey("merged_timetable") in selection
    settle_run(context, store, error=None, merged_selected=merged_selected)


def _failure_message(context: dg.RunFailureSensorContext) -> str:
    messages = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        text = data.user_failure_data.description if data.user_failure_data else None
        if not text and data.error is not None:
            text = data.error.message.strip()
        messages.append(f"{event.step_key}: {text or 'failed'}")
    return "; ".join(messages) or (context.failure_event.message or "the run failed")


@dg.run_failure_sensor(
    name="upload_run_failed_sensor",
    minimum_interval_seconds=RUN_STATUS_TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks the uploads a failed run left unfinished as failed, with the error.",
)
def upload_run_failed_sensor(context: dg.RunFailureSensorContext, store: StoreResource) -> None:
    """A failed step is final: its uploads fail with the step's reason (a document failure, or an
    infrastructure error the step already retried with backoff). A run that failed around its steps
    (worker killed or out of memory, never started, its code server gone) is an infrastructure
    failure: its uploads are queued again for a new run, up to ``MAX_RUN_ATTEMPTS`` runs. A run that
    Dagster's own run retries will re-execute is left to them."""
    run = context.instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
    if run.tags.get(WILL_RETRY_TAG) == "true":
        context.log.info(f"run {run.run_id} failed and will be retried by Dagster; its uploads stay running")
        return
    step_failure = run.tags.get(RUN_FAILURE_REASON_TAG) == "STEP_FAILURE"
    settle_run(context, store, error=_failure_message(context), infrastructure=not step_failure)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.CANCELED,
    name="upload_run_canceled_sensor",
    minimum_interval_seconds=RUN_STATUS_TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks the uploads a cancelled run left unfinished as failed.",
)
def upload_run_canceled_sensor(context: dg.RunStatusSensorContext, store: StoreResource) -> None:
    settle_run(context, store, error="the run was cancelled")
