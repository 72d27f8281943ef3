"""Request ids, one structured JSON log line per request, and Prometheus metrics.

One pure ASGI middleware does all three (a ``BaseHTTPMiddleware`` per concern would cost a task
switch each on the submit hot path). Logs never contain the API key or document content.

Store-backed gauges (uploads by status, queue depth, recent pipeline latency) are read at scrape time
through ``_CachedReading``: at most one read per source every ``cache_seconds`` however many scrapes
arrive, and a failing source leaves its gauges out and counts ``timetable_metrics_scrape_errors_total``.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from timetable_platform.store.factory import Store
from timetable_platform.store.models import Upload

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)
METRICS_CACHE_SECONDS = 5.0
RECENT_WINDOW = timedelta(hours=1)
# Uploads queued longer ago than this are not scanned for the latency window: the bound lets the query
# use ix_uploads_queued_at instead of scanning the whole table (there is no index on finished_at).
RECENT_QUEUED_LOOKBACK = timedelta(days=1)
LATENCY_QUANTILES = (0.5, 0.95)
QUEUE_STATES = ("visible", "in_flight", "dead")
_MAX_CACHED_SERIES = 1000
_log = logging.getLogger(__name__)
T = TypeVar("T")


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    """structlog rendering JSON (or console) lines; stdlib records go through the same renderer."""
    renderer: Any = structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer, foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name]
        )
    )
    root = logging.getLogger("timetable_platform")
    root.handlers = [handler]
    root.setLevel(level.upper())
    root.propagate = False


@dataclass(frozen=True)
class FinishedUploads:
    """Uploads that finished within the recent window: how many per status, and each one's latency."""

    counts: dict[str, int]
    latencies: list[float]  # seconds from queued_at (the last submission or reprocess) to finished_at


