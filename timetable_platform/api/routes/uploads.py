"""``/api/v2/timetable/uploads``: submit, list, track, fetch, view, reprocess and erase uploads.

Every query is scoped to the caller's tenant: another tenant's upload answers 404, exactly like an
upload that does not exist. Routes are plain ``def``: the store is synchronous, so FastAPI runs
them in its thread pool. The submit route, the hot path, is the exception: a plain Starlette route
(``SubmitRoute``, ahead of the documenting APIRoute) reads its form itself and hands its blocking work
to the app's submit pool in one hop; the loop, not a thread, awaits the group commit (``submit_upload``).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Path, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import Field, TypeAdapter, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.routing import Match, Route
from starlette.types import Scope

from timetable_platform.api import multipart, sharing
from timetable_platform.api.deps import (
    API_KEY_HEADER,
    AppState,
    PrincipalDep,
    ReaderDep,
    StateDep,
    authenticate,
    request_id,
)
from timetable_platform.api.problems import Problem, problem_openapi
from timetable_platform.api.schemas import (
    UPLOAD_ID_EXAMPLE,
    ReprocessRequest,
    ShareLink,
    SubmitFields,
    SubmitResponse,
    UploadPage,
    UploadStatusResponse,
)
from timetable_platform.api.security_headers import HTML_PAGE_HEADERS
from timetable_platform.domain import exports
from timetable_platform.domain.model import Timetable
from timetable_platform.domain.term import TermSettings
from timetable_platform.extraction.base import Limits
from timetable_platform.extraction.errors import CorruptDocument, ExtractionError
from timetable_platform.extraction.safety import check_pages
from timetable_platform.extraction.sniff import sniff_media_type
from timetable_platform.store import apikeys, audit, repository, terms
from timetable_platform.store import review as reviews
from timetable_platform.store.api_models import IdempotencyRecord
from timetable_platform.store.apikeys import Principal
from timetable_platform.store.callbacks import (
    ForbiddenDestination,
    check_destination_at_submit,
    upload_status_body,
)
from timetable_platform.store.errors import InvalidCursor
from timetable_platform.store.intake import GroupSubmission, Submission, begin_submission, submit_document
from timetable_platform.store.models import READY_STATUSES, UPLOAD_STATUSES, Upload, UploadStatus, utcnow
from timetable_platform.store.queue import upload_message
from timetable_platform.store.retention import erase_upload

PREFIX = "/api/v2/timetable"
log = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, tags=["uploads"], responses=problem_openapi(401, 422, 429))

UploadIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        description="The id returned by POST /uploads",
        examples=[UPLOAD_ID_EXAMPLE],
    ),
]
StatusFilter = Literal["queued", "running", "succeeded", "needs_review", "failed"]
assert set(UPLOAD_STATUSES) == set(StatusFilter.__args__)  # type: ignore[attr-defined]
# The formats come from the one export registry the CLI serves too.
ExportFormat = enum.StrEnum("ExportFormat", {name.replace("-", "_"): name for name in exports.EXPORT_FORMATS})  # type: ignore[misc]
DEFAULT_FORMAT = ExportFormat("json")


def links(upload_id: str) -> dict[str, str]:
    base = f"{PREFIX}/uploads/{upload_id}"
    return {"self": base, "timetable": f"{base}/timetable", "view": f"{base}/view", "entries": f"{base}/timetable/entries"}


def status_view(state: AppState, upload: Upload) -> dict[str, Any]:
    body = upload_status_body(upload, dagster_ui_url=state.settings.dagster_ui_url)
    body["links"] = links(upload.id)
    return body


def _unavailable(what: str) -> Problem:
    return Problem(
        503,
        f"The {what} is unavailable; nothing was stored. Retry later.",
        code="service_unavailable",
        headers={"Retry-After": "5"},
    )


def _not_found(upload_id: str) -> Problem:
    return Problem(404, f"No upload {upload_id} for this tenant.", code="not_found")


def _load(state: AppState, principal: Principal, upload_id: str) -> Upload:
    with state.store.session_factory() as session:
        upload = repository.get_upload(session, upload_id, tenant=principal.tenant)
    if upload is None:
        raise _not_found(upload_id)
    return upload


def warm_up() -> None:
    """Import what the page count needs (pdfium, the PDF reader's lock, Pillow) before the first
    submission: lazily, the first PDF after a start waited about half a second for the imports."""
    import PIL.Image  # noqa: F401
    import pypdfium2  # noqa: F401

    import timetable_platform.extraction.readers.pdf  # noqa: F401


def _check_pages(content: bytes, media_type: str, limits: Limits) -> None:
    """A document over the page (or pixel) limit is refused now rather than by its run, and never gets a
    row. One the counter cannot open is left to the run, which fails it with the reader's own reason."""
    with contextlib.suppress(CorruptDocument):
        check_pages(content, media_type, limits)


def _validate_callback_url(url: str | None, *, allow_private_networks: bool) -> str | None:
    """An absolute http(s) URL whose host is not (and does not resolve to) a loopback, private or
    link-local address; delivery checks the address again (DNS rebinding)."""
    if url is None or url == "":
        return None
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unbalanced [ in the host
        usable = False
    if not usable:
        raise Problem(
            422,
            "callback_url must be an absolute http(s) URL.",
            code="validation_error",
            errors=[{"field": "callback_url", "in": "body", "message": "not an http(s) URL"}],
        )
    if not allow_private_networks:
        try:
            check_destination_at_submit(url)
        except (ForbiddenDestination, ValueError) as exc:
            raise Problem(
                422,
                "callback_url must point to a public address; loopback, private and link-local ones are refused.",
                code="validation_error",
                errors=[{"field": "callback_url", "in": "body", "message": str(exc)}],
            ) from exc
    return url


# --- idempotency ---------------------------------------------------------------------------------


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.status_code is None:
        raise Problem(
            409,
            "A request with this Idempotency-Key is still being processed.",
            code="idempotency_in_progress",
            headers={"Retry-After": "1"},
        )
    if record.fingerprint != fingerprint:
        raise Problem(
            422,
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
        )
    headers = {"Idempotent-Replayed": "true"}
    if record.location:
        headers["Location"] = record.location
    return Response(
        record.body or "", status_code=record.status_code, media_type="application/json", headers=headers
    )


def _reserve_idempotency_key(state: AppState, tenant: str, key: str, fingerprint: str) -> Response | None:
    """Claim the key (None), or the earlier response to replay. Claims are committed at once so a
    concurrent retry sees them."""
    with state.store.session_factory() as session:
        existing = session.query(IdempotencyRecord).filter_by(tenant=tenant, key=key).one_or_none()
        if existing is not None:
            return _replay(existing, fingerprint)
    try:
        with state.store.session_factory.begin() as session:
            session.add(IdempotencyRecord(tenant=tenant, key=key, fingerprint=fingerprint))
    except IntegrityError:  # a concurrent request claimed it first
        with state.store.session_factory() as session:
            existing = session.query(IdempotencyRecord).filter_by(tenant=tenant, key=key).one()
            return _replay(existing, fingerprint)
    return None


def _settle_idempotency_key(
    state: AppState, tenant: str, key: str, response: JSONResponse | None, upload_id: str | None
) -> None:
    """Store the response to replay, or release the claim when the request failed (so it may be retried).

    A failure here is logged, not raised: the request's own outcome stands, and an unsettled claim
    answers 409 to retries until retention forgets it."""
    try:
        with state.store.session_factory.begin() as session:
            record = session.query(IdempotencyRecord).filter_by(tenant=tenant, key=key).one_or_none()
            if record is None:
                return
            if response is None:
                session.delete(record)
                return
            record.status_code = response.status_code
            record.body = bytes(response.body).decode()
            record.location = response.headers.get("location")
            record.upload_id = upload_id
    except Exception:
        log.exception("could not settle Idempotency-Key for tenant %s", tenant)


# --- submit ---------------------------------------------------------------------------------------


def _audit(
    state: AppState,
    principal: Principal,
    action: str,
    upload_id: str,
    rid: str | None,
    detail: str | None = None,
) -> None:
    """Record an event in its own transaction; a failure is logged, never turned into an error for
    a request whose work is already done."""
    try:
        with state.store.session_factory.begin() as session:
            audit.record(
                session,
                tenant=principal.tenant,
                action=action,
                upload_id=upload_id,
                api_key_id=principal.api_key_id,
                request_id=rid,
                detail=detail,
            )
    except Exception:
        log.exception("could not write audit event %s for upload %s", action, upload_id)


def _submit_response(upload_id: str, status: str, *, duplicate: bool) -> JSONResponse:
    # SubmitResponse's fields in its order, as its model_dump(mode="json") gives them (plain strings and a
    # bool: nothing to validate), without building and dumping the model on the event loop per submission
    body_links = links(upload_id)
    body = {"upload_id": upload_id, "status": status, "duplicate": duplicate, "links": body_links}
    return JSONResponse(body, status_code=200 if duplicate else 202, headers={"Location": body_links["self"]})


@dataclass(frozen=True)
class SubmitForm:
    file: UploadFile
    fields: SubmitFields
    form: FormData  # closed by the route when it is done with the file


async def submit_form(request: Request) -> SubmitForm:
    """The multipart form, parsed once (by Starlette, as FastAPI would) and validated in one pass: a
    field sent twice (``file`` above all: FastAPI would silently keep one, and the caller would never
    learn which document was accepted), a missing file or a bad field is a 422 in FastAPI's own
    validation format. Declaring the fields as ``Form``/``File`` parameters cost the submit path a
    validation per field and FastAPI's per-parameter bookkeeping on every request."""
    try:
        form = await _read_form(request)
    except HTTPException:  # a malformed multipart body (400), or BodySizeLimit's 413/408 while reading it
        raise
    except Exception as exc:  # as FastAPI answers when it reads a body it cannot parse
        raise HTTPException(400, "There was an error parsing the body") from exc
    try:
        return _validated(form)
    except BaseException:
        await form.close()
        raise


async def _read_form(request: Request) -> FormData:
    """The plain multipart body of a small submission in one pass (``api.multipart``); any other body by
    Starlette's parser, from the body already read when it was, as before."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) <= multipart.MAX_BODY_BYTES:
        form = multipart.parse_simple_form(request.headers.get("content-type"), await request.body())
        if form is not None:
            return form
    return await request.form()


def _validated(form: FormData) -> SubmitForm:
    repeated = sorted({name for name in form if len(form.getlist(name)) > 1})
    if repeated:
        raise Problem(
            422,
            f"Send each form field once; repeated: {', '.join(repeated)}.",
            code="validation_error",
            errors=[{"field": name, "in": "body", "message": "sent more than once"} for name in repeated],
        )
    errors: list[dict[str, Any]] = []
    file = form.get("file")
    if file is None:
        errors.append({"type": "missing", "loc": ("body", "file"), "msg": "Field required", "input": None})
    elif not isinstance(file, StarletteUploadFile):
        errors.append({"type": "value_error", "loc": ("body", "file"),
                       "msg": f"Value error, Expected UploadFile, received: {type(file)}", "input": file})  # fmt: skip
    # an empty text field means "not sent", as FastAPI reads Form parameters
    values = {name: form[name] for name in SUBMIT_TEXT_FIELDS if form.get(name) not in (None, "")}
    fields = SubmitFields()
    try:
        fields = SubmitFields.model_validate(values)
    except ValidationError as exc:
        errors += [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
    if errors:
        raise RequestValidationError(errors)
    return SubmitForm(file=file, fields=fields, form=form)  # type: ignore[arg-type]


SUBMIT_TEXT_FIELDS = tuple(SubmitFields.model_fields)
SubmitFormDep = Annotated[SubmitForm, Depends(submit_form)]


@router.post(
    "/uploads",
    status_code=202,
    response_model=SubmitResponse,
    summary="Submit a document",
    description=(
        "Stores the document, records the upload and queues it for extraction. The same tenant sending the "
        "same bytes in the same mode gets the existing upload (200) unless `force=true`. An `Idempotency-Key` "
        "header replays the first response to a retried request."
    ),
    responses={
        200: {"description": "These bytes were already submitted in this mode", "model": SubmitResponse},
        202: {
            "description": "Accepted and queued",
            "headers": {"Location": {"description": "the upload's URL", "schema": {"type": "string"}}},
        },
        **problem_openapi(409, 413, 415, 503),
    },
    # The form is read by ``submit_form``; its schema is registered by the app (components/schemas).
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/SubmitUploadForm"}}},
        }
    },
)
async def submit_upload(
    request: Request,
    state: StateDep,
    principal: PrincipalDep,
    form: SubmitFormDep,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=255, examples=["5f1c2a9e-submit-7A"]),
    ] = None,
) -> Response:
    # Async, with the blocking work (page count, fsyncs, database) handed to the submit pool in one hop:
    # cheaper than FastAPI's thread-pool hop for a sync route (anyio's limiter and cancel scopes).
    loop = asyncio.get_running_loop()
    try:
        if idempotency_key is None and state.settings.intake_group_commit:
            return await _submit_grouped(loop, request, state, principal, form)
        return await loop.run_in_executor(
            state.submit_pool, _submit, request, state, principal, form, idempotency_key
        )
    finally:
        await form.form.close()


async def _submit_grouped(
    loop: asyncio.AbstractEventLoop, request: Request, state: AppState, principal: Principal, form: SubmitForm
) -> Response:
    """The common submission (group commit, no ``Idempotency-Key``) with one thread hop: a pool thread checks
    the document and writes its blob, hands the rows to the intake writer and is free again; the writer
    wakes this loop once per batch (``intake.begin_submission``). Nothing waits in a thread, and an upload
    committed as new is answered from here. Anything else (a repeat, a lost claim, an error) is settled
    in the pool by the same code as ``_submit``."""
    settled: asyncio.Future[Response | GroupSubmission] = loop.create_future()

    def answer(outcome: Response | GroupSubmission | BaseException) -> None:  # in the loop
        if settled.done():  # the request was cancelled meanwhile
            return
        if isinstance(outcome, BaseException):
            settled.set_exception(outcome)
        else:
            settled.set_result(outcome)

    def prepare() -> None:  # in the pool
        try:
            checked = _checked(request, state, principal, form)
        except BaseException as exc:  # a problem with the document (413, 415, 422...), answered as raised
            loop.call_soon_threadsafe(answer, exc)
            return
        try:
            begin_submission(
                state.store, **checked.document_args(request, principal),
                on_settled=answer, schedule=loop.call_soon_threadsafe,
            )  # fmt: skip
        except Exception as exc:  # intake has undone what it wrote
            log.error("submission failed: %s: %s", type(exc).__name__, exc)
            state.metrics.submissions.labels("unavailable").inc()
            loop.call_soon_threadsafe(answer, _unavailable("store"))
        except BaseException as exc:
            loop.call_soon_threadsafe(answer, exc)

    state.submit_pool.submit(prepare)
    outcome = await settled
    if isinstance(outcome, Response):
        return outcome
    if not outcome.committed_as_new():
        return await loop.run_in_executor(state.submit_pool, _finish_grouped, request, state, outcome)
    upload_id = outcome.upload_id
    request.scope["state"]["upload_id"] = upload_id
    state.metrics.submissions.labels("accepted").inc()
    return _submit_response(upload_id, UploadStatus.QUEUED.value, duplicate=False)


def _finish_grouped(request: Request, state: AppState, grouped: GroupSubmission) -> Response:
    return _answer(request, state, None, lambda: grouped.finish())


IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = TypeAdapter(Annotated[str, Field(min_length=1, max_length=255)])


async def submit_endpoint(request: Request) -> Response:
    """``POST /uploads`` as a plain Starlette endpoint, registered by the app ahead of ``submit_upload``
    (the APIRoute, which documents the route in OpenAPI and stays a working equivalent). Same steps in
    FastAPI's order: the key and rate limit, the form (``submit_form``), then the ``Idempotency-Key``
    header with the APIRoute's constraints and 422 format. FastAPI's dependency solving, its handler and
    its router layers were about a sixth of the event loop's CPU per submission."""
    state: AppState = request.app.state.timetable
    principal = await authenticate(state, request, request.headers.get(API_KEY_HEADER) or None)
    form = await submit_form(request)
    try:
        idempotency_key = _idempotency_key(request.headers.get(IDEMPOTENCY_KEY_HEADER))
    except BaseException:
        await form.form.close()
        raise
    return await submit_upload(request, state, principal, form, idempotency_key)


class SubmitRoute(Route):
    """The Starlette route of ``submit_endpoint``. Names itself in ``scope["route"]`` as FastAPI's routes
    do: the request log and metrics label requests with the route's path."""

    def __init__(self) -> None:
        super().__init__(f"{PREFIX}/uploads", submit_endpoint, methods=["POST"], include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.FULL:
            child_scope["route"] = self
        return match, child_scope


def _idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return _IDEMPOTENCY_KEY.validate_python(value)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("header", IDEMPOTENCY_KEY_HEADER)} for error in exc.errors(include_url=False)]
        ) from exc


