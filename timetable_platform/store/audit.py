"""The audit log: who uploaded, read, reprocessed or deleted which upload, and when."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
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


def events(
    session: Session, *, tenant: str | None = None, upload_id: str | None = None, limit: int = 100
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if tenant is not None:
        query = query.where(AuditEvent.tenant == tenant)
    if upload_id is not None:
        query = query.where(AuditEvent.upload_id == upload_id)
    return list(session.scalars(query))
