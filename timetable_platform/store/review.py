"""Reviewed versions of an upload's timetable: read the version served, save a person's change.

The extracted timetable stays as the pipeline wrote it. Each saved change is a new
``TimetableVersion`` row with the next revision number; the unique (upload, revision) pair is the
compare-and-swap that turns a lost race into ``StaleVersion`` (HTTP 412) on SQLite and PostgreSQL
alike. Each function takes a ``Session``; the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from timetable_platform.domain.editing import EditableTimetable, from_extracted
from timetable_platform.domain.model import Timetable
from timetable_platform.store import audit, repository
from timetable_platform.store.api_models import AuditEvent
from timetable_platform.store.models import Upload, utcnow
from timetable_platform.store.review_models import TenantReviewSettings, TimetableVersion

VersionName = Literal["extracted", "reviewed", "latest"]
EDIT_ACTIONS = ("timetable.entry_updated", "timetable.entry_added", "timetable.entry_deleted")
REVIEWED_ACTION = "timetable.reviewed"
DISCARDED_ACTION = "timetable.review_discarded"
REVIEW_ACTIONS = (*EDIT_ACTIONS, REVIEWED_ACTION, DISCARDED_ACTION)


class StaleVersion(Exception):
    """Someone saved another version first (or the If-Match tag names no current version)."""


@dataclass(frozen=True)
class ServedVersion:
    """One version of an upload's timetable, as served: which one, its ETag, and its entries' ids."""

    name: Literal["extracted", "reviewed"]
    editable: EditableTimetable
    etag: str
    revision: int  # 0 for the extracted version
    reviewed_at: datetime | None = None
    extractor_version: str | None = None

    @property
    def timetable(self) -> Timetable:
        return self.editable.timetable


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def latest_row(session: Session, upload_id: str) -> TimetableVersion | None:
    return session.scalars(
        select(TimetableVersion)
        .where(TimetableVersion.upload_id == upload_id)
        .order_by(TimetableVersion.revision.desc())
        .limit(1)
    ).first()


def extracted_version(session: Session, upload: Upload) -> ServedVersion:
    timetable = repository.get_timetable(session, upload.id)
    assert timetable is not None
    editable = from_extracted(timetable)
    # The run and its end time are in the tag: a re-extraction with equal output is still another version.
    etag = f'"x-{_digest(upload.dagster_run_id, upload.finished_at, timetable.to_json_dict())}"'
    return ServedVersion("extracted", editable, etag, 0, extractor_version=upload.extractor_version)


def _from_row(row: TimetableVersion) -> ServedVersion:
    editable = EditableTimetable(Timetable.model_validate(row.timetable), tuple(row.entry_ids))
    etag = f'"r{row.revision}-{_digest(row.upload_id, row.revision, row.timetable, row.entry_ids)}"'
    return ServedVersion("reviewed", editable, etag, row.revision, row.reviewed_at, row.extractor_version)


def reviewed_version(session: Session, upload_id: str) -> ServedVersion | None:
    row = latest_row(session, upload_id)
    return _from_row(row) if row is not None else None


def served_version(session: Session, upload: Upload, which: VersionName = "latest") -> ServedVersion | None:
    """``latest``: the reviewed version once there is one, else the extracted one. ``reviewed`` is None
    until a person saved a change. Does not look at the upload's status (callers do)."""
    if which != "extracted":
        reviewed = reviewed_version(session, upload.id)
        if reviewed is not None or which == "reviewed":
            return reviewed
    return extracted_version(session, upload)


def served_timetable(session: Session, upload: Upload) -> Timetable:
    """What exports and share links serve: the latest version."""
    version = served_version(session, upload)
    assert version is not None
    return version.timetable


def save(
    session: Session,
    upload: Upload,
    base: ServedVersion,
    result: EditableTimetable,
    *,
    actor: str,
    change: str,
    reviewed: bool = False,
) -> ServedVersion:
    """Store ``result`` as the revision after ``base``. Raises ``StaleVersion`` when that revision was
    saved meanwhile (the flush hits the unique (upload, revision) pair, or the check below sees it)."""
    from sqlalchemy.exc import IntegrityError

    newest = session.scalar(
        select(func.max(TimetableVersion.revision)).where(TimetableVersion.upload_id == upload.id)
    )
    if (newest or 0) != base.revision:
        raise StaleVersion(upload.id)
    row = TimetableVersion(
        upload_id=upload.id,
        revision=base.revision + 1,
        timetable=result.timetable.to_json_dict(),
        entry_ids=list(result.entry_ids),
        created_at=utcnow(),
        actor=actor[:64],
        change=change,
        reviewed_at=utcnow() if reviewed else None,
        extractor_version=base.extractor_version if base.name == "reviewed" else upload.extractor_version,
    )
    upload_id = upload.id
    session.add(row)
    try:
        session.flush()  # the caller's transaction is rolled back with the StaleVersion
    except IntegrityError as exc:
        # (the session is rolled back now: touching ``upload`` would need a new transaction)
        raise StaleVersion(upload_id) from exc
    return _from_row(row)


