"""What routes depend on: the app's shared state, the caller's identity (API key) and the rate limit."""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Security
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from timetable_platform.api import sharing
from timetable_platform.api.observability import Metrics
from timetable_platform.api.problems import Problem
from timetable_platform.api.ratelimit import Decision, MemoryRateLimiter, RateLimiter, build_rate_limiter
from timetable_platform.settings import Settings
from timetable_platform.store import apikeys
from timetable_platform.store.apikeys import Principal
from timetable_platform.store.factory import Store

API_KEY_HEADER = "X-API-Key"
PRINCIPAL_STATE = "principal"  # scope["state"] key of the principal AuthenticateBeforeBody found
_MAX_CACHED_KEYS = 10_000
SUBMIT_THREADS = 40  # as many as FastAPI's pool runs sync routes with: fsyncs of concurrent uploads overlap


class KeyCache:
    """Checked keys (by hash) for ``ttl`` seconds: most requests then cost no database read.
    Unknown keys are cached too, so a client retrying a bad key does not hammer the database.

    Revocation: a key revoked in this process is dropped at once (``apikeys.on_revocation``); one
    revoked elsewhere (CLI, another replica) is noticed by polling ``apikeys.revocation_marker``
    every ``poll_seconds``, which empties the cache."""

    def __init__(self, ttl: float, poll_seconds: float = 2.0) -> None:
        self.ttl = ttl
        self.poll_seconds = poll_seconds
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()
        self._marker: object = None
        self._next_poll = 0.0
        apikeys.on_revocation(self)

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

    def revoked(self, key_hash: str) -> None:
        with self._lock:
            self._entries.pop(key_hash, None)

    def poll_due(self) -> bool:
        return self.ttl > 0 and time.monotonic() >= self._next_poll

    def observe(self, marker: object) -> None:
        """The latest revocation marker: a change empties the cache."""
        with self._lock:
            if marker != self._marker:
                self._entries.clear()
                self._marker = marker
            self._next_poll = time.monotonic() + self.poll_seconds


@dataclass
class AppState:
    settings: Settings
    store: Store
    limiter: RateLimiter
    metrics: Metrics
    key_cache: KeyCache = field(init=False)
    auth_failure_limiter: RateLimiter = field(init=False)
    # The submit route's blocking work (page count, fsyncs, database); threads start on first use.
    submit_pool: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.submit_pool = ThreadPoolExecutor(SUBMIT_THREADS, thread_name_prefix="submit")
        self.key_cache = KeyCache(
            self.settings.api_key_cache_seconds, poll_seconds=self.settings.api_key_revocation_poll_seconds
        )
        self.auth_failure_limiter = build_rate_limiter(
            self.settings.redis_url, self.settings.failed_auth_per_minute, prefix="timetable:authfail:"
        )


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