@dataclass(frozen=True)
class _Checked:
    """A submission's document and fields, checked (``_checked``)."""

    content: bytes
    filename: str
    media_type: str
    sha256: str
    mode: str
    label: str | None
    callback_url: str | None
    force: bool

    def document_args(self, request: Request, principal: Principal) -> dict[str, Any]:
        """``submit_document``'s (and ``begin_submission``'s) arguments for this document."""
        return {
            "content": self.content, "filename": self.filename, "media_type": self.media_type,
            "tenant": principal.tenant, "mode": self.mode, "label": self.label, "callback_url": self.callback_url,
            "force": self.force, "sha256": self.sha256,
            # written in the row's transaction: an accepted upload always has its audit event
            "audit_entry": audit.AuditEntry(
                tenant=principal.tenant, action="upload.created", api_key_id=principal.api_key_id,
                request_id=request_id(request), detail=f"mode={self.mode}",
            ),
        }  # fmt: skip


def _checked(request: Request, state: AppState, principal: Principal, form: SubmitForm) -> _Checked:
    """The document read (within the size limit), sniffed and page-counted, the callback URL checked:
    problems (413, 415, 422...) before anything is written."""
    file, mode, label, callback_url, force = (
        form.file, form.fields.mode, form.fields.label, form.fields.callback_url, form.fields.force
    )  # fmt: skip
    limit = state.settings.max_upload_bytes
    content = file.file.read(limit + 1)
    if len(content) > limit:
        state.metrics.submissions.labels("too_large").inc()
        raise Problem(
            413, f"The document is over the {limit} byte limit.", code="too_large", limit_bytes=limit
        )
    filename = (file.filename or "upload")[-255:]
    try:
        media_type = sniff_media_type(content, filename)
        _check_pages(content, media_type, Limits(max_bytes=limit, max_pages=state.settings.max_pages))
    except ExtractionError as exc:
        state.metrics.submissions.labels(exc.code).inc()
        raise Problem(exc.http_status, exc.message, code=exc.code) from exc
    callback_url = _validate_callback_url(
        callback_url, allow_private_networks=state.settings.callback_allow_private_networks
    )
    return _Checked(
        content=content, filename=filename, media_type=media_type, sha256=hashlib.sha256(content).hexdigest(),
        mode=mode or state.settings.mode, label=label, callback_url=callback_url, force=force,
    )  # fmt: skip