def record_change(
    session: Session,
    *,
    upload: Upload,
    action: str,
    version: ServedVersion,
    actor: str,
    entry_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    api_key_id: int | None,
    request_id: str | None,
) -> None:
    """The audit event of a saved change: who, when (the event's time), which revision, before and after.

    The entry's content is in ``detail`` only while the upload exists: erasure blanks it
    (``forget_content``), since the audit log itself outlives the upload."""
    detail = {"revision": version.revision, "actor": actor, "entry_id": entry_id, "before": before, "after": after}
    audit.record(
        session,
        tenant=upload.tenant,
        action=action,
        upload_id=upload.id,
        api_key_id=api_key_id,
        request_id=request_id,
        detail=json.dumps(detail, ensure_ascii=False),
    )


def changes(session: Session, upload_id: str) -> list[AuditEvent]:
    """The review events of an upload, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.upload_id == upload_id, AuditEvent.action.in_(REVIEW_ACTIONS))
            .order_by(AuditEvent.id)
        )
    )


def forget_content(session: Session, upload_id: str) -> None:
    """Blank the entry content kept in an erased upload's review events (who and when stay)."""
    session.execute(
        update(AuditEvent)
        .where(AuditEvent.upload_id == upload_id, AuditEvent.action.in_(REVIEW_ACTIONS))
        .values(detail=None)
    )


def discard(session: Session, upload_id: str) -> int:
    """Drop every reviewed revision (a reprocess that asked to replace the review). Returns how many."""
    result = session.execute(delete(TimetableVersion).where(TimetableVersion.upload_id == upload_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def review_events_after(session: Session, after_id: int, *, limit: int = 500) -> list[tuple[int, str]]:
    """(event id, upload id) of "Mark as reviewed" events after event ``after_id``, oldest first."""
    query = (
        select(AuditEvent.id, AuditEvent.upload_id)
        .where(AuditEvent.id > after_id, AuditEvent.action == REVIEWED_ACTION, AuditEvent.upload_id.is_not(None))
        .order_by(AuditEvent.id)
        .limit(limit)
    )
    return [(event_id, upload_id) for event_id, upload_id in session.execute(query)]


# --- ground truth --------------------------------------------------------------------------------


def contributes(session: Session, tenant: str) -> bool:
    settings = session.get(TenantReviewSettings, tenant)
    return settings is None or settings.contribute_ground_truth


def set_contribution(session: Session, tenant: str, contribute: bool) -> None:
    settings = session.get(TenantReviewSettings, tenant)
    if settings is None:
        session.add(TenantReviewSettings(tenant=tenant, contribute_ground_truth=contribute, updated_at=utcnow()))
    else:
        settings.contribute_ground_truth = contribute
        settings.updated_at = utcnow()
    session.flush()


@dataclass(frozen=True)
class ReviewedCase:
    """A reviewed timetable and the upload it corrects: one evaluation case."""

    upload: Upload
    version: ServedVersion


def reviewed_cases(
    session: Session, *, tenant: str | None = None, since: datetime | None = None, contributing_only: bool = True
) -> list[ReviewedCase]:
    """Uploads whose newest revision a person marked as reviewed (edits after the mark wait for the next
    one), oldest review first; tenants that turned contribution off are left out unless asked."""
    newest = (
        select(TimetableVersion.upload_id, func.max(TimetableVersion.revision).label("revision"))
        .group_by(TimetableVersion.upload_id)
        .subquery()
    )
    query = (
        select(TimetableVersion, Upload)
        .join(newest, (newest.c.upload_id == TimetableVersion.upload_id) & (newest.c.revision == TimetableVersion.revision))
        .join(Upload, Upload.id == TimetableVersion.upload_id)
        .where(TimetableVersion.reviewed_at.is_not(None))
        .order_by(TimetableVersion.reviewed_at, TimetableVersion.upload_id)
    )
    if tenant is not None:
        query = query.where(Upload.tenant == tenant)
    if since is not None:
        query = query.where(TimetableVersion.reviewed_at >= since)
    cases = []
    allowed: dict[str, bool] = {}
    for row, upload in session.execute(query):
        if contributing_only:
            if upload.tenant not in allowed:
                allowed[upload.tenant] = contributes(session, upload.tenant)
            if not allowed[upload.tenant]:
                continue
        cases.append(ReviewedCase(upload, _from_row(row)))
    return cases
