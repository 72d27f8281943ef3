"""The audit log: who uploaded, read, reprocessed or deleted which upload, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.orm import Session

from timetable_platform.store.api_models import AuditEvent


def record(
    session: Session,
    *,
    tenant: str,
    action: str,
    upload_id: str | None = None,
    api_key_id: int | None = None,
    request_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Add one event to the caller's transaction (so it commits, or not, with what it describes)."""
    session.add(
        AuditEvent(
            at=datetime.now(UTC),
            tenant=tenant,
            action=action,
            upload_id=upload_id,
            api_key_id=api_key_id,
            request_id=request_id,
            detail=detail,
        )
    )


@dataclass(frozen=True)
class AuditEntry:
    """An event to write together with the change it describes (``intake.submit_document``)."""

    tenant: str
    action: str
    api_key_id: int | None = None
    request_id: str | None = None
    detail: str | None = None


_INSERT_EVENT = insert(AuditEvent.__table__)


def insert_event(connection: Connection, entry: AuditEntry, upload_id: str | None) -> None:
    """``record`` as one Core INSERT in the caller's transaction (the submit hot path)."""
    connection.execute(
        _INSERT_EVENT,
        {
            "at": datetime.now(UTC), "tenant": entry.tenant, "action": entry.action, "upload_id": upload_id,
            "api_key_id": entry.api_key_id, "request_id": entry.request_id, "detail": entry.detail,
        },
    )


def insert_events(connection: Connection, entries: list[tuple[AuditEntry, str | None]]) -> None:
    """``insert_event`` for many (entry, upload id) pairs in one executemany (the group commit's batch)."""
    if not entries:
        return
    at = datetime.now(UTC)
    connection.execute(
        _INSERT_EVENT,
        [
            {"at": at, "tenant": entry.tenant, "action": entry.action, "upload_id": upload_id,
             "api_key_id": entry.api_key_id, "request_id": entry.request_id, "detail": entry.detail}
            for entry, upload_id in entries
        ],
    )  # fmt: skip


def delete_events(connection: Connection, *, upload_id: str, action: str) -> None:
    """Take back the events of a change that was undone."""
    connection.execute(delete(AuditEvent).where(AuditEvent.upload_id == upload_id, AuditEvent.action == action))


def events(
    session: Session, *, tenant: str | None = None, upload_id: str | None = None, limit: int = 100
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if tenant is not None:
        query = query.where(AuditEvent.tenant == tenant)
    if upload_id is not None:
        query = query.where(AuditEvent.upload_id == upload_id)
    return list(session.scalars(query))


UPLOAD_DELETED = "upload.deleted"


def deleted_uploads_after(session: Session, after_id: int, *, limit: int = 500) -> list[tuple[int, str]]:
    """(event id, upload id) of erasures recorded after event ``after_id``, oldest first."""
    query = (
        select(AuditEvent.id, AuditEvent.upload_id)
        .where(AuditEvent.id > after_id, AuditEvent.action == UPLOAD_DELETED, AuditEvent.upload_id.is_not(None))
        .order_by(AuditEvent.id)
        .limit(limit)
    )
    return [(event_id, upload_id) for event_id, upload_id in session.execute(query)]
