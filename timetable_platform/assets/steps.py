"""Per-upload work behind the four assets: read from the store, call a stage, write to the store.

Each function handles ONE upload and returns its figures; the assets loop over the run's
partition keys (one for a live upload, a range in a backfill) so one document's failure is
recorded on that document only. Intermediate candidates live in the blob store under
``results/{upload_id}/`` as JSON, never as IO-manager pickles.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from timetable_platform.assets.partitions import EXTRACTOR_VERSION
from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.extraction.base import Document, Interpreter, LayoutExtractor, Limits, StageResult
from timetable_platform.extraction.errors import (
    BackendError,
    CorruptDocument,
    ExtractionError,
    TooLarge,
)
from timetable_platform.extraction.pipeline import interpreter_skip_reason, reconcile
from timetable_platform.extraction.safety import check_pages
from timetable_platform.extraction.stage_codec import stage_from_json, stage_to_json
from timetable_platform.resources.store import StoreResource

LAYOUT_CANDIDATE = "document_ai"
INTERPRETER_CANDIDATE = "claude"


class UploadUnavailable(Exception):
    """The upload row or its stored document is missing: nothing to extract."""


class UploadDeleted(UploadUnavailable):
    """The upload was erased while its run was working on it: nothing more is written for it."""


class CheckRejected(Exception):
    """A rejecting asset check failed (the timetable cannot be used): nothing is stored and the upload fails.

    ``str(exc)`` is the reason stored with the upload (it may quote what was read); ``summary`` is the
    same reason without the quotes, for Dagster's event log, which must not hold document text."""

    def __init__(self, reason: str, summary: str | None = None) -> None:
        super().__init__(reason)
        self.summary = summary or reason


def candidate_key(upload_id: str, name: str) -> str:
    from timetable_platform.store.blobs import result_prefix

    return f"{result_prefix(upload_id)}{name}.json"


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, BackendError) and exc.transient


def is_infrastructure_error(exc: BaseException) -> bool:
    """A failure of what the platform runs on (a paid API's transient error, the database, the blob
    store, the network), not of the document: worth retrying with backoff. Everything a document can
    cause (unreadable, too large, no timetable, a failed check, a deleted upload) is not."""
    if isinstance(exc, ExtractionError):
        return is_transient(exc)
    if isinstance(exc, CheckRejected | UploadUnavailable):
        return False
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from timetable_platform.store.errors import BackendUnavailable

    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout | BackendUnavailable):
        return True
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError):
        return True  # I/O of the blob directory: disk full, EIO, a stale mount
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    if isinstance(exc, BotoCoreError):  # endpoint unreachable, connection closed, read timeout
        return True
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return status >= 500 or code in ("SlowDown", "Throttling", "ThrottlingException", "RequestTimeout")
    return False


def describe_error(exc: BaseException, *, for_dagster: bool = False) -> str:
    """The upload's error; ``for_dagster``: the wording kept in Dagster's storage (no document text)."""
    if isinstance(exc, ExtractionError):
        return f"{exc.code}: {exc.message}"
    if isinstance(exc, CheckRejected):
        return f"check_failed: {exc.summary if for_dagster else exc}"
    if isinstance(exc, UploadDeleted):
        return f"upload_deleted: {exc}"
    if isinstance(exc, UploadUnavailable):
        return f"upload_unavailable: {exc}"
    if is_infrastructure_error(exc):
        return f"infrastructure_failure: {type(exc).__name__}: {exc}"
    return f"internal_error: {type(exc).__name__}: {exc}"


@dataclass
class LoadedUpload:
    upload_id: str
    tenant: str
    filename: str
    media_type: str
    sha256: str
    mode: str
    content: bytes

    def document(self) -> Document:
        return Document(content=self.content, media_type=self.media_type, filename=self.filename)


def load_upload(store: StoreResource, upload_id: str) -> LoadedUpload:
    from timetable_platform.store import repository
    from timetable_platform.store.blobs import BlobNotFound, upload_bytes

    with store.session() as session:
        upload = repository.get_upload(session, upload_id)
        if upload is None:
            raise UploadUnavailable(f"no upload {upload_id}")
        row = (upload.tenant, upload.filename, upload.media_type, upload.sha256, str(upload.mode))
    tenant, filename, media_type, sha256, mode = row
    try:
        content = upload_bytes(store.blobs, tenant, upload_id)
    except BlobNotFound as exc:
        raise UploadUnavailable(f"the stored document of upload {upload_id} is missing") from exc
    return LoadedUpload(upload_id, tenant, filename, media_type, sha256, mode, content)


def mark_running(store: StoreResource, upload_id: str, run_id: str) -> None:
    from timetable_platform.store import repository

    with store.session() as session:
        repository.mark_running(session, upload_id, run_id=run_id)


