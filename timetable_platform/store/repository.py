"""Repository functions over uploads and entries. Each takes a ``Session``; the caller owns the transaction."""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from timetable_platform.domain.model import Entry, Owner, Source, Timetable
from timetable_platform.store.errors import InvalidCursor, InvalidUploadField, UploadNotFound
from timetable_platform.store.models import READY_STATUSES, EntryRow, Upload, UploadStatus, new_id, utcnow

MAX_ERROR_CHARS = 4000
MAX_PAGE_SIZE = 500


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL (SQLite can): text layers of odd PDFs do contain it."""
    return value.replace("\x00", "") if value is not None else None


# Control characters (terminal escapes, newlines), format characters (bidi overrides and isolates,
# zero-width joiners, BOM), line/paragraph separators and lone surrogates: a filename carrying them
# can rewrite an operator's terminal (``timetable status``) or disguise its extension.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def clean_filename(name: str) -> str:
    """The filename as stored and shown: unprintable characters removed, never empty."""
    cleaned = "".join(c for c in name if unicodedata.category(c) not in _UNPRINTABLE_CATEGORIES).strip()
    return cleaned or "upload"


def upload_row(
    *,
    tenant: str,
    filename: str,
    media_type: str,
    size_bytes: int,
    sha256: str,
    mode: str,
    label: str | None = None,
    callback_url: str | None = None,
    upload_id: str | None = None,
    claim_content: bool = False,
) -> dict[str, Any]:
    """The column values of a new ``queued`` upload, checked.

    ``claim_content`` sets ``content_key``, so the database refuses a second claiming upload of the
    same bytes in the same mode for this tenant (the duplicate rule, safe under concurrency).

    Raises ``InvalidUploadField`` (a ValueError) for values the database would refuse (too long, NUL).
    """
    for name, value, limit in (("tenant", tenant, 128), ("media_type", media_type, 255), ("mode", mode, 32),
                               ("sha256", sha256, 64), ("upload_id", upload_id or "", 32)):  # fmt: skip
        if len(value) > limit:
            raise InvalidUploadField(f"{name} is longer than {limit} characters")
        if "\x00" in value:
            raise InvalidUploadField(f"{name} contains a NUL character")
    if size_bytes < 0:
        raise InvalidUploadField("size_bytes cannot be negative")
    now = utcnow()
    return {
        "id": upload_id or new_id(),
        "tenant": tenant,
        "filename": clean_filename(filename),
        "media_type": media_type,
        "size_bytes": size_bytes,
        "sha256": sha256,
        "mode": mode,
        "label": _text(label),
        "callback_url": _text(callback_url),
        "content_key": content_key(sha256, mode) if claim_content else None,
        "status": UploadStatus.QUEUED,
        "attempts": 0,
        "created_at": now,
        "queued_at": now,
        "updated_at": now,
    }


def content_key(sha256: str, mode: str) -> str:
    return f"{sha256}:{mode}"


def create_upload(
    session: Session,
    *,
    tenant: str,
    filename: str,
    media_type: str,
    size_bytes: int,
    sha256: str,
    mode: str,
    label: str | None = None,
    callback_url: str | None = None,
    upload_id: str | None = None,
) -> Upload:
    """A new upload in status ``queued``. Pass ``upload_id`` when the blob was stored under it first.

    Raises ``InvalidUploadField`` (a ValueError) for values the database would refuse (too long, NUL).
    """
    upload = Upload(
        **upload_row(
            tenant=tenant, filename=filename, media_type=media_type, size_bytes=size_bytes, sha256=sha256,
            mode=mode, label=label, callback_url=callback_url, upload_id=upload_id,
        )
    )
    session.add(upload)
    session.flush()
    return upload


_INSERT_UPLOAD = insert(Upload.__table__)


def insert_upload(connection: Connection, row: dict[str, Any]) -> Upload:
    """Insert an ``upload_row`` in the caller's transaction with one Core INSERT (no ORM unit of work:
    the submit hot path). Returns a detached ``Upload`` holding the same values."""
    connection.execute(_INSERT_UPLOAD, row)
    return Upload(**row)


def insert_uploads(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """``insert_upload`` for many rows in one executemany (the group commit's batch). Makes no ``Upload``
    objects: each submission's thread makes its own (``Upload(**row)``), outside the batch's transaction."""
    if rows:
        connection.execute(_INSERT_UPLOAD, rows)


def get_upload(session: Session, upload_id: str, *, tenant: str | None = None) -> Upload | None:
    """The upload, or None when it does not exist or belongs to another tenant (when ``tenant`` is given)."""
    upload = _get(session, upload_id)
    if upload is None or (tenant is not None and upload.tenant != tenant):
        return None
    return upload


def _get(session: Session, upload_id: str) -> Upload | None:
    # Any string may arrive from a URL; PostgreSQL rejects NUL in a parameter with an error, not a miss.
    if not isinstance(upload_id, str) or len(upload_id) > 64 or "\x00" in upload_id:
        return None
    return session.get(Upload, upload_id)


def _require(session: Session, upload_id: str) -> Upload:
    upload = _get(session, upload_id)
    if upload is None:
        raise UploadNotFound(f"upload {upload_id} not found")
    return upload


def find_upload_by_content(session: Session, *, tenant: str, sha256: str, mode: str) -> Upload | None:
    """The newest upload of these bytes in this mode for this tenant (for de-duplication)."""
    stmt = (
        select(Upload)
        .where(Upload.tenant == tenant, Upload.sha256 == sha256, Upload.mode == mode)
        .order_by(Upload.created_at.desc(), Upload.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


# No ORDER BY ... LIMIT 1: with one, SQLite walks ix_uploads_tenant_created_at through every upload of
# the tenant (the newest first) to find these bytes; without, it looks them up in
# ix_uploads_tenant_sha256_mode, and the few rows found are ordered here.
_UPLOAD_IDS_BY_CONTENT = select(Upload.id, Upload.created_at).where(
    Upload.tenant == bindparam("tenant"), Upload.sha256 == bindparam("sha256"), Upload.mode == bindparam("mode")
)


def find_upload_id_by_content(connection: Connection, *, tenant: str, sha256: str, mode: str) -> str | None:
    """``find_upload_by_content`` as one cached Core SELECT (the submit hot path): the newest upload's id."""
    rows = connection.execute(_UPLOAD_IDS_BY_CONTENT, {"tenant": tenant, "sha256": sha256, "mode": mode}).all()
    return max(rows, key=lambda row: (row.created_at, row.id)).id if rows else None


_UPLOADS_BY_CONTENTS = select(Upload.id, Upload.tenant, Upload.sha256, Upload.mode, Upload.created_at).where(
    # both leading columns of ix_uploads_tenant_sha256_mode, so each pair is an index lookup (no ORDER BY:
    # see _UPLOAD_IDS_BY_CONTENT)
    Upload.tenant.in_(bindparam("tenants", expanding=True)),
    Upload.sha256.in_(bindparam("sha256s", expanding=True)),
)


def find_upload_ids_by_contents(
    connection: Connection, contents: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], str]:
    """``find_upload_id_by_content`` for many (tenant, sha256, mode) at once, in one SELECT: the newest
    upload id of each that exists (the group commit's duplicate check for a whole batch)."""
    if not contents:
        return {}
    wanted = set(contents)
    newest: dict[tuple[str, str, str], tuple[Any, str]] = {}
    rows = connection.execute(
        _UPLOADS_BY_CONTENTS,
        {"tenants": sorted({c[0] for c in wanted}), "sha256s": sorted({c[1] for c in wanted})},
    )
    for upload_id, tenant, sha256, mode, created_at in rows:
        key = (tenant, sha256, mode)
        if key in wanted and (key not in newest or (created_at, upload_id) > newest[key]):
            newest[key] = (created_at, upload_id)
    return {key: upload_id for key, (_, upload_id) in newest.items()}