def _submit(
    request: Request, state: AppState, principal: Principal, form: SubmitForm, idempotency_key: str | None
) -> Response:
    checked = _checked(request, state, principal, form)
    tenant = principal.tenant
    if idempotency_key is not None:
        fingerprint = hashlib.sha256(
            json.dumps(
                [checked.sha256, checked.mode, checked.label, checked.callback_url, checked.force, checked.filename]
            ).encode()
        ).hexdigest()
        replay = _reserve_idempotency_key(state, tenant, idempotency_key, fingerprint)
        if replay is not None:
            state.metrics.submissions.labels("replayed").inc()
            return replay
    return _answer(
        request,
        state,
        idempotency_key,
        lambda: submit_document(
            state.store, **checked.document_args(request, principal), group_commit=state.settings.intake_group_commit
        ),
        tenant=tenant,
    )


def _answer(
    request: Request,
    state: AppState,
    idempotency_key: str | None,
    submit: Callable[[], Submission],
    *,
    tenant: str | None = None,
) -> Response:
    """Run ``submit`` and answer: 202 for a new upload, 200 with the existing one for a repeat, 503 when the
    store failed (intake has undone what it wrote); the ``Idempotency-Key`` (of ``tenant``) is settled."""
    response: JSONResponse | None = None
    upload_id: str | None = None
    try:
        try:
            submission = submit()
        except Exception as exc:  # intake has undone what it wrote (or left it for reconcile_orphans)
            log.error("submission failed: %s: %s", type(exc).__name__, exc)
            state.metrics.submissions.labels("unavailable").inc()
            raise _unavailable("store") from exc
        upload = submission.upload
        upload_id = upload.id
        response = _submit_response(upload_id, upload.status.value, duplicate=not submission.created)
    finally:
        if idempotency_key is not None and tenant is not None:
            _settle_idempotency_key(state, tenant, idempotency_key, response, upload_id)
    request.scope["state"]["upload_id"] = upload_id
    state.metrics.submissions.labels("duplicate" if response.status_code == 200 else "accepted").inc()
    return response


