"""RFC 9457 problem details: every error the API returns is ``application/problem+json``,
including FastAPI's own 404/405/422 and anything unexpected (a 500 without a traceback)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://timetable-platform.example/problems/"

log = logging.getLogger(__name__)


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class Problem(HTTPException):
    """Raise anywhere in a route (or while the body is read) to answer with a problem document.

    An ``HTTPException`` so FastAPI lets it through unchanged where it wraps other errors (body parsing)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.status = status
        self.detail = detail
        self.code = code or _default_code(status)
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers
        self.extra = extra


def _default_code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def problem_body(
    status: int, detail: str, *, code: str, title: str, instance: str | None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(request: Request | None, problem: Problem) -> ProblemResponse:
    instance = request.url.path if request is not None else None
    body = problem_body(
        problem.status,
        problem.detail,
        code=problem.code,
        title=problem.title,
        instance=instance,
        **problem.extra,
    )
    return ProblemResponse(body, status_code=problem.status, headers=problem.headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        errors.append(
            {
                "field": ".".join(loc[1:]) or ".".join(loc),
                "in": loc[0] if loc else None,
                "message": error.get("msg", "invalid"),
                "type": error.get("type"),
            }
        )
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_http(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No route matches {request.url.path}"
        return problem_response(
            request, Problem(exc.status_code, detail, headers=getattr(exc, "headers", None))
        )

    async def on_validation(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _field_errors(exc)
        return problem_response(
            request,
            Problem(422, "The request has invalid parameters.", code="validation_error", errors=errors),
        )

    async def on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, Problem(500, "An unexpected error occurred; it has been logged."))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)


def problem_openapi(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem answers for a route."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
    return out
