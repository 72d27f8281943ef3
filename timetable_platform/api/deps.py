"""What routes depend on: the app's shared state, the caller's identity (API key) and the rate limit."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Security
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from timetable_platform.api import sharing
from timetable_platform.api.observability import Metrics
from timetable_platform.api.problems import Problem
from timetable_platform.api.ratelimit import MemoryRateLimiter, RateLimiter
from timetable_platform.settings import Settings
from timetable_platform.store import apikeys
from timetable_platform.store.apikeys import Principal
from timetable_platform.store.factory import Store

API_KEY_HEADER = "X-API-Key"
_MAX_CACHED_KEYS = 10_000


class KeyCache:
    """Checked keys (by hash) for ``ttl`` seconds: most requests then cost no database read.
    Unknown keys are cached too, so a client retrying a bad key does not hammer the database."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> tuple[bool, Principal | None]:
        if self.ttl <= 0:
            return False, None
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key_hash: str, principal: Principal | None) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= _MAX_CACHED_KEYS:
                self._entries.clear()
            self._entries[key_hash] = (time.monotonic() + self.ttl, principal)


@dataclass
class AppState:
    settings: Settings
    store: Store
    limiter: RateLimiter
    metrics: Metrics
    key_cache: KeyCache = field(init=False)

    def __post_init__(self) -> None:
        self.key_cache = KeyCache(self.settings.api_key_cache_seconds)


async def get_state(request: Request) -> AppState:
    return request.app.state.timetable


StateDep = Annotated[AppState, Depends(get_state)]

api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="A key from `timetable keys create`"
)


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401, detail, code="unauthorized", headers={"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'}
    )


async def authenticate(
    state: StateDep, request: Request, key: Annotated[str | None, Security(api_key_scheme)]
) -> Principal:
    """The caller's tenant from ``X-API-Key``, then one token from its rate budget.

    Async so the common case (a cached key, an in-memory limit) costs no thread-pool hop; the
    database and Redis calls run in the pool."""
    if not key:
        raise _unauthorized(f"Send an API key in the {API_KEY_HEADER} header.")
    key_hash = apikeys.hash_key(key)
    hit, principal = state.key_cache.get(key_hash)
    if not hit:
        principal = await run_in_threadpool(_lookup_key, state, key)
        state.key_cache.put(key_hash, principal)
    if principal is None:
        raise _unauthorized("The API key is unknown or revoked.")
    request.scope["state"]["tenant"] = principal.tenant
    limit_key = f"key:{principal.api_key_id}"
    if isinstance(state.limiter, MemoryRateLimiter):
        decision = state.limiter.hit(limit_key)
    else:
        decision = await run_in_threadpool(state.limiter.hit, limit_key)
    if not decision.allowed:
        raise _rate_limited(state, decision.retry_after)
    return principal


def _rate_limited(state: AppState, seconds: float) -> Problem:
    state.metrics.rate_limited.inc()
    retry_after = max(1, math.ceil(seconds))
    return Problem(
        429,
        f"Rate limit of {state.settings.rate_limit_per_minute} requests a minute exceeded; retry in {retry_after} s.",
        code="rate_limited",
        headers={"Retry-After": str(retry_after)},
        retry_after=retry_after,
    )


def _check_share_link(state: AppState, upload_id: str, expires: int, token: str) -> Principal | None:
    from timetable_platform.store.models import Upload

    with state.store.session_factory() as session:
        upload = session.get(Upload, upload_id)
        secret = apikeys.tenant_secret(session, upload.tenant) if upload is not None else None
    if upload is None or secret is None or not sharing.token_is_valid(secret, upload_id, expires, token):
        return None
    return Principal(api_key_id=None, tenant=upload.tenant)


async def authenticate_reader(
    state: StateDep,
    request: Request,
    upload_id: Annotated[str, Path(min_length=1, max_length=64)],
    key: Annotated[str | None, Security(api_key_scheme)] = None,
    expires: Annotated[int | None, Query(ge=0, le=2**40, description="from a share link")] = None,
    token: Annotated[str | None, Query(min_length=64, max_length=64, description="from a share link")] = None,
) -> Principal:
    """An API key, or a share link (``expires`` + ``token``) for this very upload."""
    if key or token is None or expires is None:
        return await authenticate(state, request, key)
    principal = await run_in_threadpool(_check_share_link, state, upload_id, expires, token)
    if principal is None:
        raise _unauthorized("The share link is invalid or has expired.")
    request.scope["state"]["tenant"] = principal.tenant
    decision = (
        state.limiter.hit(f"share:{upload_id}")
        if isinstance(state.limiter, MemoryRateLimiter)
        else (await run_in_threadpool(state.limiter.hit, f"share:{upload_id}"))
    )
    if not decision.allowed:
        raise _rate_limited(state, decision.retry_after)
    return principal


def _lookup_key(state: AppState, key: str) -> Principal | None:
    with state.store.session_factory() as session:
        return apikeys.authenticate(session, key)


PrincipalDep = Annotated[Principal, Depends(authenticate)]
ReaderDep = Annotated[Principal, Depends(authenticate_reader)]


def request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")