# --- read -----------------------------------------------------------------------------------------


@router.get("/uploads", response_model=UploadPage, summary="List uploads, newest first")
def list_uploads(
    state: StateDep,
    principal: PrincipalDep,
    status: Annotated[
        StatusFilter | None, Query(description="only uploads in this status", examples=["succeeded"])
    ] = None,
    created_after: Annotated[
        datetime | None,
        Query(description="ISO 8601 with time zone, inclusive", examples=["2026-11-01T00:00:00Z"]),
    ] = None,
    created_before: Annotated[
        datetime | None,
        Query(description="ISO 8601 with time zone, exclusive", examples=["2026-12-01T00:00:00Z"]),
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=500, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    for name, value in (("created_after", created_after), ("created_before", created_before)):
        if value is not None and value.tzinfo is None:
            raise Problem(
                422,
                f"{name} needs a time zone (for example 2026-11-29T09:00:00Z).",
                code="validation_error",
                errors=[{"field": name, "in": "query", "message": "time zone required"}],
            )
    try:
        with state.store.session_factory() as session:
            uploads, next_cursor = repository.list_uploads(
                session,
                tenant=principal.tenant,
                status=status,
                created_after=created_after,
                created_before=created_before,
                cursor=cursor,
                limit=limit,
            )
    except InvalidCursor as exc:
        raise Problem(
            422,
            "The cursor is not one this API handed out.",
            code="invalid_cursor",
            errors=[{"field": "cursor", "in": "query", "message": "invalid cursor"}],
        ) from exc
    page_links: dict[str, str] = {}
    if next_cursor:
        params = {
            "cursor": next_cursor,
            "limit": limit,
            "status": status,
            "created_after": created_after.isoformat() if created_after else None,
            "created_before": created_before.isoformat() if created_before else None,
        }
        page_links["next"] = f"{PREFIX}/uploads?" + urlencode(
            {k: v for k, v in params.items() if v is not None}
        )
    return {
        "items": [status_view(state, u) for u in uploads],
        "next_cursor": next_cursor,
        "links": page_links,
    }


@router.get(
    "/uploads/{upload_id}",
    response_model=UploadStatusResponse,
    summary="Status of one upload",
    responses=problem_openapi(404),
)
def get_upload(
    state: StateDep, principal: PrincipalDep, upload_id: UploadIdPath, request: Request
) -> dict[str, Any]:
    request.scope["state"]["upload_id"] = upload_id
    return status_view(state, _load(state, principal, upload_id))


def _ready_timetable(
    state: AppState,
    principal: Principal,
    upload_id: str,
    request: Request,
    action: str,
    version: reviews.VersionName = "latest",
) -> tuple[Timetable, exports.ExportOptions]:
    """The timetable of a succeeded or needs_review upload (409 with the status, and why a failed upload
    failed, otherwise) and what shapes its exports:
    the upload's term (over its tenant's) and, as DTSTAMP, when the timetable was produced. The read
    is audited.

    ``version`` (``store.review``): ``latest`` serves a person's reviewed version once there is one,
    whatever the upload's status (a reprocess in flight or failed does not hide it)."""
    request.scope["state"]["upload_id"] = upload_id
    with state.store.session_factory() as session:
        upload = repository.get_upload(session, upload_id, tenant=principal.tenant)
        if upload is None:
            raise _not_found(upload_id)
        reviewed = reviews.reviewed_version(session, upload_id) if version != "extracted" else None
        if reviewed is not None:
            request.scope["state"]["etag"] = reviewed.etag
            options = exports.ExportOptions(
                term=terms.effective_term(session, upload), stamp=reviewed_stamp(reviewed, upload)
            )
            timetable = reviewed.timetable
        elif version == "reviewed":
            raise Problem(404, "Nobody has reviewed this timetable yet.", code="not_reviewed")
        else:
            timetable, options = _extracted_timetable(session, upload, request)
    with state.store.session_factory.begin() as session:
        audit.record(
            session,
            tenant=principal.tenant,
            action=action,
            upload_id=upload_id,
            api_key_id=principal.api_key_id,
            request_id=request_id(request),
        )
    return timetable, options


def reviewed_stamp(reviewed: reviews.ServedVersion, upload: Upload) -> datetime:
    """DTSTAMP of a reviewed timetable's calendars: when it was reviewed, else when extracted."""
    return reviewed.reviewed_at or upload.finished_at or upload.created_at


def _extracted_timetable(
    session: Session, upload: Upload, request: Request
) -> tuple[Timetable, exports.ExportOptions]:
    if upload.status == UploadStatus.FAILED:
        raise Problem(
            409,
            f"The upload failed, so it has no timetable: {upload.error or 'no reason was recorded'}",
            code="upload_failed",
            upload_status=upload.status.value,
            error=upload.error,
        )
    if upload.status not in READY_STATUSES:
        raise Problem(
            409,
            f"The upload is {upload.status.value}; its timetable is not ready yet.",
            code="not_ready",
            upload_status=upload.status.value,
            error=upload.error,
            headers={"Retry-After": "5"}
            if upload.status in (UploadStatus.QUEUED, UploadStatus.RUNNING)
            else None,
        )
    extracted = reviews.extracted_version(session, upload)
    request.scope["state"]["etag"] = extracted.etag
    options = exports.ExportOptions(
        term=terms.effective_term(session, upload), stamp=upload.finished_at or upload.created_at
    )
    return extracted.timetable, options


_FORMATS_HELP = "; ".join(f"`{f.name}`: {f.summary}" for f in exports.EXPORT_FORMATS.values())


@router.get(
    "/uploads/{upload_id}/timetable",
    summary="The extracted timetable as JSON, CSV, iCalendar or FullCalendar events",
    description=(
        f"Formats: {_FORMATS_HELP}. `csv` is the default CSV (for programs); spreadsheet users want "
        "`csv-excel`. Calendars repeat through the upload's term (see `PUT /uploads/{id}/term`), so the "
        "same feed gives the same events whenever it is fetched."
    ),
    responses={
        200: {
            "description": "The timetable in the requested format",
            "content": {
                "application/json": {
                    "example": {
                        "schema_version": "1",
                        "title": "7A",
                        "entries": [
                            {
                                "day": "MON",
                                "start": "08:45",
                                "end": "09:40",
                                "period": "1",
                                "kind": "lesson",
                                "subject": "Maths",
                                "teacher": "Mr Okafor",
                                "room": "R101",
                            }
                        ],
                        "warnings": [],
                    }
                },
                "text/csv": {
                    "example": "day,start,end,period,kind,subject,teacher,room,group,week,notes,confidence,page\r\n"
                },
                "text/calendar": {"example": "BEGIN:VCALENDAR\r\n..."},
            },
        },
        **problem_openapi(404, 409),
    },
)
def get_timetable(
    state: StateDep,
    principal: ReaderDep,
    upload_id: UploadIdPath,
    request: Request,
    format: Annotated[
        ExportFormat,
        Query(description="one of the registered export formats", examples=["ics"]),
    ] = DEFAULT_FORMAT,
    version: Annotated[
        Literal["extracted", "reviewed", "latest"],
        Query(description="`latest`: the reviewed version once a person saved one, else the extracted one"),
    ] = "latest",
) -> Response:
    timetable, options = _ready_timetable(
        state, principal, upload_id, request, f"timetable.read.{format}", version
    )
    export = exports.EXPORT_FORMATS[format.value]
    body = export.render(timetable, options)
    # Weak: every format of one version shares it (If-Match on the review routes accepts it too).
    headers = {"ETag": f'W/{request.scope["state"]["etag"]}'}
    if export.name not in ("json", "fullcalendar"):
        headers["Content-Disposition"] = f'attachment; filename="timetable-{upload_id}.{export.extension}"'
    return Response(body, media_type=export.media_type, headers=headers)


@router.get(
    "/uploads/{upload_id}/view",
    summary="The week as an HTML grid, low-confidence entries outlined",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"example": "<!DOCTYPE html><html>...</html>"}}},
        **problem_openapi(404, 409),
    },
)
def view_upload(
    state: StateDep, principal: ReaderDep, upload_id: UploadIdPath, request: Request
) -> HTMLResponse:
    timetable, options = _ready_timetable(state, principal, upload_id, request, "timetable.view")
    timetable = exports.apply_bell_times(timetable, options.term.bell_times)
    base = links(upload_id)["timetable"]
    # Opened from a share link: the export links carry the same credentials.
    shared = (
        f"&{urlencode({k: request.query_params[k] for k in ('expires', 'token')})}"
        if principal.api_key_id is None
        else ""
    )
    export_links = {
        "JSON": f"{base}?format=json{shared}",
        "CSV": f"{base}?format=csv{shared}",
        "CSV for Excel": f"{base}?format=csv-excel{shared}",
        "iCalendar": f"{base}?format=ics{shared}",
        "FullCalendar": f"{base}?format=fullcalendar{shared}",
    }
    page = exports.to_html_week(
        timetable, low_confidence=state.settings.view_low_confidence, links=export_links
    )
    return HTMLResponse(page, headers=HTML_PAGE_HEADERS)


