"""Teacher review: correct an upload's timetable entry by entry, then mark it reviewed.

Every change is checked like an extraction (schema, then impossible times and new overlaps: 422
with the reasons), saved as a new reviewed revision (the extracted timetable is never changed),
audited with who, when, before and after, and guarded by ``If-Match``: the ETag of the version
the change was made on. A stale tag answers 412; a missing one 428 (a change made without looking
at the current version could silently undo someone else's).

Callers: an API key, or an edit link (``POST /uploads/{id}/edit-link``) from the edit page.
"""

from __future__ import annotations

import json
import logging
import uuid
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from timetable_platform.api import edit_links
from timetable_platform.api.deps import EditorDep, EditPageDep, PrincipalDep, StateDep, request_id
from timetable_platform.api.problems import Problem, problem_openapi
from timetable_platform.api.routes.uploads import PREFIX, UploadIdPath, _not_found, signed_link
from timetable_platform.domain import editing, review_page
from timetable_platform.store import repository
from timetable_platform.store import review as reviews
from timetable_platform.store.apikeys import Principal
from timetable_platform.store.models import READY_STATUSES, Upload, UploadStatus

log = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, tags=["review"], responses=problem_openapi(401, 404, 429))

EntryIdPath = Annotated[str, Path(min_length=1, max_length=64, description="an entry's `id` (GET .../entries)")]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=200, description="the ETag of the version the change was made on"),
]
VersionQuery = Annotated[
    Literal["extracted", "reviewed", "latest"],
    Query(description="`latest` (the default): the reviewed version once there is one, else the extracted one"),
]


class EntryFields(BaseModel):
    """The fields of one block a person can set; in a PATCH, the ones sent are changed (null or "" clears)."""

    model_config = ConfigDict(extra="forbid")

    day: str | None = Field(None, max_length=3, examples=["MON"])
    start: str | None = Field(None, max_length=5, examples=["08:45"])
    end: str | None = Field(None, max_length=5, examples=["09:40"])
    period: str | None = Field(None, max_length=200)
    kind: Literal["lesson", "break", "other"] | None = None
    subject: str | None = Field(None, max_length=500, examples=["Maths"])
    teacher: str | None = Field(None, max_length=500)
    room: str | None = Field(None, max_length=500)
    group: str | None = Field(None, max_length=500)
    week: str | None = Field(None, max_length=50)
    notes: str | None = Field(None, max_length=2000)


def actor_of(principal: Principal, request: Request) -> str:
    if principal.api_key_id is not None:
        return f"api-key:{principal.api_key_id}"
    expires = request.headers.get(edit_links.EDIT_TOKEN_HEADER, "").partition(".")[0]
    return f"edit-link:{expires}" if expires else "edit-link"


def _editable_upload(session: Session, principal: Principal, upload_id: str) -> Upload:
    upload = repository.get_upload(session, upload_id, tenant=principal.tenant)
    if upload is None:
        raise _not_found(upload_id)
    return upload


def _current(session: Session, upload: Upload) -> reviews.ServedVersion:
    """The version changes apply to: the reviewed one, else the extracted one of a finished upload."""
    version = reviews.reviewed_version(session, upload.id)
    if version is not None:
        return version
    if upload.status not in READY_STATUSES:
        raise Problem(
            409,
            f"The upload is {upload.status.value}; it has no timetable to review yet.",
            code="not_ready",
            upload_status=upload.status.value,
        )
    return reviews.extracted_version(session, upload)


def _precondition(current: reviews.ServedVersion, if_match: str | None) -> None:
    if if_match is None:
        raise Problem(
            428,
            "Send If-Match with the ETag of the timetable version you changed (GET .../timetable/entries).",
            code="if_match_required",
        )
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and current.etag not in tags:
        raise _stale(current)


def _stale(current: reviews.ServedVersion | None) -> Problem:
    return Problem(
        412,
        "Someone else changed this timetable first. Load it again and redo your change.",
        code="stale_version",
        current_etag=current.etag if current else None,
    )


def version_body(upload: Upload, version: reviews.ServedVersion) -> dict[str, Any]:
    return {
        "upload_id": upload.id,
        "version": version.name,
        "revision": version.revision,
        "etag": version.etag,
        "reviewed_at": version.reviewed_at.isoformat().replace("+00:00", "Z") if version.reviewed_at else None,
        "entries": version.editable.with_ids(),
    }


def _respond(upload: Upload, version: reviews.ServedVersion, status: int = 200, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {**version_body(upload, version), **extra}, status_code=status, headers={"ETag": version.etag}
    )


