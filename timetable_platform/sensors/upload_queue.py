"""``upload_queue_sensor``: queue messages in, one run per upload out.

Why a message is never lost and never runs twice:
1. A tick receives messages (they become invisible for ``VISIBILITY_SECONDS``) and returns a run
   request per new upload with ``run_key`` = upload id. It deletes NOTHING for those messages: the
   request is committed by the daemon only after the tick returns.
2. If the daemon dies before committing, the message becomes visible again and the next tick
   requests the run again.
3. Once a run tagged with the upload id exists in the instance, the run can no longer be lost; the
   tick that next sees the message deletes it without a new request. Should a run exist while the
   tag lookup misses it, the daemon still drops a second request with the same ``run_key``.
Malformed messages and unknown uploads go to the dead-letter queue at once.
"""

import dagster as dg
from dagster._core.storage.dagster_run import RunsFilter

from timetable_platform.assets import upload_job
from timetable_platform.assets.partitions import LANE_TAG, LIVE_LANE, UPLOAD_ID_TAG, UPLOADS_PARTITIONS
from timetable_platform.resources import StoreResource

MAX_MESSAGES_PER_TICK = 10
VISIBILITY_SECONDS = 30  # how long a requested-but-unconfirmed message stays hidden
TICK_SECONDS = 2


def _upload_id(body: dict | None) -> str | None:
    if not isinstance(body, dict):
        return None
    value = body.get("upload_id")
    return value if isinstance(value, str) and value else None


def run_exists_for_upload(instance: dg.DagsterInstance, upload_id: str) -> bool:
    return bool(instance.get_run_ids(filters=RunsFilter(tags={UPLOAD_ID_TAG: upload_id}), limit=1))


@dg.sensor(
    name="upload_queue_sensor",
    job=upload_job,
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Receives upload messages from the queue and requests one run per upload (run_key = upload id).",
)
def upload_queue_sensor(context: dg.SensorEvaluationContext, store: StoreResource) -> dg.SensorResult:
    from timetable_platform.store import repository

    queue = store.queue
    messages = queue.receive(MAX_MESSAGES_PER_TICK, visibility_timeout=VISIBILITY_SECONDS, wait_seconds=0)
    requests: list[dg.RunRequest] = []
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
        with store.session() as session:
            known = repository.get_upload(session, upload_id) is not None
        if not known:
            context.log.error(f"dead-lettering message {message.message_id}: unknown upload {upload_id}")
            queue.dead_letter(message, f"unknown upload {upload_id}")
            dead += 1
            continue
        if upload_id in new_partitions or run_exists_for_upload(context.instance, upload_id):
            # Duplicate in this batch (the first copy still guards the upload), or the run is recorded.
            queue.delete(message.receipt)
            deleted += 1
            continue
        new_partitions.append(upload_id)
        requests.append(
            dg.RunRequest(
                run_key=upload_id,
                partition_key=upload_id,
                tags={UPLOAD_ID_TAG: upload_id, LANE_TAG: LIVE_LANE},
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