@router.post(
    "/uploads/{upload_id}/share",
    status_code=201,
    response_model=ShareLink,
    summary="A link to the week view that works without an API key until it expires",
    description=(
        "For people with a browser rather than a key (teachers, parents). The link also opens the exports; "
        "rotating the tenant's secret (`timetable keys secret`) revokes every link."
    ),
    responses=problem_openapi(404),
)
def share_upload(
    state: StateDep,
    principal: PrincipalDep,
    upload_id: UploadIdPath,
    request: Request,
    ttl_seconds: Annotated[
        int,
        Query(ge=60, le=sharing.MAX_SHARE_SECONDS, description="how long the link works", examples=[86400]),
    ] = sharing.DEFAULT_SHARE_SECONDS,
) -> dict[str, Any]:
    return signed_link(
        state, principal, upload_id, request, ttl_seconds=ttl_seconds, action="upload.shared",
        path=links(upload_id)["view"], sign=sharing.share_query,
    )  # fmt: skip


def signed_link(
    state: AppState,
    principal: Principal,
    upload_id: str,
    request: Request,
    *,
    ttl_seconds: int,
    action: str,
    path: str,
    sign: Callable[[bytes, str, int], str],
) -> dict[str, Any]:
    """An expiring link to ``path`` signed with the tenant's secret (share and edit links), audited."""
    request.scope["state"]["upload_id"] = upload_id
    with state.store.session_factory() as session:
        upload = repository.get_upload(session, upload_id, tenant=principal.tenant)
        secret = apikeys.tenant_secret(session, principal.tenant) if upload is not None else None
    if upload is None or secret is None:
        raise _not_found(upload_id)
    expires = int(time.time()) + ttl_seconds
    _audit(state, principal, action, upload_id, request_id(request), f"ttl={ttl_seconds}")
    # Absolute: the link is pasted into mail and chat, far from the API's host name.
    base = (state.settings.public_url or str(request.base_url)).rstrip("/")
    return {
        "url": f"{base}{path}?{sign(secret, upload_id, expires)}",
        "expires_at": datetime.fromtimestamp(expires, UTC).isoformat().replace("+00:00", "Z"),
    }