def recent_finished_uploads(
    session_factory: sessionmaker[Session], *, now: datetime | None = None, window: timedelta = RECENT_WINDOW
) -> FinishedUploads:
    """Uploads finished in the last ``window``; two timestamps and a status per row, bounded by queued_at.

    Latency counts from the last queueing: a reprocessed upload is measured from its reprocess, not
    from its first submission weeks ago."""
    now = now or datetime.now(UTC)
    since = now - window
    stmt = select(Upload.status, Upload.queued_at, Upload.finished_at).where(
        Upload.queued_at >= since - RECENT_QUEUED_LOOKBACK,
        Upload.finished_at >= since,
        Upload.finished_at <= now,
    )
    counts = {"succeeded": 0, "needs_review": 0, "failed": 0}
    latencies: list[float] = []
    with session_factory() as session:
        for status, queued_at, finished_at in session.execute(stmt):
            key = getattr(status, "value", status)
            counts[key] = counts.get(key, 0) + 1
            # clamp: hosts' clocks may disagree by a little (PostgreSQL stamps some rows itself)
            latencies.append(max(0.0, (finished_at - queued_at).total_seconds()))
    return FinishedUploads(counts=counts, latencies=latencies)


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (PostgreSQL's ``percentile_cont``); ``values`` non-empty."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


class _CachedReading(Generic[T]):
    """One source read at most once per ``ttl`` seconds; ``None`` when the last read failed.

    A failure is cached too (a dead dependency is not retried by every scrape) and counted once per
    attempt. While one thread reads, concurrent scrapes get the previous value instead of queueing
    behind it, so a slow database cannot pile scrapes up in the thread pool.
    """

    def __init__(
        self,
        source: str,
        read: Callable[[], T],
        *,
        ttl: float,
        errors: Counter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self._read = read
        self._ttl = ttl
        self._errors = errors
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._read_at: float | None = None
        errors.labels(source)  # the series exists at 0 before the first error

    def get(self) -> T | None:
        if not self._lock.acquire(blocking=False):
            return self._value
        try:
            now = self._clock()
            if self._read_at is not None and now - self._read_at < self._ttl:
                return self._value
            try:
                self._value = self._read()
            except Exception:  # a scrape must not fail because a dependency is down; /ready says that
                _log.warning("could not read %s for /metrics", self.source, exc_info=True)
                self._errors.labels(self.source).inc()
                self._value = None
            self._read_at = self._clock()
            return self._value
        finally:
            self._lock.release()


class Metrics:
    """The API's Prometheus metrics, on their own registry so several apps (tests) can coexist.

    ``store`` adds the queue depth and recent pipeline latency gauges; ``cache_seconds`` bounds how
    often each store-backed source is read however often /metrics is scraped.
    """

    def __init__(
        self,
        upload_status_counts: Callable[[], dict[str, int]] | None = None,
        *,
        store: Store | None = None,
        cache_seconds: float = METRICS_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "timetable_api_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "timetable_api_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.submissions = Counter(
            "timetable_api_submissions", "Uploads submitted, by outcome", ["outcome"], registry=self.registry
        )
        self.rate_limited = Counter(
            "timetable_api_rate_limited", "Requests refused with 429", registry=self.registry
        )
        self.auth_failures = Counter(
            "timetable_api_auth_failures",
            "Requests with a missing, unknown or revoked key or a bad share link",
            registry=self.registry,
        )
        self.scrape_errors = Counter(
            "timetable_metrics_scrape_errors",
            "Failed reads of a store-backed metric source (its gauges are absent until a read succeeds)",
            ["source"],
            registry=None,  # registered last, so a scrape reports the errors of its own reads
        )

        def cached(source: str, read: Callable[[], T]) -> _CachedReading[T]:
            return _CachedReading(source, read, ttl=cache_seconds, errors=self.scrape_errors, clock=clock)

        if upload_status_counts is not None:
            self.registry.register(_UploadStatusCollector(cached("uploads", upload_status_counts)))
        if store is not None:
            read_sessions = store.read_session_factory or store.session_factory
            self.registry.register(
                _StoreCollector(
                    cached("queue", lambda: store.queue.depth()),
                    cached("recent_uploads", lambda: recent_finished_uploads(read_sessions)),
                )
            )
        self.registry.register(self.scrape_errors)


class _UploadStatusCollector(Collector):
    """Uploads by status, read from the database at scrape time (so every replica reports the truth)."""

    def __init__(self, counts: _CachedReading[dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[GaugeMetricFamily]:
        counts = self._counts.get()
        if counts is None:
            return
        family = GaugeMetricFamily("timetable_uploads", "Uploads in the store by status", labels=["status"])
        for status, count in sorted(counts.items()):
            family.add_metric([status], count)
        yield family

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []


class _StoreCollector(Collector):
    """Queue depth and the last hour's finished uploads, the figures the operations alerts use."""

    def __init__(
        self, queue_depth: _CachedReading[dict[str, int]], finished: _CachedReading[FinishedUploads]
    ) -> None:
        self._queue_depth = queue_depth
        self._finished = finished

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = self._queue_depth.get()
        if depth is not None:
            family = GaugeMetricFamily(
                "timetable_queue_messages",
                "Messages in the upload queue by state (dead: in the dead-letter queue); approximate on SQS",
                labels=["state"],
            )
            for state in QUEUE_STATES:
                family.add_metric([state], depth.get(state, 0))
            yield family
        finished = self._finished.get()
        if finished is None:
            return
        window = f"{int(RECENT_WINDOW.total_seconds())}s"
        counts = GaugeMetricFamily(
            "timetable_uploads_finished_recent",
            f"Uploads that finished in the last {window}, by final status",
            labels=["status"],
        )
        for status, count in sorted(finished.counts.items()):
            counts.add_metric([status], count)
        yield counts
        if finished.latencies:  # no uploads finished: the latency is unknown, not zero
            latency = GaugeMetricFamily(
                "timetable_upload_latency_seconds",
                f"Submission to finish (finished_at - created_at) of uploads finished in the last {window}",
                labels=["quantile"],
            )
            for q in LATENCY_QUANTILES:
                latency.add_metric([str(q)], quantile(finished.latencies, q))
            yield latency

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []


class ObservabilityMiddleware:
    """Sets ``scope["state"]["request_id"]``, echoes it in ``X-Request-ID``, times and logs the request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = structlog.get_logger("timetable_platform.api.access")
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _series(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        """The request counter's and latency histogram's series for these labels; ``labels()`` checks and
        looks them up under a lock on every call, so the few the API uses are kept (the method is the
        client's: past a bound the lookup is made each time, as before)."""
        key = (method, route, status)
        series = self._children.get(key)
        if series is None:
            series = (
                self.metrics.requests.labels(method, route, str(status)),
                self.metrics.latency.labels(method, route),
            )
            if len(self._children) < _MAX_CACHED_SERIES:
                self._children[key] = series
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                request_id = candidate if _SAFE_REQUEST_ID.match(candidate) else None
                break
        # Not uuid4(): os.urandom releases the GIL, and the event loop then waits for a pool thread to give
        # it back. A request id names a request in the logs; it is no secret.
        request_id = request_id or uuid.UUID(int=random.getrandbits(128), version=4).hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            counter, histogram = self._series(method, route_path, status)
            counter.inc()
            histogram.observe(elapsed)
            state = scope.get("state", {})
            self.log.info(
                "request",
                request_id=request_id,
                method=method,
                path=scope["path"],
                route=route_path,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                tenant=state.get("tenant"),
                upload_id=state.get("upload_id"),
            )
