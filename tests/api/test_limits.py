"""Keys, rate limits, size and type limits, parameter errors, failure handling and the system routes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.api.conftest import PDF_BYTES, PREFIX, Api
from timetable_platform.api.ratelimit import MemoryRateLimiter, RedisRateLimiter
from timetable_platform.store import apikeys
from timetable_platform.store.models import Upload
from timetable_platform.store.retention import purge_expired_uploads, reconcile_orphans

PROBLEM = "application/problem+json"
REDIS_URL = "redis://127.0.0.1:6379/0"


def _count(api: Api) -> int:
    with api.store.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Upload)) or 0


def _assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"].startswith("https://")
    return body


def test_keys_are_required_checked_and_revocable(api: Api) -> None:
    _assert_problem(api.client.get(f"{PREFIX}/uploads"), 401)
    missing = api.client.get(f"{PREFIX}/uploads")
    assert missing.headers["www-authenticate"].startswith("ApiKey")
    _assert_problem(api.client.get(f"{PREFIX}/uploads", headers={"X-API-Key": "tt_not-a-real-key"}), 401)
    key = api.new_key("school-a")
    assert api.client.get(f"{PREFIX}/uploads", headers=key).status_code == 200
    with api.store.session_factory.begin() as session:
        (row,) = apikeys.list_api_keys(session, "school-a")
        assert row.key_hash != key["X-API-Key"] and key["X-API-Key"] not in (row.prefix, row.key_hash)
        assert key["X-API-Key"].startswith(row.prefix)
        apikeys.revoke_api_key(session, row.id)
    _assert_problem(api.client.get(f"{PREFIX}/uploads", headers=key), 401)


def test_rate_limit_answers_429_with_retry_after_per_key(make_api: Callable[..., Api]) -> None:
    api = make_api(rate_limit_per_minute=3)
    key, other = api.new_key("school-a"), api.new_key("school-a")
    for _ in range(3):
        assert api.client.get(f"{PREFIX}/uploads", headers=key).status_code == 200
    limited = api.client.get(f"{PREFIX}/uploads", headers=key)
    body = _assert_problem(limited, 429)
    assert 1 <= int(limited.headers["retry-after"]) <= 20
    assert body["retry_after"] == int(limited.headers["retry-after"])
    assert api.client.get(f"{PREFIX}/uploads", headers=other).status_code == 200
    assert "timetable_api_rate_limited_total 1.0" in api.client.get("/metrics").text


def test_memory_limiter_refills_at_the_configured_rate() -> None:
    now = [1000.0]
    limiter = MemoryRateLimiter(60, clock=lambda: now[0])  # one a second, burst 60
    assert all(limiter.hit("k").allowed for _ in range(60))
    refused = limiter.hit("k")
    assert not refused.allowed and 0 < refused.retry_after <= 1.0
    now[0] += 1.0
    assert limiter.hit("k").allowed
    assert not limiter.hit("k").allowed


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")


def test_redis_limit_is_shared_between_replicas(make_api: Callable[..., Api]) -> None:
    _redis_or_skip()
    first = make_api(rate_limit_per_minute=4)
    second = make_api(first.settings.database_url, rate_limit_per_minute=4)
    prefix = f"test:{uuid.uuid4().hex}:"  # this test's own budget on the shared server
    for api in (first, second):
        api.client.app.state.timetable.limiter = RedisRateLimiter(REDIS_URL, 4, prefix=prefix)  # type: ignore[attr-defined]
    key = first.new_key("school-a")
    answers = [api.client.get(f"{PREFIX}/uploads", headers=key).status_code for api in (first, second) * 3]
    assert answers == [200, 200, 200, 200, 429, 429]
    ready = first.client.get("/ready")
    assert ready.status_code == 200


def test_redis_outage_lets_requests_through() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", 1)
    assert all(limiter.hit("k").allowed for _ in range(3))
    assert limiter.ping() is False


def test_size_type_and_parameter_errors_are_problems(make_api: Callable[..., Api]) -> None:
    api = make_api(max_upload_bytes=1000)
    key = api.new_key("school-a")
    too_big = _assert_problem(api.submit(key, content=PDF_BYTES + b"0" * 1000), 413)
    assert too_big["limit_bytes"] == 1000
    _assert_problem(api.submit(key, content=b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" * 4), 415)
    _assert_problem(api.submit(key, content=b"   "), 422)
    bad_mode = _assert_problem(api.submit(key, mode="turbo"), 422)
    assert [e["field"] for e in bad_mode["errors"]] == ["mode"]
    bad_url = _assert_problem(api.submit(key, callback_url="ftp://example.org/x"), 422)
    assert bad_url["errors"][0]["field"] == "callback_url"
    no_file = _assert_problem(api.client.post(f"{PREFIX}/uploads", headers=key, data={"mode": "hybrid"}), 422)
    assert no_file["errors"][0]["field"] == "file"
    for params in (
        {"limit": 0},
        {"limit": 10_000},
        {"status": "done"},
        {"cursor": "garbage!"},
        {"created_after": "yesterday"},
        {"created_after": "2026-11-29T09:00:00"},
    ):
        _assert_problem(api.client.get(f"{PREFIX}/uploads", params=params, headers=key), 422)
    _assert_problem(
        api.client.get(f"{PREFIX}/uploads/x/timetable", params={"format": "pdf"}, headers=key), 422
    )
    _assert_problem(api.client.get(f"{PREFIX}/nowhere", headers=key), 404)
    _assert_problem(api.client.put(f"{PREFIX}/uploads", headers=key), 405)
    assert _count(api) == 0


@pytest.mark.parametrize("failing", ["blobs", "database", "queue"])
def test_a_failed_write_answers_503_and_leaves_nothing(
    api: Api, failing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = api.new_key("school-a")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("down")

    # both submit paths: one transaction per request, and group commit (the API's default)
    if failing == "blobs":
        monkeypatch.setattr(api.store.blobs, "put", broken)
        monkeypatch.setattr(api.store.blobs, "put_deferring_directories", broken)
    elif failing == "queue":  # the database queue enqueues inside the row's transaction (send_within)
        monkeypatch.setattr(api.store.queue, "send", broken)
        monkeypatch.setattr(api.store.queue, "send_within", broken)
        monkeypatch.setattr(api.store.queue, "send_many_within", broken)
        # SQLite's group commit writes on the driver connection: the messages, after the rows and events
        monkeypatch.setattr(api.store.queue, "message_values", broken)
    else:
        monkeypatch.setattr("timetable_platform.store.repository.insert_upload", broken)
        monkeypatch.setattr("timetable_platform.store.repository.insert_uploads", broken)
        monkeypatch.setattr("timetable_platform.store.intake_writer._Insert.values", broken)
    response = api.submit(key)
    _assert_problem(response, 503)
    assert response.headers["retry-after"]
    assert _count(api) == 0
    assert list(api.store.blobs.list("uploads/")) == []
    monkeypatch.undo()
    assert api.submit(key).status_code == 202  # and a retry then works


def test_reconciler_requeues_an_orphaned_upload(api: Api) -> None:
    key = api.new_key("school-a")
    orphan = api.submit(key).json()["upload_id"]
    fresh = api.submit(key, content=PDF_BYTES + b"%2\n").json()["upload_id"]
    api.store.queue.purge_upload(orphan)  # as if the process died between row and message
    with api.store.session_factory.begin() as session:
        session.execute(
            update(Upload)
            .where(Upload.id == orphan)
            .values(updated_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert reconcile_orphans(api.store, older_than=timedelta(minutes=10)) == 1
    bodies = sorted(m.body["upload_id"] for m in api.store.queue.receive(10))
    assert bodies == sorted([orphan, fresh])  # one message each, the fresh one untouched


def test_reconciler_leaves_historical_uploads_to_their_backfill(api: Api) -> None:
    key = api.new_key("school-a")
    historical = api.submit(key).json()["upload_id"]
    api.store.queue.purge_upload(historical)  # registered by the historical sensor: no queue message
    with api.store.session_factory.begin() as session:
        session.execute(
            update(Upload)
            .where(Upload.id == historical)
            .values(label="historical:school-a/2019/week.pdf", updated_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert reconcile_orphans(api.store, older_than=timedelta(minutes=10)) == 0
    assert api.store.queue.receive(10) == []


def test_retention_erases_only_old_uploads(api: Api) -> None:
    key = api.new_key("school-a")
    old = api.submit(key).json()["upload_id"]
    new = api.submit(key, content=PDF_BYTES + b"%2\n").json()["upload_id"]
    with api.store.session_factory.begin() as session:
        session.execute(
            update(Upload).where(Upload.id == old).values(created_at=datetime.now(UTC) - timedelta(days=91))
        )
    replayable = {**key, "Idempotency-Key": "k1"}
    assert api.submit(replayable, content=PDF_BYTES + b"%3\n").status_code == 202
    assert purge_expired_uploads(api.store, days=90) == 1
    assert api.submit(replayable, content=PDF_BYTES + b"%3\n").headers["idempotent-replayed"] == "true"
    # a day later the key is forgotten: the same request is answered afresh (here: the existing upload)
    purge_expired_uploads(api.store, days=90, now=datetime.now(UTC) + timedelta(hours=25))
    assert "idempotent-replayed" not in api.submit(replayable, content=PDF_BYTES + b"%3\n").headers
    assert api.client.get(f"{PREFIX}/uploads/{old}", headers=key).status_code == 404
    assert api.client.get(f"{PREFIX}/uploads/{new}", headers=key).status_code == 200
    assert list(api.store.blobs.list(f"uploads/school-a/{old}/")) == []


def test_health_ready_and_metrics(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    assert api.client.get("/health").json() == {"status": "ok"}
    ready = api.client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "database": {"ok": True},
        "blob_store": {"ok": True},
        "queue": {"ok": True},
    }
    key = api.new_key("school-a")
    api.submit(key)
    text = api.client.get("/metrics").text
    assert 'timetable_uploads{status="queued"} 1.0' in text
    assert (
        'timetable_api_requests_total{method="POST",route="/api/v2/timetable/uploads",status="202"} 1.0'
        in text
    )
    assert "timetable_api_request_duration_seconds_bucket" in text

    def down() -> None:
        raise ConnectionError("secret-host:5432 refused")

    monkeypatch.setattr(api.store.blobs, "ping", down)
    not_ready = api.client.get("/ready")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["blob_store"] == {"ok": False, "detail": "ConnectionError"}


def test_request_ids_and_logs_without_secrets(
    api: Api, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    key = api.new_key("school-a")
    given = api.client.get(f"{PREFIX}/uploads", headers={**key, "X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = api.client.get(f"{PREFIX}/uploads", headers={**key, "X-Request-ID": "bad id\n"})
    assert len(made.headers["x-request-id"]) == 32
    api.submit(key)
    logged = capsys.readouterr()
    text = logged.out + logged.err + caplog.text
    assert '"request_id": "abc-123"' in text
    assert '"tenant": "school-a"' in text
    assert key["X-API-Key"] not in text


def test_cors_allows_only_the_configured_origins(make_api: Callable[..., Api]) -> None:
    api = make_api(cors_origins=["https://app.school.example"])
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"}
    ok = api.client.options(
        f"{PREFIX}/uploads", headers={"Origin": "https://app.school.example", **preflight}
    )
    assert ok.headers["access-control-allow-origin"] == "https://app.school.example"
    refused = api.client.options(f"{PREFIX}/uploads", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers


def test_unexpected_errors_are_problems_without_traceback(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    key = api.new_key("school-a")

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("internal detail")

    monkeypatch.setattr("timetable_platform.store.repository.list_uploads", explode)
    body = _assert_problem(api.client.get(f"{PREFIX}/uploads", headers=key), 500)
    assert "internal detail" not in body["detail"] and "Traceback" not in body["detail"]


def test_oversized_bodies_are_refused_before_parsing(make_api: Callable[..., Api]) -> None:
    api = make_api(max_upload_bytes=1000)
    key = api.new_key("school-a")
    big = PDF_BYTES + b"0" * 200_000
    declared = api.submit(key, content=big)  # Content-Length known: refused before the body is read
    assert _assert_problem(declared, 413)["limit_bytes"] == 1000

    def chunks():  # type: ignore[no-untyped-def]
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="t.pdf"\r\n\r\n'
        for _ in range(50):
            yield b"%PDF-" + b"0" * 9_995
        yield b"\r\n--b--\r\n"

    streamed = api.client.post(
        f"{PREFIX}/uploads",
        headers={**key, "Content-Type": "multipart/form-data; boundary=b"},
        content=chunks(),
    )
    _assert_problem(streamed, 413)
    assert _count(api) == 0
