"""``upload_queue_sensor``: queue messages in, one run per enqueueing of an upload out.

An upload is enqueued when it is submitted and again each time it is reprocessed. Each enqueueing
is a *generation*, named by the row's ``updated_at`` while its status is ``queued``: the row becomes
``queued`` in one transaction (submit, or reprocess from a final status) and nothing writes a
queued row again until a run marks it ``running``. A message carries no generation; it means
"make sure the upload's current generation has a run".

Why a message is never lost and never runs twice:
1. A tick receives messages (they become invisible for ``VISIBILITY_SECONDS``) and, for a
   ``queued`` upload whose generation has no run yet, returns a run request with
   ``run_key`` = ``{upload_id}:{generation}``, tagged with both. It deletes NOTHING for those
   messages: the request is committed by the daemon only after the tick returns.
2. If the daemon dies before committing, the message becomes visible again and the next tick
   requests the same run (same key) again.
3. Once a run tagged with the upload id and generation exists in the instance, the run can no
   longer be lost; the tick that next sees the message deletes it without a new request. Should
   a run exist while the tag lookup misses it, the daemon still drops a second request with the
   same ``run_key``.
4. An upload no longer ``queued`` has a run that started (or already finished): the message is
   stale and is deleted. A later reprocess makes a new generation, hence a new key and a new run.
Malformed messages and unknown uploads go to the dead-letter queue at once.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

import dagster as dg
from dagster._core.storage.dagster_run import RunsFilter

from timetable_platform.assets import upload_job
from timetable_platform.assets.partitions import (
    GENERATION_TAG,
    LANE_TAG,
    LIVE_LANE,
    UPLOAD_ID_TAG,
    UPLOADS_PARTITIONS,
)
from timetable_platform.resources import StoreResource

if TYPE_CHECKING:
    from timetable_platform.store.models import Upload

MAX_MESSAGES_PER_TICK = 10
VISIBILITY_SECONDS = 30  # how long a requested-but-unconfirmed message stays hidden
# Dagster's sensor daemon evaluates sensors in a loop of 5 s (MIN_INTERVAL_LOOP_TIME, not configurable), so
# this sensor ticks every TICK_SECONDS. Its minimum interval stays below the loop: at exactly 5 s a loop that
# comes back a few milliseconds early finds the sensor not yet due, and it ticks every 10 s (measured by
# tests/e2e/test_separate_processes.py against the figure in docs/operations.md).
TICK_SECONDS = 5
MINIMUM_INTERVAL_SECONDS = 2
PARTITIONS_NAME = UPLOADS_PARTITIONS.name or "uploads"


def _upload_id(body: dict | None) -> str | None:
    if not isinstance(body, dict):
        return None
    value = body.get("upload_id")
    return value if isinstance(value, str) and value else None


def enqueue_generation(upload: Upload) -> str:
    """The generation of a ``queued`` upload: its ``updated_at`` to the microsecond, in UTC."""
    return upload.updated_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _queued_generation(store: StoreResource, upload_id: str) -> tuple[bool, str | None]:
    """(known, generation): the generation is None unless the upload is ``queued``."""
    from timetable_platform.store import repository

    with store.session() as session:
        upload = repository.get_upload(session, upload_id)
        if upload is None:
            return False, None
        return True, enqueue_generation(upload) if str(upload.status) == "queued" else None


def live_run_key(upload_id: str, generation: str) -> str:
    return f"{upload_id}:{generation}"


def run_exists_for_generation(instance: dg.DagsterInstance, upload_id: str, generation: str) -> bool:
    tags = {UPLOAD_ID_TAG: upload_id, GENERATION_TAG: generation}
    return bool(instance.get_run_ids(filters=RunsFilter(tags=tags), limit=1))


@dg.sensor(
    name="upload_queue_sensor",
    job=upload_job,
    minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Receives upload messages from the queue and requests one run per enqueueing of an upload "
        "(run_key = upload id + generation)."
    ),
)
def upload_queue_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    queue = store.queue
    messages = queue.receive(MAX_MESSAGES_PER_TICK, visibility_timeout=VISIBILITY_SECONDS, wait_seconds=0)
    requests: list[dg.RunRequest] = []
    requested_keys: set[str] = set()
    new_partitions: list[str] = []
    deleted = dead = 0
    for message in messages:
        upload_id = _upload_id(message.body)
        if upload_id is None:
            reason = "malformed JSON" if message.body is None else "no upload_id in the message"
            context.log.error(
                f"dead-lettering message {message.message_id}: {reason}: {message.body_text[:200]!r}"
            )
            queue.dead_letter(message, reason)
            dead += 1
            continue
        known, generation = _queued_generation(store, upload_id)
        if not known:
            context.log.error(f"dead-lettering message {message.message_id}: unknown upload {upload_id}")
            queue.dead_letter(message, f"unknown upload {upload_id}")
            dead += 1
            continue
        key = live_run_key(upload_id, generation) if generation is not None else ""
        if (
            generation is None  # not queued: stale, its latest generation's run started or finished
            or key in requested_keys  # duplicate in this batch: the first copy still guards the upload
            or run_exists_for_generation(context.instance, upload_id, generation)
        ):
            queue.delete(message.receipt)
            deleted += 1
            continue
        requested_keys.add(key)
        if not context.instance.has_dynamic_partition(PARTITIONS_NAME, upload_id):
            new_partitions.append(upload_id)
        requests.append(
            dg.RunRequest(
                run_key=key,
                partition_key=upload_id,
                tags={UPLOAD_ID_TAG: upload_id, GENERATION_TAG: generation, LANE_TAG: LIVE_LANE},
            )
        )
    if messages:
        context.log.info(
            f"received {len(messages)}: {len(requests)} run requests, {deleted} deleted, {dead} dead-lettered"
        )
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[UPLOADS_PARTITIONS.build_add_request(new_partitions)]
        if new_partitions
        else [],
    )