def _apply(
    state: Any,
    principal: Principal,
    request: Request,
    upload_id: str,
    if_match: str | None,
    action: str,
    edit: Any,
    *,
    status: int = 200,
) -> JSONResponse:
    """Load the current version, check If-Match, apply ``edit(current) -> Change``, save and audit it,
    all in one transaction (a lost race rolls it back and answers 412)."""
    request.scope["state"]["upload_id"] = upload_id
    actor = actor_of(principal, request)
    try:
        with state.store.session_factory.begin() as session:
            upload = _editable_upload(session, principal, upload_id)
            current = _current(session, upload)
            _precondition(current, if_match)
            try:
                change: editing.Change = edit(current.editable)
            except editing.UnknownEntry:
                raise Problem(404, f"No entry {request.path_params.get('entry_id')} in this timetable.",
                              code="entry_not_found") from None  # fmt: skip
            except editing.EditError as exc:
                raise Problem(
                    422,
                    "The change would make the timetable invalid: " + "; ".join(exc.reasons),
                    code="invalid_change",
                    reasons=exc.reasons,
                ) from None
            saved = reviews.save(
                session, upload, current, change.result, actor=actor, change=action.rsplit("_", 1)[-1]
            )
            reviews.record_change(
                session,
                upload=upload,
                action=action,
                version=saved,
                actor=actor,
                entry_id=change.entry_id,
                before=change.before.model_dump(mode="json") if change.before else None,
                after=change.after.model_dump(mode="json") if change.after else None,
                api_key_id=principal.api_key_id,
                request_id=request_id(request),
            )
            body = {**version_body(upload, saved), "entry_id": change.entry_id, "warnings": change.warnings}
    except reviews.StaleVersion:
        with state.store.session_factory() as session:
            upload = repository.get_upload(session, upload_id, tenant=principal.tenant)
            newest = reviews.served_version(session, upload) if upload is not None else None
        raise _stale(newest) from None
    return JSONResponse(body, status_code=status, headers={"ETag": saved.etag})


@router.get(
    "/uploads/{upload_id}/timetable/entries",
    summary="The timetable's entries with their ids and the version's ETag (what changes are made on)",
)
def list_entries(
    state: StateDep, principal: EditorDep, upload_id: UploadIdPath, request: Request, version: VersionQuery = "latest"
) -> JSONResponse:
    request.scope["state"]["upload_id"] = upload_id
    with state.store.session_factory() as session:
        upload = _editable_upload(session, principal, upload_id)
        served = reviews.served_version(session, upload, version)
        if served is not None and served.name == "extracted" and upload.status not in READY_STATUSES:
            raise Problem(409, f"The upload is {upload.status.value}; its timetable is not ready yet.",
                          code="not_ready", upload_status=upload.status.value)  # fmt: skip
        if served is None:
            raise Problem(404, "Nobody has reviewed this timetable yet.", code="not_reviewed")
        return _respond(upload, served)


@router.patch(
    "/uploads/{upload_id}/timetable/entries/{entry_id}",
    summary="Change fields of one entry",
    responses=problem_openapi(409, 412, 422, 428),
)
def patch_entry(
    state: StateDep,
    principal: EditorDep,
    upload_id: UploadIdPath,
    entry_id: EntryIdPath,
    request: Request,
    fields: Annotated[EntryFields, Body()],
    if_match: IfMatch = None,
) -> JSONResponse:
    changes = fields.model_dump(exclude_unset=True)
    if not changes:
        raise Problem(422, "Send at least one field to change.", code="validation_error")
    return _apply(
        state, principal, request, upload_id, if_match, "timetable.entry_updated",
        lambda current: editing.update_entry(current, entry_id, changes),
    )  # fmt: skip


@router.post(
    "/uploads/{upload_id}/timetable/entries",
    status_code=201,
    summary="Add an entry (day and subject required)",
    responses=problem_openapi(409, 412, 422, 428),
)
def add_entry(
    state: StateDep,
    principal: EditorDep,
    upload_id: UploadIdPath,
    request: Request,
    fields: Annotated[EntryFields, Body()],
    if_match: IfMatch = None,
) -> JSONResponse:
    new_id = f"n{uuid.uuid4().hex[:12]}"
    changes = fields.model_dump(exclude_none=True)
    return _apply(
        state, principal, request, upload_id, if_match, "timetable.entry_added",
        lambda current: editing.add_entry(current, changes, new_id), status=201,
    )  # fmt: skip