def client_address(scope: Scope) -> str:
    """The client's address (the proxy's unless uvicorn runs with ``--proxy-headers``)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


async def _hit(limiter: RateLimiter, key: str) -> Decision:
    if isinstance(limiter, MemoryRateLimiter):
        return limiter.hit(key)
    return await run_in_threadpool(limiter.hit, key)


async def refuse_blocked_address(state: AppState, scope: Scope) -> None:
    """429 for an address that used up its failed-authentication budget: while it lasts, no key or
    share token from there is even checked, so guessing gains nothing."""
    key = f"authfail:{client_address(scope)}"
    limiter = state.auth_failure_limiter
    decision = limiter.peek(key) if isinstance(limiter, MemoryRateLimiter) else await run_in_threadpool(limiter.peek, key)
    if not decision.allowed:
        raise _too_many_failures(state, decision.retry_after)


async def count_failed_authentication(state: AppState, scope: Scope, detail: str) -> Problem:
    """Charge the address one failed attempt; the problem to answer with (401, or 429 once over budget)."""
    state.metrics.auth_failures.inc()
    await _hit(state.auth_failure_limiter, f"authfail:{client_address(scope)}")
    return _unauthorized(detail)


async def principal_for_key(state: AppState, scope: Scope, key: str | None) -> Principal:
    """The tenant of ``X-API-Key``, or a 401/429 problem. Unknown and revoked keys count against the
    client address's failed-authentication budget.

    A key this process checked and found valid moments ago (the cache) skips the budget check: the
    common request then costs no Redis round trip, and a guess is never in that cache."""
    hit, principal = False, None
    if key:
        key_hash = apikeys.hash_key(key)
        if state.key_cache.poll_due():
            state.key_cache.observe(await run_in_threadpool(_revocation_marker, state))
        hit, principal = state.key_cache.get(key_hash)
        if hit and principal is not None:
            return principal
    await refuse_blocked_address(state, scope)
    if not key:
        raise await count_failed_authentication(state, scope, f"Send an API key in the {API_KEY_HEADER} header.")
    if not hit:
        principal = await run_in_threadpool(_lookup_key, state, key)
        state.key_cache.put(key_hash, principal)
    if principal is None:
        raise await count_failed_authentication(state, scope, "The API key is unknown or revoked.")
    return principal


async def authenticate(
    state: StateDep, request: Request, key: Annotated[str | None, Security(api_key_scheme)]
) -> Principal:
    """The caller's tenant from ``X-API-Key``, then one token from its rate budget.

    Requests with a body were already authenticated by ``AuthenticateBeforeBody`` (before a byte of
    the body was read); the principal it found is reused. Async so the common case (a cached key,
    an in-memory limit) costs no thread-pool hop; the database and Redis calls run in the pool."""
    scope_state = request.scope.setdefault("state", {})
    principal = scope_state.get(PRINCIPAL_STATE)
    if principal is None:
        principal = await principal_for_key(state, request.scope, key)
    scope_state["tenant"] = principal.tenant
    decision = await _hit(state.limiter, f"key:{principal.api_key_id}")
    if not decision.allowed:
        raise _rate_limited(state, decision.retry_after)
    return principal


def _too_many_failures(state: AppState, seconds: float) -> Problem:
    return _throttled(state, seconds, "Too many failed authentication attempts from this address")


def _rate_limited(state: AppState, seconds: float) -> Problem:
    return _throttled(
        state, seconds, f"Rate limit of {state.settings.rate_limit_per_minute} requests a minute exceeded"
    )


def _throttled(state: AppState, seconds: float, reason: str) -> Problem:
    """429 with ``Retry-After`` (whole seconds, at least 1)."""
    state.metrics.rate_limited.inc()
    retry_after = max(1, math.ceil(seconds))
    return Problem(
        429,
        f"{reason}; retry in {retry_after} s.",
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
    await refuse_blocked_address(state, request.scope)
    principal = await run_in_threadpool(_check_share_link, state, upload_id, expires, token)
    if principal is None:
        raise await count_failed_authentication(state, request.scope, "The share link is invalid or has expired.")
    request.scope.setdefault("state", {})["tenant"] = principal.tenant
    decision = await _hit(state.limiter, f"share:{upload_id}")
    if not decision.allowed:
        raise _rate_limited(state, decision.retry_after)
    return principal


def _revocation_marker(state: AppState) -> tuple[int, object]:
    with state.store.read_session_factory() as session:  # type: ignore[misc]
        return apikeys.revocation_marker(session)


def _lookup_key(state: AppState, key: str) -> Principal | None:
    with state.store.session_factory() as session:
        return apikeys.authenticate(session, key)


PrincipalDep = Annotated[Principal, Depends(authenticate)]
ReaderDep = Annotated[Principal, Depends(authenticate_reader)]


def request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


# --- edit links (teacher review) ------------------------------------------------------------------

EDIT_PRINCIPAL_STATE = "edit_principal"  # scope["state"] key of a principal found from an edit token


def _check_edit_link(state: AppState, upload_id: str, expires: int, token: str) -> Principal | None:
    from timetable_platform.api import edit_links
    from timetable_platform.store.models import Upload

    with state.store.session_factory() as session:
        upload = session.get(Upload, upload_id) if len(upload_id) <= 64 and "\x00" not in upload_id else None
        secret = apikeys.tenant_secret(session, upload.tenant) if upload is not None else None
    if upload is None or secret is None or not edit_links.token_is_valid(secret, upload_id, expires, token):
        return None
    return Principal(api_key_id=None, tenant=upload.tenant)


async def principal_for_edit_token(state: AppState, scope: Scope, upload_id: str, value: str) -> Principal:
    """The tenant of an edit link (``X-Edit-Token`` header, or ``expires`` + ``token`` of the edit
    page's URL) for this very upload, or a 401/429 problem; failures count like bad keys."""
    from timetable_platform.api import edit_links

    await refuse_blocked_address(state, scope)
    parsed = edit_links.parse_header(value)
    principal = await run_in_threadpool(_check_edit_link, state, upload_id, *parsed) if parsed else None
    if principal is None:
        raise await count_failed_authentication(state, scope, "The edit link is invalid or has expired.")
    decision = await _hit(state.limiter, f"edit:{upload_id}")
    if not decision.allowed:
        raise _rate_limited(state, decision.retry_after)
    return principal


async def authenticate_editor(
    state: StateDep,
    request: Request,
    upload_id: Annotated[str, Path(min_length=1, max_length=64)],
    key: Annotated[str | None, Security(api_key_scheme)] = None,
) -> Principal:
    """An API key, or an edit link for this very upload (never a read-only share link)."""
    from timetable_platform.api.edit_links import EDIT_TOKEN_HEADER

    scope_state = request.scope.setdefault("state", {})
    found = scope_state.get(EDIT_PRINCIPAL_STATE)
    if found is not None:  # checked by AuthenticateBeforeBody against this path's upload
        scope_state["tenant"] = found.tenant
        return found
    value = request.headers.get(EDIT_TOKEN_HEADER)
    if key or value is None:
        return await authenticate(state, request, key)
    principal = await principal_for_edit_token(state, request.scope, upload_id, value)
    scope_state["tenant"] = principal.tenant
    return principal


EditorDep = Annotated[Principal, Depends(authenticate_editor)]


async def authenticate_edit_page(
    state: StateDep,
    request: Request,
    upload_id: Annotated[str, Path(min_length=1, max_length=64)],
    expires: Annotated[int, Query(ge=0, le=2**40, description="from the edit link")],
    token: Annotated[str, Query(min_length=64, max_length=64, description="from the edit link")],
) -> Principal:
    """The edit page's link (``expires`` + ``token`` in its URL); guesses count like bad keys."""
    principal = await principal_for_edit_token(state, request.scope, upload_id, f"{expires}.{token}")
    request.scope.setdefault("state", {})["tenant"] = principal.tenant
    return principal


EditPageDep = Annotated[Principal, Depends(authenticate_edit_page)]
