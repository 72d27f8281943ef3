"""/metrics over a real SQLite store: queue depth, recent pipeline latency, caching and failing sources."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import generate_latest
from sqlalchemy import update

from tests.support.aws import sqs_client
from timetable_platform.api import observability
from timetable_platform.api.observability import Metrics
from timetable_platform.store import repository
from timetable_platform.store.models import Upload
from timetable_platform.store.queue import SqsQueue

from .conftest import PDF_BYTES, Api


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text output, or None when the series is absent."""
    label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    series = f"{name}{{{label_text}}}" if labels else name
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_queue_depth_by_state(any_db_api: Api) -> None:
    api = any_db_api
    queue = api.store.queue
    for n in range(4):
        queue.send({"upload_id": f"u{n}", "tenant": "t"})
    [in_flight] = queue.receive(1)
    [poison] = queue.receive(1)
    queue.dead_letter(poison, "malformed")
    assert in_flight.message_id != poison.message_id

    text = api.client.get("/metrics").text

    assert sample(text, "timetable_queue_messages", state="visible") == 2
    assert sample(text, "timetable_queue_messages", state="in_flight") == 1
    assert sample(text, "timetable_queue_messages", state="dead") == 1
    assert sample(text, "timetable_metrics_scrape_errors_total", source="queue") == 0


def test_queue_depth_on_sqs_counts_the_dead_letter_queue(
    api: Api, moto_server: str, sqs_queue: tuple[str, str]
) -> None:
    queue_url, dlq_url = sqs_queue
    queue = SqsQueue(queue_url, dlq_url=dlq_url, client=sqs_client(moto_server), max_receives=3)
    for n in range(3):
        queue.send({"upload_id": f"u{n}", "tenant": "t"})
    [in_flight] = queue.receive(1)
    [poison] = queue.receive(1)
    queue.dead_letter(poison, "malformed")
    metrics = Metrics(store=dataclasses.replace(api.store, queue=queue))

    text = generate_latest(metrics.registry).decode()

    assert sample(text, "timetable_queue_messages", state="visible") == 1
    assert sample(text, "timetable_queue_messages", state="in_flight") == 1
    assert sample(text, "timetable_queue_messages", state="dead") == 1
    assert in_flight.message_id != poison.message_id


def _finish(
    api: Api,
    key: dict[str, str],
    *,
    status: str,
    created: datetime,
    finished: datetime,
    queued: datetime | None = None,
) -> None:
    # distinct bytes per upload: identical content would be answered with the existing upload
    content = PDF_BYTES + f"% {status} {created.isoformat()}\n".encode()
    response = api.submit(key, content=content)
    assert response.status_code == 202, response.text
    upload_id = response.json()["upload_id"]
    with api.store.session_factory.begin() as session:
        if status == "succeeded":
            repository.mark_running(session, upload_id, run_id="r")
            repository.mark_succeeded(session, upload_id, run_id="r")
        else:
            repository.mark_failed(session, upload_id, error="boom", run_id="r")
        session.execute(
            update(Upload)
            .where(Upload.id == upload_id)
            .values(created_at=created, queued_at=queued or created, finished_at=finished)
        )


def test_latency_and_finished_counts_of_the_last_hour(any_db_api: Api) -> None:
    api = any_db_api
    key = api.new_key("school-a")
    now = datetime.now(UTC)
    # finished within the hour: latencies 10, 20, 30, 40 (succeeded) and 100 s (failed)
    for seconds, status, ago in ((10, "succeeded", 60), (20, "succeeded", 600), (30, "succeeded", 1200),
                                 (40, "succeeded", 3000), (100, "failed", 120)):  # fmt: skip
        finished = now - timedelta(seconds=ago)
        _finish(api, key, status=status, created=finished - timedelta(seconds=seconds), finished=finished)
    # finished two hours ago: outside the window
    old_finish = now - timedelta(hours=2)
    _finish(api, key, status="succeeded", created=old_finish - timedelta(seconds=5000), finished=old_finish)
    api.submit(key, filename="still-queued.pdf")  # not finished: no latency
    # submitted three days ago, reprocessed: measured from its last queueing (25 s), not its creation
    finished = now - timedelta(seconds=300)
    _finish(api, key, status="succeeded", created=now - timedelta(days=3), queued=finished - timedelta(seconds=25),
            finished=finished)  # fmt: skip

    text = api.client.get("/metrics").text

    # linear interpolation over [10, 20, 25, 30, 40, 100]: median 27.5; p95 at rank 4.75 = 40 + 0.75 * 60
    assert sample(text, "timetable_upload_latency_seconds", quantile="0.5") == pytest.approx(27.5, abs=0.01)
    assert sample(text, "timetable_upload_latency_seconds", quantile="0.95") == pytest.approx(85, abs=0.01)
    assert sample(text, "timetable_uploads_finished_recent", status="succeeded") == 5
    assert sample(text, "timetable_uploads_finished_recent", status="failed") == 1
    assert sample(text, "timetable_uploads", status="queued") == 1


