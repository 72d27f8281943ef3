"""Request ids, one structured JSON log line per request, and Prometheus metrics.

One pure ASGI middleware does all three (a ``BaseHTTPMiddleware`` per concern would cost a task
switch each on the submit hot path). Logs never contain the API key or document content.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)


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


class Metrics:
    """The API's Prometheus metrics, on their own registry so several apps (tests) can coexist."""

    def __init__(self, upload_status_counts: Callable[[], dict[str, int]] | None = None) -> None:
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
        if upload_status_counts is not None:
            self.registry.register(_UploadStatusCollector(upload_status_counts))


class _UploadStatusCollector(Collector):
    """Uploads by status, read from the database at scrape time (so every replica reports the truth)."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("timetable_uploads", "Uploads in the store by status", labels=["status"])
        try:
            counts = self._counts()
        except Exception:  # a scrape must not fail because the database is down; /ready says that
            logging.getLogger(__name__).warning("could not count uploads for /metrics", exc_info=True)
            counts = {}
        for status, count in sorted(counts.items()):
            family.add_metric([status], count)
        yield family

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []


class ObservabilityMiddleware:
    """Sets ``scope["state"]["request_id"]``, echoes it in ``X-Request-ID``, times and logs the request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = structlog.get_logger("timetable_platform.api.access")

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
        request_id = request_id or uuid.uuid4().hex
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
            self.metrics.requests.labels(method, route_path, str(status)).inc()
            self.metrics.latency.labels(method, route_path).observe(elapsed)
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
