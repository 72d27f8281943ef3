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

The tick long-polls: it waits up to ``LONG_POLL_SECONDS`` for a first message (SQS
``WaitTimeSeconds``; the database queue peeks every 0.2 s without taking a write lock) and
returns as soon as one arrives. None of the above changes: received messages are still only
hidden, never deleted, until a later tick sees their run; the wait (3.5 s) plus the tick stays far
below ``VISIBILITY_SECONDS``, so a message cannot become visible again while its own tick runs.
"""

from __future__ import annotations

import time
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
# Without a wait, a message waits 0-5 s (median 2.5 s) for the next loop. With threaded sensors
# (dagster.yaml `sensors: use_threads`) the loop hands the tick to a thread and does not wait for it,
# but it starts no new tick of a sensor whose previous one is still running: a wait that outlasts
# the loop skips the next tick (one every 10 s). 3.5 s leaves the tick's own work (the gRPC call, the
# tick record, the run requests: 0.3-0.6 s measured at load 5, where a 4 s wait still made some ticks
# miss the next loop) 1.5 s; a message then waits ~0.2 s while the tick polls, or up to ~1.5 s in the
# gap between two ticks. Without threads the loop waits for the
# tick: the other sensors then tick every ~5 s after it instead of in parallel.
LONG_POLL_SECONDS = 3.5
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
    deadline = time.monotonic() + LONG_POLL_SECONDS
    requests: list[dg.RunRequest] = []
    requested_keys: set[str] = set()
    new_partitions: list[str] = []
    received = deleted = dead = 0
    # Until a run is requested or the long poll ends: messages that only needed deleting (stale, or
    # whose run exists) or dead-lettering do not end the wait.
    while True:
        messages = queue.receive(
            MAX_MESSAGES_PER_TICK - received,
            visibility_timeout=VISIBILITY_SECONDS,
            wait_seconds=max(0.0, deadline - time.monotonic()),
        )
        received += len(messages)
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
                or key in requested_keys  # duplicate in this tick: the first copy still guards the upload
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
        if requests or not messages or received >= MAX_MESSAGES_PER_TICK or time.monotonic() >= deadline:
            break
    if received:
        context.log.info(
            f"received {received}: {len(requests)} run requests, {deleted} deleted, {dead} dead-lettered"
        )
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[UPLOADS_PARTITIONS.build_add_request(new_partitions)]
        if new_partitions
        else [],
    )