@router.delete(
    "/uploads/{upload_id}/timetable/entries/{entry_id}",
    summary="Delete an entry",
    responses=problem_openapi(409, 412, 428),
)
def delete_entry(
    state: StateDep,
    principal: EditorDep,
    upload_id: UploadIdPath,
    entry_id: EntryIdPath,
    request: Request,
    if_match: IfMatch = None,
) -> JSONResponse:
    return _apply(
        state, principal, request, upload_id, if_match, "timetable.entry_deleted",
        lambda current: editing.delete_entry(current, entry_id),
    )  # fmt: skip


@router.post(
    "/uploads/{upload_id}/review",
    summary="Mark the timetable as reviewed: it becomes ground truth for the extractor's evaluation",
    responses=problem_openapi(409, 412, 428),
)
def mark_reviewed(
    state: StateDep, principal: EditorDep, upload_id: UploadIdPath, request: Request, if_match: IfMatch = None
) -> JSONResponse:
    request.scope["state"]["upload_id"] = upload_id
    actor = actor_of(principal, request)
    try:
        with state.store.session_factory.begin() as session:
            upload = _editable_upload(session, principal, upload_id)
            current = _current(session, upload)
            _precondition(current, if_match)
            saved = reviews.save(
                session, upload, current, current.editable, actor=actor, change="review", reviewed=True
            )
            reviews.record_change(
                session, upload=upload, action=reviews.REVIEWED_ACTION, version=saved, actor=actor,
                entry_id=None, before=None, after=None, api_key_id=principal.api_key_id,
                request_id=request_id(request),
            )  # fmt: skip
            if upload.status == UploadStatus.NEEDS_REVIEW:  # a person has checked what it asked for
                upload.status = UploadStatus.SUCCEEDED
                upload.review_reasons = []
            body = version_body(upload, saved)
    except reviews.StaleVersion:
        raise _stale(None) from None
    return JSONResponse(body, headers={"ETag": saved.etag})


@router.post(
    "/uploads/{upload_id}/edit-link",
    status_code=201,
    summary="A link to the edit page that works without an API key until it expires",
    description=(
        "For the teacher who corrects the timetable. Separate from the read-only share link: it opens the "
        "edit page and lets that page change this upload's entries and mark it reviewed, nothing else. "
        "Rotating the tenant's secret (`timetable keys secret`) revokes every link."
    ),
)
def create_edit_link(
    state: StateDep,
    principal: PrincipalDep,
    upload_id: UploadIdPath,
    request: Request,
    ttl_seconds: Annotated[
        int, Query(ge=60, le=edit_links.MAX_EDIT_SECONDS, description="how long the link works")
    ] = edit_links.DEFAULT_EDIT_SECONDS,
) -> dict[str, Any]:
    return signed_link(
        state, principal, upload_id, request, ttl_seconds=ttl_seconds, action="upload.edit_link",
        path=f"{PREFIX}/uploads/{upload_id}/edit", sign=edit_links.edit_query,
    )  # fmt: skip


EDIT_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@router.get(
    "/uploads/{upload_id}/edit",
    response_class=HTMLResponse,
    summary="The week view in edit mode (open it from an edit link)",
)
def edit_page(
    state: StateDep,
    principal: EditPageDep,
    upload_id: UploadIdPath,
    request: Request,
    expires: Annotated[int, Query(ge=0, le=2**40, description="from the edit link")],
    token: Annotated[str, Query(min_length=64, max_length=64, description="from the edit link")],
) -> HTMLResponse:
    request.scope["state"]["upload_id"] = upload_id
    with state.store.session_factory() as session:
        current = _current(session, _editable_upload(session, principal, upload_id))
    page = review_page.edit_page(
        current.timetable,
        entry_ids=current.editable.entry_ids,
        etag=current.etag,
        api_base=f"{PREFIX}/uploads/{upload_id}",
        edit_token=f"{expires}.{token}",
        script_url=f"{PREFIX}/assets/review.js",
        reviewed_at=current.reviewed_at,
        revision=current.revision,
        low_confidence=state.settings.view_low_confidence,
    )
    return HTMLResponse(page, headers=EDIT_PAGE_HEADERS)


@router.get("/assets/review.js", include_in_schema=False)
def review_script() -> Response:
    script = resources.files("timetable_platform.api").joinpath("static/review.js").read_text()
    return Response(script, media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"})


def audit_details(session: Session, upload_id: str) -> list[dict[str, Any]]:
    """The review events of an upload as dicts (tests, operators)."""
    return [
        {"action": e.action, "at": e.at, "api_key_id": e.api_key_id, **(json.loads(e.detail) if e.detail else {})}
        for e in reviews.changes(session, upload_id)
    ]
