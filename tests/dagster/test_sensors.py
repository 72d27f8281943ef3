"""Sensors against real queues and a real (temporary, persistent) Dagster instance.

"Crash" tests stop between the steps the daemon takes: a tick's result is thrown away (the daemon
died before committing it), or a run was created but the message was never deleted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import RunsFilter
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from tests.dagster.conftest import Platform, corpus_file
from timetable_platform.assets.partitions import BACKFILL_LANE, GENERATION_TAG, LANE_TAG, UPLOAD_ID_TAG
from timetable_platform.definitions import defs
from timetable_platform.resources import StoreResource
from timetable_platform.sensors import historical, run_status, upload_queue
from timetable_platform.store import repository
from timetable_platform.store.blobs import HISTORICAL_PREFIX
from timetable_platform.store.models import UploadStatus
from timetable_platform.store.queue import upload_message


@pytest.fixture(autouse=True)
def _short_visibility(monkeypatch: pytest.MonkeyPatch) -> None:
    # A requested-but-unconfirmed message comes back after 1 s instead of 30 s.
    monkeypatch.setattr(upload_queue, "VISIBILITY_SECONDS", 1)
    # No long poll: these tests tick on an empty queue on purpose (see the long-poll test).
    monkeypatch.setattr(upload_queue, "LONG_POLL_SECONDS", 0)


def _tick(platform: Platform, sensor: dg.SensorDefinition, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=platform.instance, cursor=cursor, resources={"store": platform.store}, definitions=defs
    )
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _commit(platform: Platform, result: dg.SensorResult) -> list[dg.ExecuteInProcessResult]:
    """What the daemon does after a tick: add the requested partitions, then launch the runs."""
    for request in result.dynamic_partitions_requests or []:
        platform.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return [platform.launch(r) for r in result.run_requests or []]


def _runs_for(platform: Platform, upload_id: str) -> int:
    return len(platform.instance.get_run_ids(RunsFilter(tags={UPLOAD_ID_TAG: upload_id})))


def _live_key(platform: Platform, upload_id: str) -> str:
    """The run key the queue sensor uses for the upload's current (queued) generation."""
    return upload_queue.live_run_key(upload_id, upload_queue.enqueue_generation(platform.upload(upload_id)))


def _queue_empty(platform: Platform) -> bool:
    depth = platform.store.queue.depth()
    return depth.get("visible", 0) == 0 and depth.get("in_flight", 0) == 0


def _wait_visible(platform: Platform, seconds: float = 1.2) -> None:
    time.sleep(seconds)  # past the 1 s visibility timeout


def test_message_becomes_one_run_and_is_deleted_only_after_the_run_exists(platform: Platform, small_timetable: Path) -> None:
    upload_id = platform.submit(small_timetable)

    first = _tick(platform, upload_queue.upload_queue_sensor)
    assert [r.run_key for r in first.run_requests] == [_live_key(platform, upload_id)]
    assert first.run_requests[0].partition_key == upload_id
    assert list(first.dynamic_partitions_requests[0].partition_keys) == [upload_id]
    assert platform.store.queue.depth()["in_flight"] == 1  # not deleted: the request is not committed yet

    (run,) = _commit(platform, first)
    assert run.success and str(platform.upload(upload_id).status) == "succeeded"

    _wait_visible(platform)
    second = _tick(platform, upload_queue.upload_queue_sensor)
    assert second.run_requests == []  # the run exists: the message is deleted, nothing new requested
    assert _queue_empty(platform)
    assert _runs_for(platform, upload_id) == 1


