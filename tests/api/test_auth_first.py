"""Unauthenticated clients cannot hold resources: the key is checked before the body is read, slow
bodies are cut off, and failed authentication is limited per client address."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from tests.api.conftest import PREFIX, Api

Message = dict[str, Any]


async def _never() -> Message:
    await asyncio.Event().wait()  # a client that sent its headers and then nothing
    raise AssertionError("unreachable")


def _call(api: Api, headers: dict[str, str], receive: Callable[[], Awaitable[Message]]) -> list[Message]:
    """Drive the ASGI app directly with our own ``receive``; give up after 5 s (a held request)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{PREFIX}/uploads",
        "raw_path": f"{PREFIX}/uploads".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"multipart/form-data; boundary=b"),
            (b"content-length", b"5000"),
            *[(k.lower().encode(), v.encode()) for k, v in headers.items()],
        ],
        "client": ("203.0.113.9", 40000),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        await asyncio.wait_for(api.client.app(scope, receive, send), timeout=5)

    asyncio.run(run())
    return sent


def _status(sent: list[Message]) -> int:
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    return start["status"]


def test_a_bad_key_is_refused_without_reading_the_body(api: Api) -> None:
    reads = 0

    async def counting_never() -> Message:
        nonlocal reads
        reads += 1
        return await _never()

    assert _status(_call(api, {"X-API-Key": "tt_guess"}, counting_never)) == 401
    assert _status(_call(api, {}, counting_never)) == 401
    assert reads == 0


def test_a_stalled_body_is_cut_off_with_408(make_api: Callable[..., Api]) -> None:
    api = make_api(body_idle_timeout_seconds=0.3)
    key = api.new_key("school-a")
    sent_first = False

    async def one_chunk_then_nothing() -> Message:
        nonlocal sent_first
        if not sent_first:
            sent_first = True
            return {"type": "http.request", "body": b"--b\r\n", "more_body": True}
        return await _never()

    sent = _call(api, key, one_chunk_then_nothing)
    assert _status(sent) == 408
    assert b"body_timeout" in b"".join(m.get("body", b"") for m in sent)


def test_a_trickled_body_is_cut_off_at_the_total_deadline(make_api: Callable[..., Api]) -> None:
    api = make_api(body_idle_timeout_seconds=1, body_timeout_seconds=0.5)
    key = api.new_key("school-a")

    first = True

    async def trickle() -> Message:
        nonlocal first
        await asyncio.sleep(0.1)  # never idle for long, never done
        body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="t.pdf"\r\n\r\n' if first else b"0"
        first = False
        return {"type": "http.request", "body": body, "more_body": True}

    assert _status(_call(api, key, trickle)) == 408


def test_failed_authentication_is_limited_per_address(make_api: Callable[..., Api]) -> None:
    api = make_api(failed_auth_per_minute=3)
    good = api.new_key("school-a")
    bad = {"X-API-Key": "tt_guess"}
    assert api.client.get(f"{PREFIX}/uploads", headers=good).status_code == 200
    assert [api.client.get(f"{PREFIX}/uploads", headers=bad).status_code for _ in range(3)] == [401] * 3
    refused = api.client.get(f"{PREFIX}/uploads", headers=bad)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    # While the address is over budget nothing from it is checked, not even a good key: guessing gains nothing.
    assert api.client.get(f"{PREFIX}/uploads", headers=good).status_code == 429
    assert api.client.post(f"{PREFIX}/uploads", headers=bad, files={"file": ("t.pdf", b"x")}).status_code == 429
    bad_share = api.client.get(f"{PREFIX}/uploads/x/view", params={"expires": 1, "token": "0" * 64})
    assert bad_share.status_code == 429


def test_bad_share_tokens_count_as_failed_authentication(make_api: Callable[..., Api]) -> None:
    api = make_api(failed_auth_per_minute=2)
    codes = [
        api.client.get(f"{PREFIX}/uploads/x/view", params={"expires": 4_000_000_000, "token": "0" * 64}).status_code
        for _ in range(3)
    ]
    assert codes == [401, 401, 429]


def test_peek_spends_nothing_on_memory_and_redis() -> None:
    import uuid

    import pytest

    from timetable_platform.api.ratelimit import MemoryRateLimiter, RedisRateLimiter

    limiters: list[Any] = [MemoryRateLimiter(2)]
    redis_limiter = RedisRateLimiter("redis://127.0.0.1:6379/0", 2, prefix=f"test:{uuid.uuid4().hex}:")
    if redis_limiter.ping():
        limiters.append(redis_limiter)
    for limiter in limiters:
        assert all(limiter.peek("a").allowed for _ in range(5))
        assert [limiter.hit("a").allowed for _ in range(3)] == [True, True, False]
        blocked = limiter.peek("a")
        assert not blocked.allowed and blocked.retry_after > 0
    if len(limiters) == 1:
        pytest.skip("Redis not reachable on 127.0.0.1:6379: checked the memory limiter only")


def test_revocation_is_immediate_here_and_within_the_poll_interval_elsewhere(make_api: Callable[..., Api]) -> None:
    import time

    from sqlalchemy import update

    from timetable_platform.store import apikeys
    from timetable_platform.store.api_models import ApiKey

    api = make_api(api_key_cache_seconds=30, api_key_revocation_poll_seconds=0.3)
    here, elsewhere = api.new_key("school-a"), api.new_key("school-a")
    for key in (here, elsewhere):
        assert api.client.get(f"{PREFIX}/uploads", headers=key).status_code == 200  # now cached for 30 s

    with api.store.session_factory.begin() as session:  # revoked by this process
        [row] = [k for k in apikeys.list_api_keys(session, "school-a") if here["X-API-Key"].startswith(k.prefix)]
        apikeys.revoke_api_key(session, row.id)
    assert api.client.get(f"{PREFIX}/uploads", headers=here).status_code == 401

    with api.store.session_factory.begin() as session:  # revoked by another process (plain SQL, no event)
        session.execute(
            update(ApiKey)
            .where(ApiKey.key_hash == apikeys.hash_key(elsewhere["X-API-Key"]))
            .values(revoked_at=datetime.now(UTC))
        )
    time.sleep(0.4)
    assert api.client.get(f"{PREFIX}/uploads", headers=elsewhere).status_code == 401


def test_a_refusal_before_the_body_still_carries_cors_headers(make_api: Callable[..., Api]) -> None:
    """A browser app must be able to read the 401 (not see an opaque CORS failure)."""
    api = make_api(cors_origins=["https://app.school.example"])
    refused = api.client.post(
        f"{PREFIX}/uploads",
        headers={"Origin": "https://app.school.example", "X-API-Key": "tt_wrong"},
        files={"file": ("t.pdf", b"%PDF-1.4")},
    )
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "https://app.school.example"
