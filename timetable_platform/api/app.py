"""The FastAPI application factory. Run with ``uvicorn --factory timetable_platform.api:create_app``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from timetable_platform.api.bodylimit import AuthenticateBeforeBody, BodySizeLimit
from timetable_platform.api.deps import API_KEY_HEADER, AppState
from timetable_platform.api.observability import (
    REQUEST_ID_HEADER,
    Metrics,
    ObservabilityMiddleware,
    configure_logging,
)
from timetable_platform.api.problems import install_problem_handlers
from timetable_platform.api.ratelimit import build_rate_limiter
from timetable_platform.api.routes import review, system, timetables, uploads
from timetable_platform.api.schemas import ProblemDetails, submit_form_schema
from timetable_platform.api.security_headers import NoSniff
from timetable_platform.settings import Settings, get_settings, load_env_file
from timetable_platform.store import repository
from timetable_platform.store.factory import Store, build_store

DESCRIPTION = """Submit timetable documents (PDF, scans, photos, DOCX, XLSX, CSV), follow their extraction,
and fetch the structured timetable as JSON, CSV, iCalendar or FullCalendar events, or see the week.

Authenticate with an API key in the `X-API-Key` header (`timetable keys create --tenant NAME`).
Every error is an RFC 9457 `application/problem+json` document."""


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app. ``store`` defaults to ``build_store(settings)`` (the schema must be migrated)."""
    if settings is None:  # the uvicorn entry point: AWS_* from .env for the S3 and SQS clients
        load_env_file()
    settings = settings or get_settings()
    owns_store = store is None
    if store is None:
        store = build_store(settings)
    configure_logging(settings.log_level, settings.log_json)

    def upload_status_counts() -> dict[str, int]:
        with store.session_factory() as session:
            return repository.status_counts(session)

    metrics = Metrics(upload_status_counts, store=store)
    state = AppState(
        settings=settings,
        store=store,
        limiter=build_rate_limiter(settings.redis_url, settings.rate_limit_per_minute),
        metrics=metrics,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.get_running_loop().run_in_executor(state.submit_pool, uploads.warm_up)
        yield
        state.submit_pool.shutdown(wait=True)  # submissions in flight finish before the store closes
        if owns_store:
            store.dispose()

    # /docs and /redoc load Swagger UI and ReDoc from the package's files (under /static-offline-docs),
    # not from a CDN, so they render on a machine without internet.
    app = FastAPIOffline(
        title="Timetable platform API",
        version="2.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.timetable = state
    install_problem_handlers(app)
    # The hot submit path answers from a plain Starlette route ahead of the routers; the APIRoute of the
    # same path and method documents it (uploads.submit_endpoint).
    app.router.routes.insert(0, uploads.SubmitRoute())
    app.include_router(uploads.router)
    app.include_router(review.router)
    app.include_router(timetables.router)
    app.include_router(system.router)
    app.add_middleware(
        BodySizeLimit,
        max_document_bytes=settings.max_upload_bytes,
        idle_timeout=settings.body_idle_timeout_seconds,
        total_timeout=settings.body_timeout_seconds,
    )
    # Outside the size limit: a caller without a key gets 401 before anything of the body is read.
    app.add_middleware(AuthenticateBeforeBody, state=state, prefix=uploads.PREFIX)
    # Outside both, so their 401/413/408 answers carry CORS headers a browser can read.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=[API_KEY_HEADER, "Idempotency-Key", "Content-Type", REQUEST_ID_HEADER, "If-Match"],
            expose_headers=["Location", "Retry-After", REQUEST_ID_HEADER, "Idempotent-Replayed", "ETag"],
            max_age=600,
        )
    app.add_middleware(NoSniff)
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["ProblemDetails"] = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas["SubmitUploadForm"] = submit_form_schema()  # read by the route itself (uploads.submit_form)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