# --- change ---------------------------------------------------------------------------------------


@router.post(
    "/uploads/{upload_id}/reprocess",
    status_code=202,
    response_model=UploadStatusResponse,
    summary="Run extraction again, optionally in another mode",
    responses=problem_openapi(404, 409, 503),
)
def reprocess_upload(
    state: StateDep,
    principal: PrincipalDep,
    upload_id: UploadIdPath,
    request: Request,
    body: Annotated[ReprocessRequest | None, Body()] = None,
) -> JSONResponse:
    request.scope["state"]["upload_id"] = upload_id
    with state.store.session_factory.begin() as session:
        upload = repository.get_upload(session, upload_id, tenant=principal.tenant)
        if upload is None:
            raise _not_found(upload_id)
        if upload.status in (UploadStatus.QUEUED, UploadStatus.RUNNING):
            raise Problem(
                409,
                f"The upload is already {upload.status.value}.",
                code="already_pending",
                upload_status=upload.status.value,
            )
        previous = (upload.status, upload.mode, upload.content_key)
        if body is not None and body.mode is not None and body.mode != upload.mode:
            upload.mode = body.mode
            upload.content_key = None  # its claim was for the old mode; never steal another upload's
        upload.status = UploadStatus.QUEUED
        upload.error = None
        upload.queued_at = utcnow()  # the latency of this request counts from here, not from the first submission
        audit.record(
            session,
            tenant=principal.tenant,
            action="upload.reprocessed",
            upload_id=upload_id,
            api_key_id=principal.api_key_id,
            request_id=request_id(request),
            detail=f"mode={upload.mode}",
        )
    try:
        state.store.queue.send(upload_message(upload_id, principal.tenant))
    except Exception as exc:
        log.error("queue send failed on reprocess: %s", type(exc).__name__)
        with state.store.session_factory.begin() as session:
            row = repository.get_upload(session, upload_id)
            if row is not None and row.status == UploadStatus.QUEUED:
                row.status, row.mode, row.content_key = previous
        raise _unavailable("queue") from exc
    if body is not None and body.replace_reviewed:
        # Only once the reprocess is surely on its way: a refused reprocess never loses a person's review.
        with state.store.session_factory.begin() as session:
            if reviews.discard(session, upload_id):
                audit.record(
                    session,
                    tenant=principal.tenant,
                    action=reviews.DISCARDED_ACTION,
                    upload_id=upload_id,
                    api_key_id=principal.api_key_id,
                    request_id=request_id(request),
                    detail="replaced by reprocess",
                )
    return JSONResponse(
        status_view(state, upload), status_code=202, headers={"Location": links(upload_id)["self"]}
    )


