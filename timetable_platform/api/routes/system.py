"""Liveness, readiness and Prometheus metrics (unauthenticated, outside the versioned prefix)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from timetable_platform.api.deps import StateDep
from timetable_platform.api.schemas import HealthResponse, ReadyResponse

router = APIRouter(tags=["system"])


@router.get("/health", response_model=HealthResponse, summary="Liveness: the process answers (no I/O)")
async def health() -> HealthResponse:
    return HealthResponse()


@router.get(
    "/ready",
    response_model=ReadyResponse,
    summary="Readiness: database, blob store, queue (and Redis when configured) reachable",
    responses={503: {"description": "A dependency is unreachable", "model": ReadyResponse}},
)
def ready(state: StateDep) -> JSONResponse:
    checks: dict[str, dict[str, object]] = {}
    names = {"database": "database", "blobs": "blob_store", "queue": "queue"}
    for name, result in state.store.ping().items():
        # Only the error's class: messages can carry hosts or URLs that do not belong in a public answer.
        checks[names.get(name, name)] = (
            {"ok": True} if result == "ok" else {"ok": False, "detail": result.split(":", 1)[0]}
        )
    if state.settings.redis_url:
        ok = state.limiter.ping()
        checks["rate_limiter"] = {"ok": True} if ok else {"ok": False, "detail": "redis unreachable"}
    all_ok = all(check["ok"] for check in checks.values())
    body = {"status": "ready" if all_ok else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if all_ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics: requests, latency histograms, uploads by status",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"example": "timetable_api_requests_total{...} 42.0"}}}
    },
)
def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