def mark_failed(store: StoreResource, upload_id: str, run_id: str, error: str) -> None:
    from timetable_platform.store import repository

    with store.session() as session:
        if repository.get_upload(session, upload_id) is not None:
            repository.mark_failed(session, upload_id, error=error[:4000], run_id=run_id)


def failed_in_run(store: StoreResource, upload_id: str, run_id: str) -> bool:
    """True when an earlier step of this run already failed this upload (later steps skip it)."""
    from timetable_platform.store import repository

    with store.session() as session:
        upload = repository.get_upload(session, upload_id)
        return upload is None or (str(upload.status) == "failed" and upload.dagster_run_id == run_id)


def verify_raw_upload(store: StoreResource, upload_id: str, limits: Limits) -> dict[str, Any]:
    """Check the stored blob against its row: checksum, sniffed type, page count within limits."""
    from timetable_platform.extraction.sniff import sniff_media_type

    started = time.perf_counter()
    upload = load_upload(store, upload_id)
    digest = hashlib.sha256(upload.content).hexdigest()
    if digest != upload.sha256:
        raise CorruptDocument(
            "The stored document does not match its checksum.", detail=f"row {upload.sha256}, blob {digest}"
        )
    if len(upload.content) > limits.max_bytes:
        raise TooLarge(f"The document is larger than {limits.max_bytes} bytes.")
    sniffed = sniff_media_type(upload.content, upload.filename)
    pages = check_pages(upload.content, sniffed, limits)
    return {
        "tenant": upload.tenant,
        "filename": upload.filename,
        "mode": upload.mode,
        "size_bytes": len(upload.content),
        "sha256": digest,
        "media_type": sniffed,
        "media_type_matches_row": sniffed == upload.media_type,
        "pages": pages,
        "seconds": round(time.perf_counter() - started, 4),
    }


def _put_json(store: StoreResource, key: str, data: dict[str, Any]) -> None:
    store.blobs.put(key, json.dumps(data, ensure_ascii=False).encode(), content_type="application/json")


def upload_exists(store: StoreResource, upload_id: str) -> bool:
    from timetable_platform.store import repository

    with store.session() as session:
        return repository.get_upload(session, upload_id) is not None


def _put_result(store: StoreResource, upload_id: str, key: str, data: dict[str, Any]) -> None:
    """Write a result blob of an upload that still exists, and take it back if the upload was erased
    meanwhile. ``erase_upload`` clears ``results/{id}/`` again after deleting the row, so a write
    racing an erasure is removed by one side or the other: a deleted upload stays deleted."""
    if not upload_exists(store, upload_id):
        raise UploadDeleted(f"upload {upload_id} was deleted")
    _put_json(store, key, data)
    if not upload_exists(store, upload_id):
        store.blobs.delete(key)
        raise UploadDeleted(f"upload {upload_id} was deleted during extraction")


def _get_json(store: StoreResource, key: str) -> dict[str, Any]:
    return json.loads(store.blobs.get(key))


def _stage_figures(stage: StageResult) -> dict[str, Any]:
    confidences = [e.confidence for e in stage.timetable.entries if e.confidence is not None]
    return {
        "backend": stage.backend,
        "seconds": round(stage.seconds, 4),
        "entry_count": len(stage.timetable.entries),
        "confidence_mean": stage.mean_confidence,
        "confidence_min": min(confidences) if confidences else None,
        "input_tokens": stage.input_tokens,
        "output_tokens": stage.output_tokens,
        "cost_usd": stage.cost_usd,
        "warnings": list(stage.warnings),
    }


def _stage_from_stored_layout(store: StoreResource, upload: LoadedUpload, key: str, limits: Limits) -> StageResult | None:
    """The layout stage re-interpreting the layout stored by the upload's last run, when that layout was
    read from the same bytes by the same readers (``extraction.layout_reuse``); else None."""
    from timetable_platform.extraction.embedded import EmbeddedLayoutExtractor, interpreted_stage
    from timetable_platform.extraction.layout_reuse import reusable
    from timetable_platform.extraction.stage_codec import layout_from_json
    from timetable_platform.store.blobs import BlobNotFound

    try:
        stored = _get_json(store, key)
    except (BlobNotFound, ValueError):  # never stored, or unreadable: read the document
        return None
    if not reusable(stored, upload.sha256, limits):
        return None
    started = time.perf_counter()
    return interpreted_stage(layout_from_json(stored["layout"]), backend=EmbeddedLayoutExtractor.name, started=started)