@router.delete(
    "/uploads/{upload_id}",
    status_code=204,
    summary="Erase the upload: its document, results, rows and pending messages",
    responses={204: {"description": "Erased"}, **problem_openapi(404, 503)},
)
def delete_upload(
    state: StateDep, principal: PrincipalDep, upload_id: UploadIdPath, request: Request
) -> Response:
    request.scope["state"]["upload_id"] = upload_id
    try:
        found = erase_upload(
            state.store,
            upload_id,
            actor_tenant=principal.tenant,
            api_key_id=principal.api_key_id,
            request_id=request_id(request),
        )
    except Exception as exc:
        log.error("erasure failed part-way: %s", type(exc).__name__)
        raise Problem(
            503,
            "The upload could not be fully erased; retry the DELETE.",
            code="service_unavailable",
            headers={"Retry-After": "5"},
        ) from exc
    if not found:
        raise _not_found(upload_id)
    return Response(status_code=204)


# --- term settings --------------------------------------------------------------------------------

TERM_DESCRIPTION = (
    "Term start and end, holidays, which week the term starts in (A/B timetables), time zone and bell "
    "times. Calendar exports repeat from the term start to its end, skip holidays and anchor alternating "
    "weeks to the term start. Fields left null come from the tenant's settings, then the defaults: "
    "1 September to 31 July of the school year the upload was submitted in, no holidays, the first week "
    "label, Europe/London, no bell times."
)


