"""``/uploads/{id}/timetables``: the timetables of a school-wide upload, one per owner.

A document with a page per class or a sheet per teacher is stored as schema version 2 (one version 1
timetable per owner). These routes list the owners, export one owner's timetable in any registered
format, and show an index page of owners linking to each week view. An upload holding one timetable
lists that one, so clients can use these routes for every upload.
"""

from __future__ import annotations

import html
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from timetable_platform.api.deps import AppState, ReaderDep, StateDep
from timetable_platform.api.problems import Problem, problem_openapi
from timetable_platform.api.routes.uploads import (
    DEFAULT_FORMAT,
    PREFIX,
    ExportFormat,
    UploadIdPath,
    _ready_timetable,
)
from timetable_platform.api.security_headers import HTML_PAGE_HEADERS
from timetable_platform.domain import exports
from timetable_platform.domain.model import Timetable
from timetable_platform.domain.school import owner_label, timetables_of
from timetable_platform.store.apikeys import Principal
from timetable_platform.store.blobs import BlobNotFound, result_key

router = APIRouter(prefix=PREFIX, tags=["timetables"], responses=problem_openapi(401, 422, 429))

NumberPath = Annotated[
    int, Path(ge=1, le=10_000, description="1-based position in GET /uploads/{id}/timetables")
]


def _parts(
    state: AppState, principal: Principal, upload_id: str, request: Request, action: str
) -> tuple[list[Timetable], exports.ExportOptions]:
    """The upload's timetables (404/409 as for its timetable); one, from its entry rows, when its stored
    result is a version 1 file or missing."""
    timetable, options = _ready_timetable(state, principal, upload_id, request, action)
    try:
        data = json.loads(state.store.blobs.get(result_key(upload_id)))
    except BlobNotFound:
        return [timetable], options
    parts = timetables_of(data)
    return (parts if len(parts) > 1 else [timetable]), options


def _one(parts: list[Timetable], number: int, upload_id: str) -> Timetable:
    if number > len(parts):
        raise Problem(
            404,
            f"Upload {upload_id} holds {len(parts)} timetable(s); there is no number {number}.",
            code="timetable_not_found",
        )
    return parts[number - 1]


def _base(upload_id: str) -> str:
    return f"{PREFIX}/uploads/{upload_id}/timetables"


def _shared_query(request: Request, principal: Principal) -> str:
    """Opened from a share link: links carry the same credentials."""
    if principal.api_key_id is not None:
        return ""
    return "&" + urlencode(
        {k: request.query_params[k] for k in ("expires", "token") if k in request.query_params}
    )


@router.get(
    "/uploads/{upload_id}/timetables",
    summary="The timetables of an upload, one per owner (class, teacher, room)",
    responses=problem_openapi(404, 409),
)
def list_timetables(
    state: StateDep, principal: ReaderDep, upload_id: UploadIdPath, request: Request
) -> dict[str, Any]:
    parts, _ = _parts(state, principal, upload_id, request, "timetables.list")
    base = _base(upload_id)
    return {
        "upload_id": upload_id,
        "schema_version": "2" if len(parts) > 1 else "1",
        "timetables": [
            {
                "number": n,
                "owner": t.owner.model_dump(mode="json") if t.owner else None,
                "title": t.title,
                "entry_count": len(t.entries),
                "links": {"timetable": f"{base}/{n}", "view": f"{base}/{n}/view"},
            }
            for n, t in enumerate(parts, start=1)
        ],
    }


@router.get(
    "/uploads/{upload_id}/timetables/view",
    summary="An index page of the upload's owners, each linking to its week view",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, **problem_openapi(404, 409)},
)
def view_owners(
    state: StateDep, principal: ReaderDep, upload_id: UploadIdPath, request: Request
) -> HTMLResponse:
    parts, _ = _parts(state, principal, upload_id, request, "timetables.view")
    base = _base(upload_id)
    query = _shared_query(request, principal).lstrip("&")
    suffix = f"?{query}" if query else ""
    items = "\n".join(
        f'<li><a href="{html.escape(f"{base}/{n}/view{suffix}")}">'
        f"{html.escape(owner_label(t.owner))}</a> <small>{len(t.entries)} entries</small></li>"
        for n, t in enumerate(parts, start=1)
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Timetables of upload {html.escape(upload_id)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}li{margin:.3rem 0}</style></head>"
        f"<body><h1>{len(parts)} timetable{'s' if len(parts) != 1 else ''}</h1><ul>\n{items}\n</ul></body></html>\n"
    )
    return HTMLResponse(page, headers=HTML_PAGE_HEADERS)


@router.get(
    "/uploads/{upload_id}/timetables/{number}",
    summary="One owner's timetable as JSON (schema version 1), CSV, iCalendar or FullCalendar events",
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}, "text/calendar": {}}},
        **problem_openapi(404, 409),
    },
)
def get_one_timetable(
    state: StateDep,
    principal: ReaderDep,
    upload_id: UploadIdPath,
    number: NumberPath,
    request: Request,
    format: Annotated[
        ExportFormat, Query(description="one of the registered export formats")
    ] = DEFAULT_FORMAT,
) -> Response:
    parts, options = _parts(state, principal, upload_id, request, f"timetables.read.{format}")
    timetable = _one(parts, number, upload_id)
    export = exports.EXPORT_FORMATS[format.value]
    headers = {}
    if export.name not in ("json", "fullcalendar"):
        headers["Content-Disposition"] = (
            f'attachment; filename="timetable-{upload_id}-{number}.{export.extension}"'
        )
    return Response(export.render(timetable, options), media_type=export.media_type, headers=headers)


@router.get(
    "/uploads/{upload_id}/timetables/{number}/view",
    summary="One owner's week as an HTML grid",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, **problem_openapi(404, 409)},
)
def view_one_timetable(
    state: StateDep, principal: ReaderDep, upload_id: UploadIdPath, number: NumberPath, request: Request
) -> HTMLResponse:
    parts, options = _parts(state, principal, upload_id, request, "timetables.view")
    timetable = exports.apply_bell_times(_one(parts, number, upload_id), options.term.bell_times)
    base = f"{_base(upload_id)}/{number}"
    shared = _shared_query(request, principal)
    links = {
        "All timetables": f"{_base(upload_id)}/view{'?' + shared.lstrip('&') if shared else ''}",
        "JSON": f"{base}?format=json{shared}",
        "CSV": f"{base}?format=csv{shared}",
        "iCalendar": f"{base}?format=ics{shared}",
    }
    page = exports.to_html_week(timetable, low_confidence=state.settings.view_low_confidence, links=links)
    return HTMLResponse(page, headers=HTML_PAGE_HEADERS)
