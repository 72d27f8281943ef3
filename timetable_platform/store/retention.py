"""Housekeeping over the store: erasing an upload everywhere, the retention job, and the reconciler
that re-enqueues uploads whose queue message was lost between the row and the message."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select

from timetable_platform.store import audit, repository, review
from timetable_platform.store.api_models import CallbackDelivery, IdempotencyRecord
from timetable_platform.store.blobs import (
    HISTORICAL_PREFIX,
    RESULTS_ROOT,
    UPLOADS_ROOT,
    delete_upload_blobs,
    result_prefix,
    upload_id_of_key,
)
from timetable_platform.store.errors import BlobNotFound, InvalidBlobKey
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
    """Remove an upload's pending messages, blobs (its historical source included) and rows (the right
    to erasure); False if absent. Dagster's copy (runs, events, partition) goes with ``deleted_uploads_sensor``.

    Order matters: messages and blobs go first, rows last, so a failure part-way leaves the row in
    place and the erasure can simply be repeated; never a blob nobody can find. ``results/{id}/`` is
    cleared once more after the rows: a running extraction step re-checks the row after each write
    (``assets.steps``), so a result written during the erasure is removed by one side or the other.
    """
    with store.session_factory() as session:
        upload = repository.get_upload(session, upload_id, tenant=actor_tenant)
        if upload is None:
            return False
        tenant, key, label, sha256 = upload.tenant, upload.id, upload.label, upload.sha256
    store.queue.purge_upload(key)
    delete_upload_blobs(store.blobs, tenant, key)
    _delete_historical_source(store, label, sha256)
    store.blobs.delete_prefix(result_prefix(key))
    with store.session_factory() as session, session.begin():
        repository.delete_upload(session, upload_id)  # its reviewed versions and scores go by cascade
        review.forget_content(session, key)
        session.execute(delete(CallbackDelivery).where(CallbackDelivery.upload_id == key))
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.upload_id == key))
        audit.record(
            session,
            tenant=tenant,
            action=audit.UPLOAD_DELETED,
            upload_id=key,
            api_key_id=api_key_id,
            request_id=request_id,
            detail=reason,
        )
    store.blobs.delete_prefix(result_prefix(key))
    return True


def _delete_historical_source(store: Store, label: str | None, sha256: str) -> None:
    """An upload registered from ``historical/...`` names its source in its label: the source goes too
    (else the document would outlive its erasure), unless the key now holds another document."""
    if not label or not label.startswith(HISTORICAL_LABEL_PREFIX):
        return
    source = label[len(HISTORICAL_LABEL_PREFIX) :]
    if not source.startswith(HISTORICAL_PREFIX):
        return
    try:
        content = store.blobs.get(source)
    except (BlobNotFound, InvalidBlobKey):  # already removed, or a label cut at 255 characters
        return
    if hashlib.sha256(content).hexdigest() == sha256:
        store.blobs.delete(source)
    else:
        log.warning("erasure kept %s: it now holds another document than the erased upload's", source)


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


ORPHAN_MIN_AGE = timedelta(hours=1)
_ID_BATCH = 500


def sweep_orphaned_blobs(store: Store, *, min_age: timedelta = ORPHAN_MIN_AGE, now: datetime | None = None) -> int:
    """Remove blobs whose upload row no longer exists; returns how many blobs were removed.

    ``results/{id}/`` is only ever written for an existing row, so a result without one is an
    orphan at once. ``uploads/{tenant}/{id}`` is written *before* its row (``intake``), so a
    document is swept only once it is older than ``min_age``: a submission in flight is never touched.
    """
    now = now or datetime.now(UTC)
    results: dict[str, list[str]] = {}
    for key in store.blobs.list(RESULTS_ROOT):
        parts = key.split("/")
        if len(parts) >= 3:
            results.setdefault(parts[1], []).append(key)
    documents: dict[str, list[str]] = {}
    for key in store.blobs.list(UPLOADS_ROOT):
        upload_id = upload_id_of_key(key)  # uploads/{tenant}/{id}, or the older uploads/{tenant}/{id}/original
        if upload_id is not None:
            documents.setdefault(upload_id, []).append(key)
    existing = _existing_upload_ids(store, set(results) | set(documents))
    removed = 0
    for upload_id, keys in results.items():
        if upload_id not in existing:
            for key in keys:
                store.blobs.delete(key)
            removed += len(keys)
    for upload_id, keys in documents.items():
        if upload_id in existing:
            continue
        for key in keys:
            modified = store.blobs.last_modified(key)
            if modified is not None and now - modified >= min_age:
                store.blobs.delete(key)
                removed += 1
    if removed:
        log.info("retention removed %d orphaned blobs", removed)
    return removed


def _existing_upload_ids(store: Store, ids: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(ids)
    with store.session_factory() as session:
        for start in range(0, len(ordered), _ID_BATCH):
            batch = ordered[start : start + _ID_BATCH]
            found.update(session.scalars(select(Upload.id).where(Upload.id.in_(batch))))
    return found


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
