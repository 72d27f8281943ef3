"""Housekeeping over the store: erasing an upload everywhere, the retention job, and the reconciler
that re-enqueues uploads whose queue message was lost between the row and the message."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select

from timetable_platform.store import audit, repository
from timetable_platform.store.api_models import CallbackDelivery, IdempotencyRecord
from timetable_platform.store.blobs import result_prefix, upload_prefix
from timetable_platform.store.models import Upload, UploadStatus
from timetable_platform.store.queue import upload_message

if TYPE_CHECKING:
    from timetable_platform.store.factory import Store

log = logging.getLogger(__name__)


def erase_upload(
    store: Store,
    upload_id: str,
    *,
    actor_tenant: str | None = None,
    api_key_id: int | None = None,
    request_id: str | None = None,
    reason: str = "request",
) -> bool:
    """Remove an upload's pending messages, blobs and rows (the right to erasure); False if absent.

    Order matters: messages and blobs go first, rows last, so a failure part-way leaves the row in
    place and the erasure can simply be repeated; never a blob nobody can find.
    """
    with store.session_factory() as session:
        upload = repository.get_upload(session, upload_id, tenant=actor_tenant)
        if upload is None:
            return False
        tenant, key = upload.tenant, upload.id
    store.queue.purge_upload(key)
    store.blobs.delete_prefix(upload_prefix(tenant, key))
    store.blobs.delete_prefix(result_prefix(key))
    with store.session_factory() as session, session.begin():
        repository.delete_upload(session, upload_id)
        session.execute(delete(CallbackDelivery).where(CallbackDelivery.upload_id == key))
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.upload_id == key))
        audit.record(
            session,
            tenant=tenant,
            action="upload.deleted",
            upload_id=key,
            api_key_id=api_key_id,
            request_id=request_id,
            detail=reason,
        )
    return True


IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)


def purge_expired_uploads(store: Store, *, days: int, now: datetime | None = None) -> int:
    """Erase every upload created more than ``days`` ago; returns how many were erased.

    Also forgets ``Idempotency-Key`` records older than a day: a retry comes within minutes, and
    an old key must not pin an answer forever."""
    now = now or datetime.now(UTC)
    with store.session_factory.begin() as session:
        session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - IDEMPOTENCY_KEY_LIFETIME)
        )
    cutoff = now - timedelta(days=days)
    with store.session_factory() as session:
        ids = [upload.id for upload in repository.uploads_older_than(session, cutoff)]
    erased = 0
    for upload_id in ids:
        try:
            if erase_upload(store, upload_id, reason=f"retention {days} days"):
                erased += 1
        except Exception:  # one stuck upload must not stop the rest; it is retried next run
            log.exception("retention could not erase upload %s", upload_id)
    return erased


# Label of uploads registered from the blob store's historical/ prefix: their runs come from the
# historical sensor's ranged backfills, not from queue messages, so they are never re-enqueued here.
HISTORICAL_LABEL_PREFIX = "historical:"


def reconcile_orphans(
    store: Store, *, older_than: timedelta = timedelta(minutes=10), now: datetime | None = None
) -> int:
    """Re-enqueue uploads ``queued`` and untouched for ``older_than``; returns how many were re-sent.

    The queue cannot be asked whether it holds a given message, so any pending message is purged
    first and one fresh message sent: at most one message per upload, and the Dagster sensor's run
    key (upload id and queued generation) makes a redelivery harmless. Historical uploads wait in
    the backfill lane, where the historical sensor re-requests them itself; they are skipped.
    """
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=older_than.total_seconds())
    with store.session_factory() as session:
        stale = session.execute(
            select(Upload.id, Upload.tenant).where(
                Upload.status == UploadStatus.QUEUED,
                Upload.updated_at < cutoff,
                or_(Upload.label.is_(None), ~Upload.label.startswith(HISTORICAL_LABEL_PREFIX)),
            )
        ).all()
    for upload_id, tenant in stale:
        store.queue.purge_upload(upload_id)
        store.queue.send(upload_message(upload_id, tenant))
    return len(stale)
