"""Registering a document: blob, then row + message (+ audit event), so nothing is ever orphaned.

A failure part-way undoes what was written before it and re-raises. The API, the CLI and the
historical sensor all enqueue through here (or in the same order), with the same message body.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from timetable_platform.store import audit, repository
from timetable_platform.store.audit import AuditEntry
from timetable_platform.store.blobs import upload_key
from timetable_platform.store.db import SQLITE_BEGIN_OPTION
from timetable_platform.store.intake_writer import Duplicate, IntakeWriter, PendingUpload
from timetable_platform.store.models import Upload
from timetable_platform.store.queue import DatabaseQueue, upload_message

if TYPE_CHECKING:
    from timetable_platform.store.factory import Store

log = logging.getLogger(__name__)
_WRITER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Submission:
    upload: Upload
    created: bool  # False: the same bytes in the same mode were already submitted by this tenant


def submit_document(
    store: Store,
    *,
    content: bytes,
    filename: str,
    media_type: str,
    tenant: str,
    mode: str,
    label: str | None = None,
    callback_url: str | None = None,
    force: bool = False,
    audit_entry: AuditEntry | None = None,
    sha256: str | None = None,
    group_commit: bool = False,
) -> Submission:
    """Store the bytes, create the ``queued`` upload row, enqueue ``{"upload_id", "tenant"}``.

    Same tenant + same sha256 + same mode returns the existing upload unless ``force``. A lookup answers
    the common case (before the blob on the per-request path, in the writer's batch with group commit);
    concurrent identical submissions are settled by the database's unique ``(tenant, content_key)`` index:
    the losers undo their blob and return the winner's upload.
    ``audit_entry`` is written with the row (one transaction): no upload without its audit event.
    ``sha256`` is the content's hex digest when the caller already computed it.
    ``group_commit`` hands the rows to the process's ``IntakeWriter`` (store/intake_writer.py), which
    commits concurrent submissions together: the API's path, where many requests arrive at once.

    With the database queue in the same database (the default) row, message and audit event are ONE
    transaction, so they exist together or not at all. With another queue (SQS) the row commits first
    and a failed send deletes it again (``retention.reconcile_orphans`` re-sends for a process that
    died in between).
    """
    upload_key(tenant, "x")  # validates the tenant as a key segment before anything is written
    sha256 = sha256 or hashlib.sha256(content).hexdigest()
    row = repository.upload_row(
        tenant=tenant, filename=filename, media_type=media_type, size_bytes=len(content), sha256=sha256,
        mode=mode, label=label, callback_url=callback_url, claim_content=not force,
    )  # fmt: skip
    # Group commit checks for a duplicate in the writer's batch (one SELECT per batch, after the blob is
    # written: a repeated document costs a blob written and removed, every new one a SELECT less).
    if not force and not group_commit:
        existing = _find_duplicate(store, tenant=tenant, sha256=sha256, mode=mode)
        if existing is not None:
            return Submission(existing, created=False)

    upload_id = row["id"]
    key = upload_key(tenant, upload_id)
    queue = store.queue
    in_one_transaction = isinstance(queue, DatabaseQueue) and queue.uses(store.engine)
    try:
        if group_commit:
            # Two fsyncs make the blob survive a power cut before any row names it, and neither can go:
            # 1. the bytes (in put_deferring_directories, before the rename: a name never points at
            #    bytes not on disk), here, in parallel with other requests; 2. the tenant's directory,
            #    which holds the renamed name (and the parent of any directory made for it). A rename or
            #    mkdir is on disk only once its directory is (POSIX). Some filesystems happen to order them
            #    (ext4 with a journal commits them with the bytes), but the store may sit on any, and this
            #    machine's ext4 runs without a journal. 2 is shared by the batch: the writer runs it once
            #    per batch, before its commit.
            directories = store.blobs.put_deferring_directories(key, content, content_type=media_type)
            message = upload_message(upload_id, tenant) if in_one_transaction else None
            written = intake_writer(store).write(PendingUpload(row, audit_entry, message, directories))
            if isinstance(written, Duplicate):
                _undo_blob(store, key)
                existing = _load(store, written.upload_id)
                if existing is not None:
                    return Submission(existing, created=False)
                # erased since the batch saw it: this submission is new after all
                return submit_document(
                    store, content=content, filename=filename, media_type=media_type, tenant=tenant,
                    mode=mode, label=label, callback_url=callback_url, force=force, audit_entry=audit_entry,
                    sha256=sha256, group_commit=group_commit,
                )  # fmt: skip
            upload = written
        else:
            store.blobs.put(key, content, content_type=media_type)  # durable (fsync'd) before any row names it
            with store.engine.begin() as connection:
                upload = repository.insert_upload(connection, row)
                if audit_entry is not None:
                    audit.insert_event(connection, audit_entry, upload_id)
                if in_one_transaction:
                    queue.send_within(connection, upload_message(upload_id, tenant))  # type: ignore[attr-defined]
    except IntegrityError:
        _undo_blob(store, key)
        winner = _claim_holder(store, tenant, row["content_key"])
        if winner is None:
            raise
        return Submission(winner, created=False)
    except BaseException:
        _undo_blob(store, key)
        raise
    if in_one_transaction:
        return Submission(upload, created=True)
    try:
        queue.send(upload_message(upload_id, tenant))
    except BaseException:
        log.warning("enqueue failed for upload %s; removing its row and blob", upload_id)
        with contextlib.suppress(Exception), store.engine.begin() as connection:
            connection.execute(delete(Upload).where(Upload.id == upload_id))
            if audit_entry is not None:
                audit.delete_events(connection, upload_id=upload_id, action=audit_entry.action)
        _undo_blob(store, key)
        raise
    return Submission(upload, created=True)


def intake_writer(store: Store) -> IntakeWriter:
    """The store's group-commit writer, made on first use (one thread per process, see intake_writer.py)."""
    writer = store.intake_writer
    if writer is None:
        with _WRITER_LOCK:
            writer = store.intake_writer
            if writer is None:
                queue = store.queue
                in_database = isinstance(queue, DatabaseQueue) and queue.uses(store.engine)
                writer = IntakeWriter(store.engine, queue if in_database else None)  # type: ignore[arg-type]
                store.intake_writer = writer
    return writer


def _find_duplicate(store: Store, *, tenant: str, sha256: str, mode: str) -> Upload | None:
    """The tenant's newest upload of these bytes in this mode. A read: on SQLite it begins DEFERRED,
    so it neither takes nor waits for the write lock; the common miss costs one indexed SELECT."""
    with store.engine.connect() as connection:
        connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        upload_id = repository.find_upload_id_by_content(connection, tenant=tenant, sha256=sha256, mode=mode)
    return _load(store, upload_id) if upload_id is not None else None


def _load(store: Store, upload_id: str) -> Upload | None:
    with store.read_session_factory() as session:  # type: ignore[misc]
        return session.get(Upload, upload_id)


def _claim_holder(store: Store, tenant: str, key: str | None) -> Upload | None:
    """The upload whose ``content_key`` claim beat this submission; None for any other conflict."""
    if key is None:
        return None
    with store.engine.connect() as connection:
        upload_id = repository.find_upload_id_by_content_key(connection, tenant=tenant, key=key)
    return _load(store, upload_id) if upload_id is not None else None


def _undo_blob(store: Store, key: str) -> None:
    try:
        store.blobs.delete(key)
    except Exception as exc:  # best effort (OSError, boto errors): logged, the original error matters more
        log.error("could not remove blob %s after a failed submission: %s", key, exc)
