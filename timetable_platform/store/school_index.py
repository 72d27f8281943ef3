"""The stored results a school-wide view reads: every ready upload of a tenant, its timetables."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from timetable_platform.domain.model import Timetable
from timetable_platform.domain.school import timetables_of
from timetable_platform.store.blobs import BlobNotFound, BlobStore, _segment, result_key
from timetable_platform.store.models import READY_STATUSES, Upload


def school_index_key(tenant: str) -> str:
    """Where the tenant's index of the latest timetable of every owner lives."""
    return f"schools/{_segment(tenant, 'tenant')}/timetables.json"


def ready_uploads(session: Session, tenant: str) -> list[tuple[str, datetime]]:
    """(upload id, finished at) of the tenant's uploads with a timetable, oldest first."""
    stmt = (
        select(Upload.id, Upload.finished_at, Upload.created_at)
        .where(Upload.tenant == tenant, Upload.status.in_(READY_STATUSES))
        .order_by(Upload.created_at, Upload.id)
    )
    return [(row.id, row.finished_at or row.created_at) for row in session.execute(stmt)]


def stored_timetables(blobs: BlobStore, upload_id: str) -> list[Timetable]:
    """The timetables of an upload's stored result (version 1 or 2); none when its JSON is missing."""
    try:
        data = json.loads(blobs.get(result_key(upload_id)))
    except BlobNotFound:
        return []
    return timetables_of(data)
