"""One behaviour, three backends: the database queue on SQLite and PostgreSQL, and SQS on a moto server.

Visibility timeouts are 1 s to keep the suite fast; tests sleep just past them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.aws import REGION, make_queue
from timetable_platform.store.db import make_engine, make_session_factory, migrate
from timetable_platform.store.errors import ReceiptInvalid
from timetable_platform.store.queue import DatabaseQueue, SqsQueue, UploadQueue, upload_message

MAX_RECEIVES = 2
PAST_TIMEOUT = 1.2  # seconds: just past a 1 s visibility timeout


@pytest.fixture(params=["database-sqlite", "database-postgres", "sqs"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UploadQueue]:
    if request.param == "sqs":
        endpoint = request.getfixturevalue("moto_server")
        queue_url, _dlq_url = make_queue(endpoint, max_receives=MAX_RECEIVES, visibility_timeout=1)
        yield SqsQueue(queue_url, endpoint_url=endpoint, region=REGION, visibility_timeout=1, max_receives=MAX_RECEIVES)
        return
    if request.param.endswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'q.db'}"
        migrate(url)
    else:
        url = request.getfixturevalue("migrated_postgres_url")
    engine = make_engine(url)
    try:
        yield DatabaseQueue(make_session_factory(engine), visibility_timeout=1, max_receives=MAX_RECEIVES)
    finally:
        engine.dispose()


def test_send_receive_delete(queue: UploadQueue) -> None:
    message_id = queue.send(upload_message("u1", "acme"))
    assert queue.depth() == {"visible": 1, "in_flight": 0, "dead": 0}
    [message] = queue.receive(10)
    assert message.message_id == message_id
    assert message.body == {"upload_id": "u1", "tenant": "acme"}
    assert message.receive_count == 1
    assert queue.receive(10) == []  # hidden while in flight
    assert queue.depth() == {"visible": 0, "in_flight": 1, "dead": 0}
    queue.delete(message.receipt)
    queue.delete(message.receipt)  # acknowledging twice is harmless
    time.sleep(PAST_TIMEOUT)
    assert queue.receive(10) == []
    assert queue.depth() == {"visible": 0, "in_flight": 0, "dead": 0}


def test_unacknowledged_message_comes_back_after_the_visibility_timeout(queue: UploadQueue) -> None:
    queue.send(upload_message("u1", "acme"))
    [first] = queue.receive(1)
    time.sleep(PAST_TIMEOUT)
    [again] = queue.receive(1)
    assert again.message_id == first.message_id
    assert again.receive_count == 2
    assert again.receipt != first.receipt


def test_change_visibility_extends_and_releases(queue: UploadQueue) -> None:
    queue.send(upload_message("u1", "acme"))
    [message] = queue.receive(1)
    queue.change_visibility(message.receipt, 30)  # a long job asks for more time
    time.sleep(PAST_TIMEOUT)
    assert queue.receive(1) == []
    queue.change_visibility(message.receipt, 0)  # give it back now
    [again] = queue.receive(1)
    assert again.message_id == message.message_id
    with pytest.raises(ReceiptInvalid):
        queue.change_visibility("not-a-receipt-handle", 5)


def test_message_received_too_often_moves_to_dead_letters(queue: UploadQueue) -> None:
    queue.send(upload_message("poison", "acme"))
    counts = []
    for _ in range(MAX_RECEIVES):
        [message] = queue.receive(1)
        counts.append(message.receive_count)
        time.sleep(PAST_TIMEOUT)
    assert counts == list(range(1, MAX_RECEIVES + 1))
    assert queue.receive(1) == []  # the next receive moves it instead of delivering it
    assert queue.depth() == {"visible": 0, "in_flight": 0, "dead": 1}
    [dead] = queue.dead_letters(10)
    assert '"poison"' in dead.body_text
    assert dead.reason and "received more than" in dead.reason


def test_malformed_message_is_dead_lettered_by_the_consumer(queue: UploadQueue) -> None:
    queue.send_raw("{not json")
    queue.send_raw("[1, 2]")  # JSON, but not an object
    messages = queue.receive(10)
    assert sorted(m.body_text for m in messages) == ["[1, 2]", "{not json"]
    assert all(m.body is None for m in messages)
    for message in messages:
        queue.dead_letter(message, "malformed JSON")
    assert queue.depth() == {"visible": 0, "in_flight": 0, "dead": 2}
    dead = queue.dead_letters(10)
    assert {d.body_text for d in dead} == {"[1, 2]", "{not json"}
    assert {d.reason for d in dead} == {"malformed JSON"}
    time.sleep(PAST_TIMEOUT)
    assert queue.receive(10) == []  # gone from the live queue for good


def test_purge_upload_removes_only_that_uploads_waiting_messages(queue: UploadQueue) -> None:
    for upload_id in ("keep", "drop", "keep", "drop", "drop"):
        queue.send(upload_message(upload_id, "acme"))
    assert queue.purge_upload("drop") == 3
    assert queue.purge_upload("drop") == 0
    remaining = queue.receive(10)
    assert [m.body for m in remaining] == [upload_message("keep", "acme")] * 2
    # The scan does not count against the others' redrive limit (SQS re-sends them as fresh copies).
    assert [m.receive_count for m in remaining] == [1, 1]


def test_receive_respects_max_messages_and_returns_each_message_once(queue: UploadQueue) -> None:
    sent = {queue.send(upload_message(f"u{i}", "acme")) for i in range(12)}
    first = queue.receive(5)
    assert len(first) == 5
    rest = queue.receive(20)
    assert {m.message_id for m in first} | {m.message_id for m in rest} == sent
    assert len(first) + len(rest) == 12


def test_ping(queue: UploadQueue) -> None:
    queue.ping()


def test_bad_arguments(queue: UploadQueue) -> None:
    with pytest.raises(ValueError):
        queue.receive(0)
    with pytest.raises(ValueError):
        queue.receive(1, visibility_timeout=-1)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_database_queue_concurrent_consumers_never_share_a_message(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'q.db'}"
        migrate(url)
    else:
        url = request.getfixturevalue("migrated_postgres_url")
    engine = make_engine(url, pool_size=8) if backend == "postgres" else make_engine(url)
    try:
        queue = DatabaseQueue(make_session_factory(engine), visibility_timeout=60)
        sent = {queue.send(upload_message(f"u{i}", "t")) for i in range(60)}
        got: list[str] = []
        lock = threading.Lock()

        def consume() -> None:
            while True:
                batch = queue.receive(3)
                if not batch:
                    return
                with lock:
                    got.extend(m.message_id for m in batch)

        threads = [threading.Thread(target=consume) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(got) == sorted(sent)  # every message once: none lost, none twice
    finally:
        engine.dispose()


def test_database_queue_stale_receipt_cannot_touch_the_redelivered_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        queue = DatabaseQueue(make_session_factory(engine), visibility_timeout=1)
        queue.send(upload_message("u1", "t"))
        [first] = queue.receive(1)
        time.sleep(PAST_TIMEOUT)
        [second] = queue.receive(1)
        queue.delete(first.receipt)  # the slow first consumer finishes late
        with pytest.raises(ReceiptInvalid):
            queue.change_visibility(first.receipt, 30)
        assert queue.depth()["in_flight"] == 1  # still owned by the second consumer
        queue.delete(second.receipt)
        assert queue.depth() == {"visible": 0, "in_flight": 0, "dead": 0}
        # Dead letters can be put back once their cause is fixed.
        queue.send(upload_message("u2", "t"))
        [message] = queue.receive(1)
        queue.dead_letter(message, "bad")
        assert queue.redrive_dead_letters() == 1
        [back] = queue.receive(1)
        assert back.receive_count == 1 and back.body == upload_message("u2", "t")
        queue.dead_letter(back, "bad again")
        assert queue.delete_dead_letters(older_than=datetime.now(UTC) - timedelta(hours=1)) == 0
        assert queue.delete_dead_letters() == 1
        assert queue.depth() == {"visible": 0, "in_flight": 0, "dead": 0}
    finally:
        engine.dispose()


def test_sqs_queue_finds_its_dead_letter_queue_and_creates_queues(moto_server: str) -> None:
    queue = SqsQueue(None, endpoint_url=moto_server, region=REGION, visibility_timeout=1, max_receives=1)
    queue_url, dlq_url = queue.ensure_queues(f"tt-ensure-{time.time_ns()}")
    # A second instance configured with the queue URL only finds the DLQ from the RedrivePolicy.
    other = SqsQueue(queue_url, endpoint_url=moto_server, region=REGION, visibility_timeout=1, max_receives=1)
    assert other.dlq_url == dlq_url
    other.send({"upload_id": "x"})
    [message] = other.receive(1)
    other.dead_letter(message, "unknown upload x")
    [dead] = queue.dead_letters(5)
    assert dead.message_id == message.message_id and dead.reason == "unknown upload x"


def test_receive_waits_for_a_message_that_arrives_during_the_wait(queue: UploadQueue) -> None:
    sender = threading.Timer(0.3, lambda: queue.send(upload_message("late", "acme")))
    sender.start()
    try:
        started = time.monotonic()
        messages = queue.receive(1, wait_seconds=3)
        assert [m.body for m in messages] == [upload_message("late", "acme")]
        assert time.monotonic() - started < 2.9  # returned on arrival, not at the end of the wait
    finally:
        sender.join()


def test_database_queue_waits_by_peeking_not_by_claiming(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long poll on SQLite must not take the write lock every 0.2 s (the API and run workers need it)."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    migrate(url)
    queue = DatabaseQueue(make_session_factory(make_engine(url)), visibility_timeout=1)
    claims: list[float] = []
    claim = queue._claim

    def counted(max_messages: int, timeout: int):  # type: ignore[no-untyped-def]
        claims.append(time.monotonic())
        return claim(max_messages, timeout)

    monkeypatch.setattr(queue, "_claim", counted)
    assert queue.receive(1, wait_seconds=1) == []
    assert len(claims) == 2  # on entry and at the deadline; plain reads in between
    sender = threading.Timer(0.3, lambda: queue.send(upload_message("late", "acme")))
    sender.start()
    try:
        claims.clear()
        assert [m.body for m in queue.receive(1, wait_seconds=3)] == [upload_message("late", "acme")]
        assert len(claims) == 2  # on entry, then once the peek saw the message
    finally:
        sender.join()


def test_database_queue_on_postgres_uses_the_database_clock(
    migrated_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A producer whose clock runs an hour fast must not hide its messages from consumers for an hour."""
    import timetable_platform.store.queue as queue_module

    engine = make_engine(migrated_postgres_url)
    try:
        queue = DatabaseQueue(make_session_factory(engine), visibility_timeout=1)
        real_utcnow = queue_module.utcnow
        monkeypatch.setattr(queue_module, "utcnow", lambda: real_utcnow() + timedelta(hours=1))
        queue.send(upload_message("u1", "t"))
        monkeypatch.setattr(queue_module, "utcnow", real_utcnow)
        assert [m.body for m in queue.receive(1)] == [upload_message("u1", "t")]
    finally:
        engine.dispose()