def _term_view(session: Session, upload: Upload) -> dict[str, Any]:
    effective = terms.effective_settings(session, upload)
    term = terms.effective_term(session, upload)
    own = terms.upload_term(upload)
    tenant = terms.tenant_term(session, upload.tenant)
    return {
        "upload": own.model_dump(mode="json") if own else None,
        "tenant": tenant.model_dump(mode="json") if tenant else None,
        "effective": {
            **effective.model_dump(mode="json"),
            "term_start": term.start.isoformat(),
            "term_end": term.end.isoformat(),
            "timezone": term.timezone,
        },
    }


@router.get(
    "/term", response_model=TermSettings, summary="The tenant's term settings", description=TERM_DESCRIPTION
)
def get_tenant_term(state: StateDep, principal: PrincipalDep) -> dict[str, Any]:
    with state.store.session_factory() as session:
        settings = terms.tenant_term(session, principal.tenant) or TermSettings()
    return settings.model_dump(mode="json")


@router.put(
    "/term",
    response_model=TermSettings,
    summary="Set the tenant's term settings (the default for all its uploads)",
    description=TERM_DESCRIPTION,
)
def put_tenant_term(
    state: StateDep, principal: PrincipalDep, settings: Annotated[TermSettings, Body()]
) -> dict[str, Any]:
    with state.store.session_factory.begin() as session:
        apikeys.ensure_tenant(session, principal.tenant)
        terms.set_tenant_term(session, principal.tenant, settings)
    return settings.model_dump(mode="json")


@router.get(
    "/uploads/{upload_id}/term",
    summary="The upload's term settings, its tenant's, and the effective ones",
    description=TERM_DESCRIPTION,
    responses=problem_openapi(404),
)
def get_upload_term(
    state: StateDep, principal: PrincipalDep, upload_id: UploadIdPath, request: Request
) -> dict[str, Any]:
    request.scope["state"]["upload_id"] = upload_id
    with state.store.session_factory() as session:
        upload = repository.get_upload(session, upload_id, tenant=principal.tenant)
        if upload is None:
            raise _not_found(upload_id)
        return _term_view(session, upload)


@router.put(
    "/uploads/{upload_id}/term",
    summary="Set the upload's own term settings (over its tenant's)",
    description=TERM_DESCRIPTION,
    responses=problem_openapi(404),
)
def put_upload_term(
    state: StateDep,
    principal: PrincipalDep,
    upload_id: UploadIdPath,
    request: Request,
    settings: Annotated[TermSettings, Body()],
) -> dict[str, Any]:
    request.scope["state"]["upload_id"] = upload_id
    with state.store.session_factory.begin() as session:
        upload = repository.get_upload(session, upload_id, tenant=principal.tenant)
        if upload is None:
            raise _not_found(upload_id)
        terms.set_upload_term(upload, settings)
        session.flush()
        return _term_view(session, upload)