def test_a_tick_waits_for_a_message_and_returns_on_its_arrival(
    platform: Platform, small_timetable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The long poll: a message sent while the tick waits gets its run from that tick, at once."""
    import threading

    monkeypatch.setattr(upload_queue, "LONG_POLL_SECONDS", 3)
    started = time.monotonic()
    assert _tick(platform, upload_queue.upload_queue_sensor).run_requests == []
    assert time.monotonic() - started >= 2.9  # an empty queue: the tick waited the whole long poll
    platform.store.queue.send_raw("not json")  # dead-lettered at once: the tick keeps waiting
    upload_ids: list[str] = []
    sender = threading.Timer(0.5, lambda: upload_ids.append(platform.submit(small_timetable)))
    sender.start()
    try:
        started = time.monotonic()
        tick = _tick(platform, upload_queue.upload_queue_sensor)
        waited = time.monotonic() - started
    finally:
        sender.join()
    assert 0.4 <= waited < 2.0, waited  # returned on arrival (polled every 0.2 s), not after 3 s
    (request,) = tick.run_requests or []
    assert request.run_key == _live_key(platform, upload_ids[0])
    assert platform.store.queue.depth()["dead"] == 1


def test_crash_before_the_daemon_commits_the_tick_loses_nothing(platform: Platform, small_timetable: Path) -> None:
    upload_id = platform.submit(small_timetable)
    lost = _tick(platform, upload_queue.upload_queue_sensor)
    assert len(lost.run_requests) == 1
    # The daemon dies here: neither the partition nor the run is recorded.
    assert upload_id not in platform.instance.get_dynamic_partitions("uploads")

    _wait_visible(platform)
    retried = _tick(platform, upload_queue.upload_queue_sensor)
    assert [r.run_key for r in retried.run_requests] == [_live_key(platform, upload_id)]
    _commit(platform, retried)
    _wait_visible(platform)
    assert _tick(platform, upload_queue.upload_queue_sensor).run_requests == []
    assert _runs_for(platform, upload_id) == 1
    assert _queue_empty(platform)
    assert str(platform.upload(upload_id).status) == "succeeded"


def test_crash_after_the_run_is_created_deletes_without_a_second_run(platform: Platform, small_timetable: Path) -> None:
    upload_id = platform.submit(small_timetable)
    tick = _tick(platform, upload_queue.upload_queue_sensor)
    _commit(platform, tick)
    # The process dies before any later tick: the message is still in the queue.
    depth = platform.store.queue.depth()
    assert depth.get("visible", 0) + depth.get("in_flight", 0) == 1
    _wait_visible(platform)
    again = _tick(platform, upload_queue.upload_queue_sensor)
    assert again.run_requests == []
    assert _queue_empty(platform)
    assert _runs_for(platform, upload_id) == 1


def test_duplicate_messages_give_one_run(platform: Platform, small_timetable: Path) -> None:
    upload_id = platform.submit(small_timetable)
    platform.store.queue.send(upload_message(upload_id, "school-1"))  # same upload, twice in one batch
    first = _tick(platform, upload_queue.upload_queue_sensor)
    assert len(first.run_requests) == 1
    _commit(platform, first)
    platform.store.queue.send(upload_message(upload_id, "school-1"))  # and once more, later
    _wait_visible(platform)
    later = _tick(platform, upload_queue.upload_queue_sensor)
    assert later.run_requests == []
    assert _runs_for(platform, upload_id) == 1
    assert _queue_empty(platform)


def _reprocess(platform: Platform, upload_id: str, mode: str | None = None) -> None:
    """What POST /uploads/{id}/reprocess does: status ``queued`` (and the mode) in one transaction, then send."""
    with platform.store.session() as session:
        upload = repository.get_upload(session, upload_id)
        assert upload is not None and upload.status not in (UploadStatus.QUEUED, UploadStatus.RUNNING)
        if mode is not None:
            upload.mode = mode
        upload.status = UploadStatus.QUEUED
        upload.error = None
    platform.store.queue.send(upload_message(upload_id, "school-1"))


def test_reprocessed_upload_gets_a_new_run_once(platform: Platform, small_timetable: Path) -> None:
    upload_id = platform.submit(small_timetable)
    first = _tick(platform, upload_queue.upload_queue_sensor)
    first_key = first.run_requests[0].run_key
    (run,) = _commit(platform, first)
    assert run.success and str(platform.upload(upload_id).status) == "succeeded"
    _wait_visible(platform)
    assert _tick(platform, upload_queue.upload_queue_sensor).run_requests == []
    assert _queue_empty(platform)

    _reprocess(platform, upload_id)
    platform.store.queue.send(upload_message(upload_id, "school-1"))  # a duplicate of this generation
    lost = _tick(platform, upload_queue.upload_queue_sensor)  # the daemon dies before committing this
    (request,) = lost.run_requests
    assert request.run_key == _live_key(platform, upload_id) != first_key
    assert request.partition_key == upload_id
    assert request.tags[UPLOAD_ID_TAG] == upload_id and request.tags[GENERATION_TAG]
    assert lost.dynamic_partitions_requests == []  # the partition exists since the first run

    _wait_visible(platform)
    retried = _tick(platform, upload_queue.upload_queue_sensor)
    assert [r.run_key for r in retried.run_requests] == [request.run_key]  # same key: the daemon dedups
    (rerun,) = _commit(platform, retried)
    assert rerun.success
    upload = platform.upload(upload_id)
    assert str(upload.status) == "succeeded" and upload.attempts == 2 and upload.dagster_run_id == rerun.run_id

    _wait_visible(platform)
    assert _tick(platform, upload_queue.upload_queue_sensor).run_requests == []
    assert _queue_empty(platform)
    assert _runs_for(platform, upload_id) == 2

    _reprocess(platform, upload_id, mode="hybrid")  # and a third time, in another mode
    third = _tick(platform, upload_queue.upload_queue_sensor)
    assert [r.run_key for r in third.run_requests] == [_live_key(platform, upload_id)]
    assert third.run_requests[0].run_key not in (first_key, request.run_key)


def test_messages_for_a_running_or_finished_upload_are_deleted_without_a_run(
    platform: Platform, small_timetable: Path
) -> None:
    upload_id = platform.submit(small_timetable)
    (run,) = _commit(platform, _tick(platform, upload_queue.upload_queue_sensor))
    assert run.success
    _wait_visible(platform)
    _tick(platform, upload_queue.upload_queue_sensor)
    assert _queue_empty(platform)

    platform.store.queue.send(upload_message(upload_id, "school-1"))  # late redelivery, upload succeeded
    assert _tick(platform, upload_queue.upload_queue_sensor).run_requests == []
    assert _queue_empty(platform)

    _reprocess(platform, upload_id)
    with platform.store.session() as session:  # its run started before the sensor saw the message
        repository.mark_running(session, upload_id, run_id="run-elsewhere")
    assert _tick(platform, upload_queue.upload_queue_sensor).run_requests == []
    assert _queue_empty(platform)
    assert _runs_for(platform, upload_id) == 1


def test_a_burst_beyond_the_free_run_slots_shares_ranged_runs_and_fails_only_the_bad_document(
    platform: Platform, small_timetable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_queue, "free_run_slots", lambda instance: 1)
    good = [platform.submit(small_timetable) for _ in range(6)]
    bad = platform.register(small_timetable.read_bytes(), filename="bad.csv", sha256="0" * 64)  # checksum mismatch
    platform.store.queue.send(upload_message(bad, "school-1"))
    uploads = [*good, bad]
    generations = {u: upload_queue.enqueue_generation(platform.upload(u)) for u in uploads}

    tick = _tick(platform, upload_queue.upload_queue_sensor)
    # 7 uploads for 1 free slot: runs of at most MAX_UPLOADS_PER_LIVE_RUN (5), each a range of new partitions.
    ranges = [(r.tags[ASSET_PARTITION_RANGE_START_TAG], r.tags[ASSET_PARTITION_RANGE_END_TAG]) for r in tick.run_requests]
    assert ranges == [(uploads[0], uploads[4]), (uploads[5], uploads[6])]
    for request, chunk in zip(tick.run_requests, (uploads[:5], uploads[5:]), strict=True):
        assert request.tags[LANE_TAG] == "live" and request.partition_key is None
        assert {k: v for k, v in request.tags.items() if k.startswith(GENERATION_TAG + "/")} == {
            upload_queue.batch_generation_tag(u): generations[u] for u in chunk
        }
    assert platform.instance.get_dynamic_partitions("uploads")[-7:] == uploads

    runs = _commit(platform, tick)
    assert all(run.success for run in runs)  # one bad document fails alone
    assert {str(platform.upload(u).status) for u in good} == {"succeeded"}
    failed = platform.upload(bad)
    assert str(failed.status) == "failed" and failed.error.startswith("raw_upload: ")

    _wait_visible(platform)
    assert _tick(platform, upload_queue.upload_queue_sensor).run_requests == []  # each upload's run is found
    assert _queue_empty(platform)

    # Room for every upload: one run each, as before.
    monkeypatch.setattr(upload_queue, "free_run_slots", lambda instance: 3)
    pair = [platform.submit(small_timetable) for _ in range(2)]
    assert [r.partition_key for r in _tick(platform, upload_queue.upload_queue_sensor).run_requests] == pair


def test_free_run_slots_are_max_concurrent_runs_less_the_queued_and_running() -> None:
    # A stub, not a second DagsterInstance: building and disposing one leaves Dagster's definitions
    # loading pointing at a dead instance for the tests after it.
    from types import SimpleNamespace

    class Instance:
        def __init__(self, max_runs: int | None, busy: int) -> None:
            queue = None if max_runs is None else SimpleNamespace(max_concurrent_runs=max_runs)
            self.config = SimpleNamespace(run_queue_config=queue)
            self.busy = busy

        def get_concurrency_config(self) -> SimpleNamespace:
            return self.config

        def get_runs_count(self, filters: RunsFilter) -> int:
            assert {str(s) for s in filters.statuses} >= {"DagsterRunStatus.QUEUED", "DagsterRunStatus.STARTED"}
            return self.busy

    assert upload_queue.free_run_slots(Instance(3, 1)) == 2  # type: ignore[arg-type]
    assert upload_queue.free_run_slots(Instance(3, 7)) == 0  # type: ignore[arg-type]
    assert upload_queue.free_run_slots(Instance(-1, 0)) is None  # type: ignore[arg-type]  # unlimited
    assert upload_queue.free_run_slots(Instance(None, 0)) is None  # type: ignore[arg-type]  # runs not queued


def test_an_erasure_waits_for_a_shared_live_run_that_names_the_upload(platform: Platform) -> None:
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

    from timetable_platform.sensors.deleted_uploads import upload_run_ids

    tags = {LANE_TAG: "live", upload_queue.batch_generation_tag("u1"): "g", upload_queue.batch_generation_tag("u2"): "g"}
    platform.instance.add_run(DagsterRun(job_name="process_upload", run_id="a" * 36, status=DagsterRunStatus.STARTED, tags=tags))
    assert upload_run_ids(platform.instance, "u2", in_progress=True) == {"a" * 36}
    assert upload_run_ids(platform.instance, "u3", in_progress=True) == set()
    assert upload_run_ids(platform.instance, "u2") == set()  # once ended, kept like a ranged backfill run


def test_poison_messages_go_to_the_dead_letter_queue(platform: Platform) -> None:
    queue = platform.store.queue
    queue.send_raw("{not json")  # type: ignore[attr-defined]
    queue.send({"tenant": "school-1"})
    queue.send(upload_message("0" * 32, "school-1"))
    result = _tick(platform, upload_queue.upload_queue_sensor)
    assert result.run_requests == []
    reasons = sorted(d.reason or "" for d in queue.dead_letters(10))
    assert len(reasons) == 3
    assert any("malformed" in r for r in reasons)
    assert any("no upload_id" in r for r in reasons)
    assert any("unknown upload" in r for r in reasons)
    assert _queue_empty(platform)


@pytest.mark.postgres
def test_s3_sqs_postgres_upload_ends_as_entries_and_json(aws_platform: Platform) -> None:
    platform = aws_platform
    upload_id = platform.submit(corpus_file("l1_docx_001.docx"))
    from tests.support.aws import sqs_client

    settings = platform.store.settings()
    sqs_client(settings.sqs_endpoint_url).send_message(QueueUrl=settings.sqs_queue_url, MessageBody="{oops")

    tick = _tick(platform, upload_queue.upload_queue_sensor)
    assert [r.run_key for r in tick.run_requests] == [_live_key(platform, upload_id)]
    (run,) = _commit(platform, tick)
    assert run.success
    upload = platform.upload(upload_id)
    assert str(upload.status) == "succeeded" and upload.entry_count and upload.entry_count > 0
    stored = json.loads(platform.store.blobs.get(f"results/{upload_id}/timetable.json"))
    with platform.store.session() as session:
        timetable = repository.get_timetable(session, upload_id)
    assert timetable is not None and len(timetable.entries) == len(stored["entries"]) == upload.entry_count

    _wait_visible(platform)
    assert _tick(platform, upload_queue.upload_queue_sensor).run_requests == []
    assert _runs_for(platform, upload_id) == 1
    dead = platform.store.queue.dead_letters(10)
    assert [d.body_text for d in dead] == ["{oops"]


def _status_context(platform: Platform, run_id: str, event_type: dg.DagsterEventType) -> dg.RunStatusSensorContext:
    run = platform.instance.get_run_by_id(run_id)
    assert run is not None
    records = platform.instance.get_records_for_run(run_id, of_type=event_type).records
    return dg.build_run_status_sensor_context(
        sensor_name="test",
        dagster_instance=platform.instance,
        dagster_run=run,
        dagster_event=records[-1].event_log_entry.dagster_event,
        resources={"store": platform.store},
    )


def test_run_status_sensors_settle_uploads_a_run_left_unfinished(platform: Platform, small_timetable: Path) -> None:
    from timetable_platform.assets import raw_upload

    upload_id = platform.submit(small_timetable, callback_url="https://example.test/hook")
    # A run that materialises only raw_upload succeeds but leaves the upload "running".
    partial = platform.materialize(upload_id, assets=[raw_upload])
    assert partial.success and str(platform.upload(upload_id).status) == "running"
    run_status.upload_run_succeeded_sensor(
        _status_context(platform, partial.run_id, dg.DagsterEventType.RUN_SUCCESS)
    )
    upload = platform.upload(upload_id)
    assert str(upload.status) == "failed" and "without materialising merged_timetable" in upload.error

    from timetable_platform.store.api_models import CallbackDelivery

    with platform.store.session() as session:
        outbox = session.query(CallbackDelivery).filter_by(upload_id=upload_id).all()
        assert len(outbox) == 1 and json.loads(outbox[0].body)["status"] == "failed"


def test_partial_rerun_of_upstream_assets_keeps_a_stored_result(platform: Platform, small_timetable: Path) -> None:
    upload_id = platform.submit(small_timetable)
    assert platform.materialize(upload_id).success
    partial = platform.materialize(upload_id, selection=["raw_upload"])  # a data engineer re-checks the blob
    assert partial.success and str(platform.upload(upload_id).status) == "running"
    run_status.upload_run_succeeded_sensor(
        _status_context(platform, partial.run_id, dg.DagsterEventType.RUN_SUCCESS)
    )
    assert str(platform.upload(upload_id).status) == "succeeded"


def test_needs_review_is_final_gets_its_callback_and_survives_a_partial_rerun(
    platform: Platform, small_timetable: Path
) -> None:
    from tests.dagster.test_assets import OVERLAPPING, _scripted_resource
    from timetable_platform.store.api_models import CallbackDelivery

    platform.layout = _scripted_resource([OVERLAPPING])
    upload_id = platform.submit(small_timetable, callback_url="https://example.test/hook")
    run = platform.materialize(upload_id)
    assert run.success and str(platform.upload(upload_id).status) == "needs_review"
    run_status.upload_run_succeeded_sensor(_status_context(platform, run.run_id, dg.DagsterEventType.RUN_SUCCESS))
    with platform.store.session() as session:
        [delivery] = session.query(CallbackDelivery).filter_by(upload_id=upload_id).all()
        body = json.loads(delivery.body)
    assert body["status"] == "needs_review" and any("overlap" in r for r in body["review_reasons"])

    partial = platform.materialize(upload_id, selection=["raw_upload"])
    run_status.upload_run_succeeded_sensor(
        _status_context(platform, partial.run_id, dg.DagsterEventType.RUN_SUCCESS)
    )
    assert str(platform.upload(upload_id).status) == "needs_review"  # its stored timetable is unchanged


def test_run_failure_sensor_records_the_step_error(platform: Platform, small_timetable: Path) -> None:
    path = small_timetable
    upload_id = platform.register(path.read_bytes(), filename=path.name, sha256="1" * 64)
    failed = platform.materialize(upload_id)
    assert not failed.success
    # As if the run process died after its first step marked the upload running.
    with platform.store.session() as session:
        repository.mark_running(session, upload_id, run_id=failed.run_id)
    context = _status_context(platform, failed.run_id, dg.DagsterEventType.RUN_FAILURE).for_run_failure()
    run_status.upload_run_failed_sensor(context)
    upload = platform.upload(upload_id)
    assert str(upload.status) == "failed"
    assert "raw_upload" in upload.error and "checksum" in upload.error


def test_a_run_that_failed_around_its_steps_gets_its_upload_a_new_run(platform: Platform, small_timetable: Path) -> None:
    """A run whose worker died (no step failed) is an infrastructure failure: the upload is queued
    again, with a message, for a new run, never failed nor called back in between; after
    MAX_RUN_ATTEMPTS runs it fails as an infrastructure failure. A run Dagster itself will retry is
    left alone."""
    from dagster._core.storage.tags import RUN_FAILURE_REASON_TAG, WILL_RETRY_TAG

    upload_id = platform.register(small_timetable.read_bytes(), filename=small_timetable.name, sha256="1" * 64)
    failed = platform.materialize(upload_id)
    platform.instance.add_run_tags(failed.run_id, {RUN_FAILURE_REASON_TAG: "UNEXPECTED_TERMINATION"})

    def worker_dies() -> None:
        with platform.store.session() as session:  # the run had started the upload, then its worker died
            repository.mark_running(session, upload_id, run_id=failed.run_id)
        context = _status_context(platform, failed.run_id, dg.DagsterEventType.RUN_FAILURE).for_run_failure()
        run_status.upload_run_failed_sensor(context)

    platform.instance.add_run_tags(failed.run_id, {WILL_RETRY_TAG: "true"})
    worker_dies()
    assert str(platform.upload(upload_id).status) == "running"  # Dagster's retry will finish it
    platform.instance.add_run_tags(failed.run_id, {WILL_RETRY_TAG: "false"})

    requeues = 0
    while True:
        with platform.store.session() as session:  # the next run has another run id
            repository.get_upload(session, upload_id).dagster_run_id = None  # type: ignore[union-attr]
        worker_dies()
        upload = platform.upload(upload_id)
        if str(upload.status) != "queued":
            break
        requeues += 1
        assert upload.error.startswith("retrying after an infrastructure failure")
        [message] = platform.store.queue.receive(10)
        assert message.body == {"upload_id": upload_id, "tenant": "school-1"}
        platform.store.queue.delete(message.receipt)
    assert requeues >= 1 and upload.attempts == run_status.MAX_RUN_ATTEMPTS
    assert str(upload.status) == "failed"
    assert upload.error.startswith("infrastructure_failure: ") and upload.error.endswith(
        f"(gave up after {run_status.MAX_RUN_ATTEMPTS} runs)"
    )
    assert platform.store.queue.receive(10) == []


def test_a_late_start_of_a_failed_run_leaves_the_requeued_upload_queued(
    platform: Platform, small_timetable: Path
) -> None:
    """After a daemon restart the started sensor may see a run's start only after the run failed and
    its upload was queued again: marking it running then would strand it (no new run would come)."""
    upload_id = platform.register(small_timetable.read_bytes(), filename=small_timetable.name, sha256="1" * 64)
    failed = platform.materialize(upload_id)
    assert not failed.success
    with platform.store.session() as session:
        repository.requeue_after_infrastructure_failure(session, upload_id, reason="worker gone", started=True)
    run_status.upload_run_started_sensor(_status_context(platform, failed.run_id, dg.DagsterEventType.RUN_START))
    assert str(platform.upload(upload_id).status) == "queued"


def test_run_started_sensor_never_moves_a_finished_upload_back(platform: Platform, small_timetable: Path) -> None:
    upload_id = platform.submit(small_timetable)
    done = platform.materialize(upload_id)
    run_status.upload_run_started_sensor(_status_context(platform, done.run_id, dg.DagsterEventType.RUN_START))
    assert str(platform.upload(upload_id).status) == "succeeded"


def test_historical_documents_are_registered_once_and_run_as_a_ranged_backfill(
    platform: Platform, small_timetable: Path
) -> None:
    # Historical uploads take the configured default mode.
    platform.store = StoreResource(overrides={**platform.store.overrides, "mode": "document_ai"})
    blobs = platform.store.blobs
    term1 = small_timetable.read_bytes()
    blobs.put(f"{HISTORICAL_PREFIX}school-9/2019/term1.csv", term1)
    blobs.put(f"{HISTORICAL_PREFIX}school-9/2019/term2.docx", corpus_file("l1_docx_001.docx").read_bytes())
    blobs.put(f"{HISTORICAL_PREFIX}school-9/2019/copy-of-term1.csv", term1)  # same bytes: one upload
    blobs.put(f"{HISTORICAL_PREFIX}stray.csv", term1)  # no tenant folder: ignored

    lost = _tick(platform, historical.historical_upload_sensor)
    # The daemon dies before committing the tick: the uploads exist but were never run.
    retried = _tick(platform, historical.historical_upload_sensor)
    with platform.store.session() as session:
        uploads, _ = repository.list_uploads(session, tenant="school-9")
    assert len(uploads) == 2
    assert {u.label for u in uploads} >= {"historical:historical/school-9/2019/term2.docx"}
    for result in (lost, retried):
        (request,) = result.run_requests
        assert request.tags[LANE_TAG] == BACKFILL_LANE
        covered = {request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[ASSET_PARTITION_RANGE_END_TAG]}
        assert covered == {u.id for u in uploads}

    (run,) = _commit(platform, retried)
    assert run.success
    assert all(str(platform.upload(u.id).status) == "succeeded" for u in uploads)
    again = _tick(platform, historical.historical_upload_sensor, cursor=retried.cursor)
    assert again.run_requests == []


def test_historical_copy_of_a_queued_api_upload_is_left_to_the_queue(
    platform: Platform, small_timetable: Path
) -> None:
    platform.store = StoreResource(overrides={**platform.store.overrides, "mode": "document_ai"})
    upload_id = platform.submit(small_timetable, tenant="school-9")  # queued, its message pending
    platform.store.blobs.put(f"{HISTORICAL_PREFIX}school-9/old/week.csv", small_timetable.read_bytes())

    tick = _tick(platform, historical.historical_upload_sensor)
    assert tick.run_requests == []  # same bytes, already registered, and not this sensor's to run
    with platform.store.session() as session:
        assert [u.id for u in repository.list_uploads(session, tenant="school-9")[0]] == [upload_id]
    live = _tick(platform, upload_queue.upload_queue_sensor)
    assert [r.run_key for r in live.run_requests] == [_live_key(platform, upload_id)]


def test_callback_delivery_sensor_posts_completed_uploads(platform: Platform, small_timetable: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict[str, object]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        platform.store = StoreResource(
            overrides={**platform.store.overrides, "callback_allow_private_networks": "true"}
        )
        url = f"http://127.0.0.1:{server.server_port}/hook"
        upload_id = platform.submit(small_timetable, callback_url=url)
        done = platform.materialize(upload_id)
        run_status.upload_run_succeeded_sensor(_status_context(platform, done.run_id, dg.DagsterEventType.RUN_SUCCESS))
        from timetable_platform.sensors.callbacks import callback_delivery_sensor

        context = dg.build_sensor_context(instance=platform.instance, resources={"store": platform.store})
        outcome = callback_delivery_sensor(context)
        assert isinstance(outcome, dg.SkipReason) and "delivered 1" in (outcome.skip_message or "")
        assert len(received) == 1
        assert received[0]["status"] == "succeeded" and received[0]["upload_id"] == upload_id
    finally:
        server.shutdown()


def test_late_status_tick_of_the_old_run_leaves_a_reprocessed_upload_queued(
    platform: Platform, small_timetable: Path
) -> None:
    upload_id = platform.submit(small_timetable)
    old = platform.materialize(upload_id)
    assert old.success and str(platform.upload(upload_id).status) == "succeeded"
    _reprocess(platform, upload_id)  # before the success sensor has seen the old run
    run_status.upload_run_succeeded_sensor(_status_context(platform, old.run_id, dg.DagsterEventType.RUN_SUCCESS))
    upload = platform.upload(upload_id)
    assert str(upload.status) == "queued" and upload.error is None
    # The new generation still gets its run.
    (request,) = _tick(platform, upload_queue.upload_queue_sensor).run_requests
    assert request.run_key == _live_key(platform, upload_id)


def test_reconcile_sensor_resends_the_message_of_an_upload_left_queued(
    platform: Platform, small_timetable: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from timetable_platform.sensors import reconcile

    upload_id = platform.register(small_timetable.read_bytes(), filename=small_timetable.name)  # no message
    context = dg.build_sensor_context(instance=platform.instance, resources={"store": platform.store})
    reconcile.reconcile_sensor(context)
    assert platform.store.queue.receive(10) == []  # fresh: maybe its message is just being sent
    with platform.store.session() as session:
        repository.get_upload(session, upload_id).updated_at = datetime.now(UTC) - timedelta(  # type: ignore[union-attr]
            minutes=reconcile.ORPHAN_MINUTES + 1
        )
    reconcile.reconcile_sensor(context)
    [message] = platform.store.queue.receive(10)
    assert message.body == {"upload_id": upload_id, "tenant": "school-1"}