def test_no_finished_uploads_leaves_latency_absent_and_counts_zero(api: Api) -> None:
    text = api.client.get("/metrics").text
    assert sample(text, "timetable_uploads_finished_recent", status="succeeded") == 0
    assert sample(text, "timetable_uploads_finished_recent", status="failed") == 0
    assert "timetable_upload_latency_seconds{" not in text


def test_store_is_read_at_most_once_per_cache_period(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    queue = api.store.queue
    reads = {"depth": 0, "recent": 0}
    real_depth, real_recent = queue.depth, observability.recent_finished_uploads

    def counting_depth() -> dict[str, int]:
        reads["depth"] += 1
        return real_depth()

    def counting_recent(*args: object, **kwargs: object) -> observability.FinishedUploads:
        reads["recent"] += 1
        return real_recent(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(queue, "depth", counting_depth)
    monkeypatch.setattr(observability, "recent_finished_uploads", counting_recent)
    clock = [1000.0]
    metrics = Metrics(store=api.store, cache_seconds=5, clock=lambda: clock[0])

    queue.send({"upload_id": "a", "tenant": "t"})
    first = generate_latest(metrics.registry).decode()
    queue.send({"upload_id": "b", "tenant": "t"})
    for _ in range(20):  # a scrape storm inside the cache period
        storm = generate_latest(metrics.registry).decode()
    assert reads == {"depth": 1, "recent": 1}
    assert sample(first, "timetable_queue_messages", state="visible") == 1
    assert sample(storm, "timetable_queue_messages", state="visible") == 1

    clock[0] += 5.1
    fresh = generate_latest(metrics.registry).decode()
    assert reads == {"depth": 2, "recent": 2}
    assert sample(fresh, "timetable_queue_messages", state="visible") == 2


def test_failing_source_drops_its_gauges_and_counts_the_error(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def queue_down() -> dict[str, int]:
        raise ConnectionError("SQS unreachable")

    def database_down(*_args: object, **_kwargs: object) -> observability.FinishedUploads:
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(api.store.queue, "depth", queue_down)
    monkeypatch.setattr(observability, "recent_finished_uploads", database_down)

    response = api.client.get("/metrics")

    assert response.status_code == 200
    text = response.text
    assert "timetable_queue_messages{" not in text
    assert "timetable_uploads_finished_recent{" not in text
    assert "timetable_upload_latency_seconds{" not in text
    assert sample(text, "timetable_metrics_scrape_errors_total", source="queue") == 1
    assert sample(text, "timetable_metrics_scrape_errors_total", source="recent_uploads") == 1
    assert sample(text, "timetable_metrics_scrape_errors_total", source="uploads") == 0
    assert sample(text, "timetable_uploads", status="queued") == 0  # the healthy source still reports


def test_a_source_recovers_after_the_cache_period(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    fail = [True]
    real_depth = api.store.queue.depth

    def flaky_depth() -> dict[str, int]:
        if fail[0]:
            raise TimeoutError("slow queue")
        return real_depth()

    monkeypatch.setattr(api.store.queue, "depth", flaky_depth)
    metrics = Metrics(store=api.store, cache_seconds=5, clock=lambda: clock[0])
    assert "timetable_queue_messages{" not in generate_latest(metrics.registry).decode()
    fail[0] = False
    # the failure is cached too: a dead dependency is not retried by every scrape
    text = generate_latest(metrics.registry).decode()
    assert "timetable_queue_messages{" not in text
    assert sample(text, "timetable_metrics_scrape_errors_total", source="queue") == 1
    clock[0] += 6
    text = generate_latest(metrics.registry).decode()
    assert sample(text, "timetable_queue_messages", state="visible") == 0
    assert sample(text, "timetable_metrics_scrape_errors_total", source="queue") == 1
