"""``upload_queue_sensor``: queue messages in, one run per enqueueing of an upload out (shared in bursts).

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

Bursts: when a tick requests more runs than the run queue has free slots (``max_concurrent_runs``
less the runs queued or in progress), the uploads whose partitions this tick added (contiguous at
the end of ``uploads``) share ranged runs of at most ``MAX_UPLOADS_PER_LIVE_RUN``: each run pays a
process start and the definitions' import (~2 CPU s), which on 2 cores is what a burst waits for.
A shared run is tagged with each upload's generation (``batch_generation_tag``), so point 3 holds
per upload; its key names its first and last upload. Its uploads fail one by one (a ranged run
isolates them), and the run status sensors settle or re-queue the uploads of a range as they do
for backfills.

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
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, DagsterRunStatus, RunsFilter
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from timetable_platform.assets import upload_job
from timetable_platform.assets.partitions import (
    GENERATION_TAG,
    LANE_TAG,
    LIVE_LANE,
    UPLOAD_ID_TAG,
    UPLOADS_PARTITIONS,
)
from timetable_platform.resources import StoreResource
from timetable_platform.sensors.backfill_requests import contiguous_chunks

if TYPE_CHECKING:
    from timetable_platform.store.models import Upload

MAX_MESSAGES_PER_TICK = 10
# A shared run of a burst reads its uploads one after the other: this many at most, so the last
# of them does not wait behind too many others.
MAX_UPLOADS_PER_LIVE_RUN = 5
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


def batch_generation_tag(upload_id: str) -> str:
    """The tag naming an upload's generation on a run shared by several uploads of a burst."""
    return f"{GENERATION_TAG}/{upload_id}"


def run_exists_for_generation(instance: dg.DagsterInstance, upload_id: str, generation: str) -> bool:
    for tags in ({UPLOAD_ID_TAG: upload_id, GENERATION_TAG: generation}, {batch_generation_tag(upload_id): generation}):
        if instance.get_run_ids(filters=RunsFilter(tags=tags), limit=1):
            return True
    return False


def free_run_slots(instance: dg.DagsterInstance) -> int | None:
    """Runs that could start now under ``max_concurrent_runs``; None when runs are not queued or not limited."""
    config = instance.get_concurrency_config().run_queue_config
    if config is None or config.max_concurrent_runs < 0:
        return None
    busy = instance.get_runs_count(RunsFilter(statuses=[*IN_PROGRESS_RUN_STATUSES, DagsterRunStatus.QUEUED]))
    return max(0, config.max_concurrent_runs - busy)


def _live_requests(
    instance: dg.DagsterInstance, wanted: list[tuple[str, str]], new_partitions: list[str]
) -> list[dg.RunRequest]:
    """One run per upload while the run queue has room for them; else the uploads of new partitions
    share ranged runs (module docstring, Bursts)."""
    free = free_run_slots(instance) if len(wanted) > 1 else None
    single = [dg.RunRequest(run_key=live_run_key(u, g), partition_key=u,
                            tags={UPLOAD_ID_TAG: u, GENERATION_TAG: g, LANE_TAG: LIVE_LANE}) for u, g in wanted]  # fmt: skip
    if free is None or len(wanted) <= free or len(new_partitions) < 2:
        return single
    size = min(MAX_UPLOADS_PER_LIVE_RUN, -(-len(wanted) // max(free, 1)))
    # Written now, not via SensorResult: a range needs its partitions, contiguous, before the run exists.
    instance.add_dynamic_partitions(PARTITIONS_NAME, new_partitions)
    order = instance.get_dynamic_partitions(PARTITIONS_NAME)
    generation = dict(wanted)
    requests = [r for r in single if r.partition_key not in set(new_partitions)]
    for chunk in contiguous_chunks(new_partitions, order, size):
        if len(chunk) == 1:
            requests.extend(r for r in single if r.partition_key == chunk[0])
            continue
        first, last = chunk[0], chunk[-1]
        tags = {LANE_TAG: LIVE_LANE, ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
        tags |= {batch_generation_tag(u): generation[u] for u in chunk}
        key = f"{live_run_key(first, generation[first])}..{live_run_key(last, generation[last])}"
        requests.append(dg.RunRequest(run_key=key, tags=tags))
    return requests


@dg.sensor(
    name="upload_queue_sensor",
    job=upload_job,
    minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Receives upload messages from the queue (long poll) and requests one run per enqueueing of an upload "
        "(run_key = upload id + generation); when more uploads wait than run slots are free, ranged runs shared "
        "by up to 5 uploads."
    ),
)
def upload_queue_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    queue = store.queue
    deadline = time.monotonic() + LONG_POLL_SECONDS
    wanted: list[tuple[str, str]] = []  # (upload, generation) to request a run for
    requested_keys: set[str] = set()
    new_partitions: list[str] = []
    received = deleted = dead = 0
    # Until an upload wants a run or the long poll ends: messages that only needed deleting (stale, or
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
            wanted.append((upload_id, generation))
        if wanted or not messages or received >= MAX_MESSAGES_PER_TICK or time.monotonic() >= deadline:
            break
    requests = _live_requests(context.instance, wanted, new_partitions) if wanted else []
    if received:
        context.log.info(
            f"received {received}: {len(requests)} run requests for {len(wanted)} uploads, {deleted} deleted, "
            f"{dead} dead-lettered"
        )
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[UPLOADS_PARTITIONS.build_add_request(new_partitions)]
        if new_partitions
        else [],
    )