def find_upload_id_by_content_key(connection: Connection, *, tenant: str, key: str) -> str | None:
    """The upload holding the ``content_key`` claim (what a concurrent duplicate lost to)."""
    return connection.execute(
        select(Upload.id).where(Upload.tenant == tenant, Upload.content_key == key)
    ).scalar_one_or_none()


def _encode_cursor(upload: Upload) -> str:
    raw = json.dumps([upload.created_at.isoformat(), upload.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, upload_id = json.loads(raw)
        created_at = datetime.fromisoformat(created)
        if created_at.tzinfo is None or not isinstance(upload_id, str):
            raise ValueError("bad cursor fields")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidCursor("invalid cursor") from exc
    return created_at, upload_id


def list_uploads(
    session: Session,
    *,
    tenant: str,
    status: str | UploadStatus | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Upload], str | None]:
    """Newest first, one page at a time. Returns the page and the cursor of the next page (None at the end).

    Keyset pagination on (created_at, id): stable while new uploads arrive, no OFFSET scans.
    Raises ``InvalidCursor`` for a cursor this function did not hand out, ValueError for a bad limit/status.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    stmt = select(Upload).where(Upload.tenant == tenant)
    if status is not None:
        stmt = stmt.where(Upload.status == UploadStatus(status))
    if created_after is not None:
        stmt = stmt.where(Upload.created_at >= created_after)
    if created_before is not None:
        stmt = stmt.where(Upload.created_at < created_before)
    if cursor:
        created_at, upload_id = _decode_cursor(cursor)
        stmt = stmt.where(
            or_(Upload.created_at < created_at, and_(Upload.created_at == created_at, Upload.id < upload_id))
        )
    stmt = stmt.order_by(Upload.created_at.desc(), Upload.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1]) if len(rows) > limit else None
    return page, next_cursor


def mark_running(session: Session, upload_id: str, *, run_id: str) -> Upload:
    """Status ``running`` for this run. Idempotent per run: a repeated call does not count another attempt."""
    upload = _require(session, upload_id)
    if not (upload.status == UploadStatus.RUNNING and upload.dagster_run_id == run_id):
        upload.attempts += 1
        upload.started_at = utcnow()
    upload.status = UploadStatus.RUNNING
    upload.dagster_run_id = run_id
    upload.error = None
    upload.finished_at = None
    upload.updated_at = utcnow()
    session.flush()
    return upload


def mark_succeeded(
    session: Session,
    upload_id: str,
    *,
    run_id: str | None = None,
    extractor_version: str | None = None,
    entry_count: int | None = None,
    confidence_mean: float | None = None,
    confidence_min: float | None = None,
    backends: dict[str, Any] | None = None,
    warnings: Sequence[str] | None = None,
    durations: dict[str, Any] | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cost_usd: float | None = None,
    review_reasons: Sequence[str] | None = None,
) -> Upload:
    """Status ``succeeded``, or ``needs_review`` when there are review reasons, with the run's summary.

    Fields left as None keep their stored value; so do ``review_reasons`` (pass ``[]`` to clear
    them), which is how a run that did not re-check the timetable gives back its earlier status.
    """
    upload = _require(session, upload_id)
    summary: dict[str, Any] = {
        "dagster_run_id": run_id,
        "extractor_version": extractor_version,
        "entry_count": entry_count,
        "confidence_mean": confidence_mean,
        "confidence_min": confidence_min,
        "backends": backends,
        "warnings": list(warnings) if warnings is not None else None,
        "durations": durations,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": cost_usd,
        "review_reasons": [_text(r) or "" for r in review_reasons] if review_reasons is not None else None,
    }
    for name, value in summary.items():
        if value is not None:
            setattr(upload, name, value)
    now = utcnow()
    upload.status = UploadStatus.NEEDS_REVIEW if upload.review_reasons else UploadStatus.SUCCEEDED
    upload.error = None
    upload.finished_at = now
    upload.updated_at = now
    session.flush()
    return upload


def requeue_after_infrastructure_failure(session: Session, upload_id: str, *, reason: str, started: bool) -> Upload:
    """Back to ``queued`` (a new generation, so the queue sensor requests a new run) after a run that
    failed for infrastructure reasons. ``started``: the failed run had counted its attempt
    (``mark_running``); one that never started counts it here, so ``attempts`` bounds the retries."""
    upload = _require(session, upload_id)
    now = utcnow()
    if not started:
        upload.attempts += 1
    upload.status = UploadStatus.QUEUED
    upload.error = (_text(f"retrying after an infrastructure failure: {reason}") or "")[:MAX_ERROR_CHARS]
    upload.updated_at = now
    session.flush()
    return upload


def mark_failed(session: Session, upload_id: str, *, error: str, run_id: str | None = None) -> Upload:
    upload = _require(session, upload_id)
    now = utcnow()
    upload.status = UploadStatus.FAILED
    upload.error = (_text(error) or "failed")[:MAX_ERROR_CHARS]
    upload.review_reasons = None
    if run_id is not None:
        upload.dagster_run_id = run_id
    upload.finished_at = now
    upload.updated_at = now
    session.flush()
    return upload


def replace_entries(session: Session, upload_id: str, timetable: Timetable) -> int:
    """Replace the upload's entries (and timetable header) with ``timetable``'s, in the caller's transaction.

    Also sets entry_count, confidence_mean/min and warnings from the timetable; ``mark_succeeded``
    may override them. Returns the number of entries written.
    """
    upload = _require(session, upload_id)
    session.execute(delete(EntryRow).where(EntryRow.upload_id == upload_id))
    session.expire(upload, ["entries"])
    rows = [
        {
            "upload_id": upload_id,
            "position": position,
            "day": entry.day,
            "start": _text(entry.start),
            "end": _text(entry.end),
            "period": _text(entry.period),
            "kind": entry.kind,
            "subject": _text(entry.subject),
            "teacher": _text(entry.teacher),
            "room": _text(entry.room),
            "group": _text(entry.group),
            "week": _text(entry.week),
            "notes": _text(entry.notes),
            "confidence": entry.confidence,
            "page": entry.page,
        }
        for position, entry in enumerate(timetable.entries)
    ]
    if rows:
        session.execute(insert(EntryRow), rows)  # ORM bulk insert: one executemany
    upload.title = _text(timetable.title)
    upload.owner_kind = timetable.owner.kind if timetable.owner else None
    upload.owner_name = _text(timetable.owner.name) if timetable.owner else None
    if timetable.source is not None and timetable.source.pages is not None:
        upload.pages = timetable.source.pages
    confidences = [e.confidence for e in timetable.entries if e.confidence is not None]
    upload.entry_count = len(rows)
    upload.confidence_mean = sum(confidences) / len(confidences) if confidences else None
    upload.confidence_min = min(confidences) if confidences else None
    upload.warnings = [_text(w) or "" for w in timetable.warnings]
    upload.updated_at = utcnow()
    session.flush()
    return len(rows)


def get_timetable(session: Session, upload_id: str) -> Timetable | None:
    """The stored timetable rebuilt from entry rows and the upload's header; None when the upload is unknown.

    Does not look at the status: callers decide whether a non-succeeded upload's rows may be shown.
    """
    upload = _get(session, upload_id)
    if upload is None:
        return None
    rows = session.scalars(select(EntryRow).where(EntryRow.upload_id == upload_id).order_by(EntryRow.position))
    entries = [
        Entry(
            day=row.day,  # type: ignore[arg-type]  # validated by the model
            start=row.start,
            end=row.end,
            period=row.period,
            kind=row.kind,  # type: ignore[arg-type]
            subject=row.subject,
            teacher=row.teacher,
            room=row.room,
            group=row.group,
            week=row.week,
            notes=row.notes,
            confidence=row.confidence,
            page=row.page,
        )
        for row in rows
    ]
    owner = (
        Owner(kind=upload.owner_kind, name=upload.owner_name)  # type: ignore[arg-type]
        if upload.owner_kind and upload.owner_name is not None
        else None
    )
    source = Source(filename=upload.filename, media_type=upload.media_type, pages=upload.pages, sha256=upload.sha256)
    return Timetable(
        title=upload.title, owner=owner, source=source, entries=entries, warnings=list(upload.warnings or [])
    )


def delete_upload(session: Session, upload_id: str) -> bool:
    """Delete the upload and (by ON DELETE CASCADE) its entries. True when it existed."""
    upload = _get(session, upload_id)
    if upload is None:
        return False
    session.delete(upload)
    session.flush()
    return True


def uploads_older_than(session: Session, cutoff: datetime, *, limit: int | None = None) -> list[Upload]:
    """Uploads created before ``cutoff``, oldest first (for retention)."""
    stmt = select(Upload).where(Upload.created_at < cutoff).order_by(Upload.created_at, Upload.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def stale_or_failed_uploads(
    session: Session, *, extractor_version: str, limit: int, max_attempts: int | None = None
) -> list[Upload]:
    """Uploads to re-run: failed ones, and stored ones (succeeded or needs_review) extracted by another
    extractor version.

    Queued and running uploads are left alone. ``max_attempts`` skips uploads that failed that
    many times already, so a poison document is not retried forever. Oldest first.
    """
    stale = and_(
        Upload.status.in_(READY_STATUSES),
        or_(Upload.extractor_version.is_(None), Upload.extractor_version != extractor_version),
    )
    failed = Upload.status == UploadStatus.FAILED
    if max_attempts is not None:
        failed = and_(failed, Upload.attempts < max_attempts)
    stmt = select(Upload).where(or_(stale, failed)).order_by(Upload.created_at, Upload.id).limit(limit)
    return list(session.scalars(stmt))


def status_counts(session: Session, *, tenant: str | None = None) -> dict[str, int]:
    """Number of uploads in each status (every status present, zero when none)."""
    stmt = select(Upload.status, func.count()).group_by(Upload.status)
    if tenant is not None:
        stmt = stmt.where(Upload.tenant == tenant)
    counts = {status.value: 0 for status in UploadStatus}
    for status, count in session.execute(stmt):
        counts[UploadStatus(status).value] = count
    return counts


def recent_uploads(session: Session, *, limit: int = 20) -> list[Upload]:
    """Newest uploads of every tenant (operators' view; the API always filters by tenant)."""
    stmt = select(Upload).order_by(Upload.created_at.desc(), Upload.id.desc()).limit(limit)
    return list(session.scalars(stmt))