def run_layout_stage(
    store: StoreResource, upload_id: str, extractor: LayoutExtractor, limits: Limits, *, reuse_layout: bool = False
) -> dict[str, Any]:
    """Candidate A: the layout extractor's reading, stored as ``results/{id}/document_ai.json``.

    The embedded extractor's layout is stamped with the readers that read it; with ``reuse_layout`` a
    re-run whose stored layout has this upload's bytes and these readers interprets it again instead of
    reading (OCR-ing) the document again."""
    from timetable_platform.extraction.embedded import EmbeddedLayoutExtractor
    from timetable_platform.extraction.layout_reuse import STAMP_KEY, stamp

    upload = load_upload(store, upload_id)
    key = candidate_key(upload_id, LAYOUT_CANDIDATE)
    embedded = isinstance(extractor, EmbeddedLayoutExtractor)
    stage = _stage_from_stored_layout(store, upload, key, limits) if embedded and reuse_layout else None
    reused = stage is not None
    if stage is None:
        stage = extractor.extract(upload.document(), limits)
    data = stage_to_json(stage)
    if embedded and stage.layout is not None:
        data[STAMP_KEY] = stamp(upload.sha256, limits)
    _put_result(store, upload_id, key, data)
    return {**_stage_figures(stage), "layout_reused": reused}


def run_interpreter_stage(
    store: StoreResource,
    upload_id: str,
    make_interpreter: Callable[[], Interpreter],
    limits: Limits,
    *,
    fallback_threshold: float,
) -> dict[str, Any]:
    """Candidate B, or a skip record when the upload's mode does not call for it."""
    upload = load_upload(store, upload_id)
    key = candidate_key(upload_id, INTERPRETER_CANDIDATE)
    # With its layout: the interpreter reuses the first stage's reading instead of reading (and OCR-ing) again.
    first = _get_json(store, candidate_key(upload_id, LAYOUT_CANDIDATE))
    layout = stage_from_json(first)
    skipped = interpreter_skip_reason(upload.mode, layout, fallback_threshold)
    if skipped is not None:
        _put_result(store, upload_id, key, {"skipped": skipped})
        return {"skipped": skipped}
    interpreter = make_interpreter()  # only now: document_ai-mode uploads never need one
    if getattr(interpreter, "name", None) == "textstream" and first.get("parts", 0) >= 2:
        # A school-wide document: the merge reads the text stream of each part (extraction.split);
        # reading the whole document here would be thrown away.
        reader = layout.layout.reader if layout.layout is not None else "layout"
        per_part = StageResult(timetable=Timetable(), backend=f"textstream:{reader}", seconds=0.0, pages=layout.pages)
        _put_result(store, upload_id, key, stage_to_json(per_part, with_layout=False))
        return _stage_figures(per_part)
    try:
        stage = interpreter.extract(upload.document(), limits, context=layout)
    except ExtractionError as exc:
        if is_transient(exc):
            raise  # the asset retries with backoff
        # As in pipeline.extract: the layout stage already has an answer; a failing second opinion
        # is recorded, not fatal.
        skipped = f"{getattr(interpreter, 'name', 'interpreter')} failed: {exc.message}"
        _put_result(store, upload_id, key, {"skipped": skipped, "warning": skipped})
        return {"skipped": skipped}
    _put_result(store, upload_id, key, stage_to_json(stage, with_layout=False))  # the layout is candidate A's
    return _stage_figures(stage)


@dataclass
class MergedUpload:
    timetable: Timetable
    summary: dict[str, Any]
    layout: StageResult
    interpreter: StageResult | None
    durations: dict[str, float] = field(default_factory=dict)
    # A school-wide document's timetables, one per owner (``timetable`` then holds all their entries).
    timetables: list[Timetable] = field(default_factory=list)
    tenant: str | None = None

    def result_json(self) -> dict[str, Any]:
        """What ``results/{id}/timetable.json`` holds: schema version 1, or 2 for several timetables."""
        from timetable_platform.domain.school import result_json

        if len(self.timetables) < 2:
            return self.timetable.to_json_dict()
        return result_json(self.timetables, source=self.timetable.source, warnings=self.timetable.warnings)

    def owners(self) -> list[dict[str, Any]]:
        """Each timetable's owner with its entry count (a one-timetable upload lists its owner, if named)."""
        parts = self.timetables if len(self.timetables) > 1 else [self.timetable]
        return [
            {"kind": t.owner.kind if t.owner else None, "name": t.owner.name if t.owner else None,
             "entry_count": len(t.entries)}
            for t in parts
        ]  # fmt: skip


def _may_hold_several(candidate: dict[str, Any]) -> bool:
    """Whether a stored layout has the pages or tables a school-wide document needs (cheap, undecoded)."""
    pages = (candidate.get("layout") or {}).get("pages") or []
    return len(pages) >= 2 or any(len(page.get("tables") or []) >= 2 for page in pages)


def merge_upload(store: StoreResource, upload_id: str, *, raw_seconds: float | None = None) -> MergedUpload:
    """Reconcile the stored candidates into the upload's timetable (not yet persisted)."""
    upload = load_upload(store, upload_id)
    first = _get_json(store, candidate_key(upload_id, LAYOUT_CANDIDATE))
    second = _get_json(store, candidate_key(upload_id, INTERPRETER_CANDIDATE))
    # The layout only where it is read: reconcile reads its word stream when a first reading found
    # nothing and no second ran; a document of several pages or tables may be school-wide (split).
    needs_layout = "skipped" in second and not first["timetable"].get("entries")
    layout = stage_from_json(first, with_layout=needs_layout or _may_hold_several(first))
    interpreter = None if "skipped" in second else stage_from_json(second, with_layout=False)
    if "warning" in second:
        layout.warnings.append(second["warning"])
    started = time.perf_counter()
    timetable = reconcile(
        layout,
        interpreter,
        mode=upload.mode,
        filename=upload.filename,
        media_type=upload.media_type,
        sha256=upload.sha256,
    )
    from timetable_platform.extraction.split import combined, split_timetables

    parts = split_timetables(
        layout, interpreter, mode=upload.mode, filename=upload.filename, media_type=upload.media_type,
        sha256=upload.sha256,
    ) or []  # fmt: skip
    if parts:
        timetable = combined(parts, timetable)
    merge_seconds = time.perf_counter() - started
    pages = timetable.source.pages if timetable.source else None
    warnings = timetable.warnings
    stages = [layout] if interpreter is None else [layout, interpreter]
    confidences = [e.confidence for e in timetable.entries if e.confidence is not None]
    durations = {"document_ai_extraction": round(layout.seconds, 4), "merge": round(merge_seconds, 4)}
    if interpreter is not None:
        durations["claude_extraction"] = round(interpreter.seconds, 4)
    if raw_seconds is not None:
        durations["raw_upload"] = raw_seconds
    summary: dict[str, Any] = {
        "entry_count": len(timetable.entries),
        "confidence_mean": sum(confidences) / len(confidences) if confidences else None,
        "confidence_min": min(confidences) if confidences else None,
        "backends": {"layout": layout.backend, "interpreter": interpreter.backend if interpreter else None},
        "warnings": warnings,
        "durations": durations,
        "input_tokens": sum(s.input_tokens for s in stages),
        "output_tokens": sum(s.output_tokens for s in stages),
        "cost_usd": round(sum(s.cost_usd for s in stages), 6),
        "pages": pages,
    }
    return MergedUpload(
        timetable, summary, layout, interpreter, durations, timetables=parts, tenant=upload.tenant
    )


def printed_overlap_judge(merged: MergedUpload):  # type: ignore[no-untyped-def]
    """Whether an overlap was read from the document rather than made up by the merge.

    Without the page geometry here, an overlap counts as printed when every stage that ran read
    both clashing entries with those very times (two independent readers agreeing on a clash).
    """
    stages = [merged.layout] if merged.interpreter is None else [merged.layout, merged.interpreter]
    seen = [{(e.day, e.start, e.end, e.week, e.group) for e in s.timetable.entries} for s in stages]

    def judge(a: Entry, b: Entry) -> bool:
        keys = [(e.day, e.start, e.end, e.week, e.group) for e in (a, b)]
        return all(k in found for found in seen for k in keys)

    return judge


def store_merged(
    store: StoreResource, upload_id: str, run_id: str, merged: MergedUpload, *, review_reasons: list[str]
) -> None:
    """Write ``results/{id}/timetable.json``, then entries + status in ONE transaction.

    The status is ``needs_review`` when ``review_reasons`` is not empty, else ``succeeded``.

    Blob first: a crash between the two leaves the upload ``running`` with a complete JSON that the
    retried run overwrites; the database never says ``succeeded`` without its JSON and entries.
    """
    from timetable_platform.store import repository
    from timetable_platform.store.blobs import result_key
    from timetable_platform.store.errors import UploadNotFound

    _put_result(store, upload_id, result_key(upload_id), merged.result_json())
    summary = {k: v for k, v in merged.summary.items() if k != "pages"}
    try:
        with store.session() as session:
            repository.replace_entries(session, upload_id, merged.timetable)
            repository.mark_succeeded(
                session,
                upload_id,
                run_id=run_id,
                extractor_version=EXTRACTOR_VERSION,
                review_reasons=review_reasons,
                **summary,
            )
    except UploadNotFound as exc:  # erased between the blob and the rows
        store.blobs.delete(result_key(upload_id))
        raise UploadDeleted(f"upload {upload_id} was deleted during extraction") from exc
