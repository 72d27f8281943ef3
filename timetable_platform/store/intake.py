"""Registering a document: blob, then row + message (+ audit event), so nothing is ever orphaned.

A failure part-way undoes what was written before it and re-raises. The API, the CLI and the
historical sensor all enqueue through here (or in the same order), with the same message body.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from timetable_platform.store import audit, repository
from timetable_platform.store.audit import AuditEntry
from timetable_platform.store.blobs import upload_key
from timetable_platform.store.db import SQLITE_BEGIN_OPTION
from timetable_platform.store.intake_writer import Duplicate, IntakeWriter, PendingUpload, Wake
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
    if group_commit:
        return begin_submission(
            store, content=content, filename=filename, media_type=media_type, tenant=tenant, mode=mode,
            label=label, callback_url=callback_url, force=force, audit_entry=audit_entry, sha256=sha256,
        ).finish()  # fmt: skip
    row = _row(content, filename, media_type, tenant, mode, label, callback_url, force, sha256)
    if not force:
        existing = _find_duplicate(store, tenant=tenant, sha256=row["sha256"], mode=mode)
        if existing is not None:
            return Submission(existing, created=False)

    upload_id = row["id"]
    key = upload_key(tenant, upload_id)
    queue = store.queue
    in_one_transaction = _in_one_transaction(store)
    try:
        store.blobs.put(key, content, content_type=media_type)  # durable (fsync'd) before any row names it
        with store.engine.begin() as connection:
            upload = repository.insert_upload(connection, row)
            if audit_entry is not None:
                audit.insert_event(connection, audit_entry, upload_id)
            if in_one_transaction:
                queue.send_within(connection, upload_message(upload_id, tenant))  # type: ignore[attr-defined]
    except IntegrityError as exc:
        return _lost_claim(store, key, row, exc)
    except BaseException:
        _undo_blob(store, key)
        raise
    if not in_one_transaction:
        _send_after_commit(store, row, audit_entry)
    return Submission(upload, created=True)


def begin_submission(
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
    on_settled: Callable[[GroupSubmission], None] | None = None,
    schedule: Callable[[Callable[[], None]], object] | None = None,
) -> GroupSubmission:
    """``submit_document`` with group commit, up to handing the rows to the intake writer: the blob is
    durable and the writer has the submission when this returns, without waiting for its batch.
    ``GroupSubmission.finish`` waits and settles it (what ``submit_document`` answers). With ``schedule``
    (an event loop's ``call_soon_threadsafe``), ``schedule`` is given ``on_settled`` once the writer has
    settled the batch, with the other members of that batch sharing the same ``schedule`` (``Wake``):
    an event loop can await the submission without a thread waiting for it."""
    row = _row(content, filename, media_type, tenant, mode, label, callback_url, force, sha256)
    upload_id = row["id"]
    key = upload_key(tenant, upload_id)
    in_one_transaction = _in_one_transaction(store)
    message = upload_message(upload_id, tenant) if in_one_transaction else None
    try:
        # Two fsyncs make the blob survive a power cut before any row names it, and neither can go:
        # 1. the bytes (in put_deferring_directories, before the rename: a name never points at
        #    bytes not on disk), here, in parallel with other requests; 2. the tenant's directory,
        #    which holds the renamed name (and the parent of any directory made for it). A rename or
        #    mkdir is on disk only once its directory is (POSIX). Some filesystems happen to order them
        #    (ext4 with a journal commits them with the bytes), but the store may sit on any, and this
        #    machine's ext4 runs without a journal. 2 is shared by the batch: the writer runs it once
        #    per batch, before its commit.
        directories = store.blobs.put_deferring_directories(key, content, content_type=media_type)
        submission = GroupSubmission(
            store, PendingUpload(row, audit_entry, message, directories), key, in_one_transaction,
            retry=functools.partial(
                submit_document, store, content=content, filename=filename, media_type=media_type, tenant=tenant,
                mode=mode, label=label, callback_url=callback_url, force=force, audit_entry=audit_entry,
                sha256=row["sha256"], group_commit=True,
            ),
        )  # fmt: skip
        if schedule is not None and on_settled is not None:
            submission.pending.wake = Wake(schedule, functools.partial(on_settled, submission))
        intake_writer(store).submit(submission.pending)
    except BaseException:
        _undo_blob(store, key)
        raise
    return submission


@dataclass
class GroupSubmission:
    """A submission whose blob is durable and whose rows are with the intake writer (``begin_submission``)."""

    store: Store
    pending: PendingUpload
    key: str
    in_one_transaction: bool
    retry: Callable[[], Submission]  # submits the same document again, from the start

    @property
    def upload_id(self) -> str:
        return str(self.pending.row["id"])

    def committed_as_new(self) -> bool:
        """Settled, and nothing is left to do: the row, its audit event and its queue message are committed
        (with a queue in another service there is still the message to send: ``finish``)."""
        result = self.pending.result
        return self.in_one_transaction and result.done() and result.exception() is None and result.result() is True

    def finish(self) -> Submission:
        """Wait for the writer, then settle: a repeat of an existing upload removes its blob and answers that
        upload; a lost content claim answers the winner; with another queue the message is sent now."""
        store, row = self.store, self.pending.row
        try:
            written = self.pending.result.result()
            if isinstance(written, Duplicate):
                _undo_blob(store, self.key)
                existing = _load(store, written.upload_id)
                if existing is not None:
                    return Submission(existing, created=False)
                return self.retry()  # erased since the batch saw it: this submission is new after all
        except IntegrityError as exc:
            return _lost_claim(store, self.key, row, exc)
        except BaseException:
            _undo_blob(store, self.key)
            raise
        if not self.in_one_transaction:
            _send_after_commit(store, row, self.pending.audit_entry)
        return Submission(Upload(**row), created=True)


def _row(
    content: bytes, filename: str, media_type: str, tenant: str, mode: str, label: str | None,
    callback_url: str | None, force: bool, sha256: str | None,
) -> dict[str, Any]:  # fmt: skip
    upload_key(tenant, "x")  # validates the tenant as a key segment before anything is written
    return repository.upload_row(
        tenant=tenant, filename=filename, media_type=media_type, size_bytes=len(content),
        sha256=sha256 or hashlib.sha256(content).hexdigest(), mode=mode, label=label, callback_url=callback_url,
        claim_content=not force,
    )  # fmt: skip


def _in_one_transaction(store: Store) -> bool:
    """The database queue in the store's own database: row, message and audit event in one transaction."""
    queue = store.queue
    return isinstance(queue, DatabaseQueue) and queue.uses(store.engine)


def _lost_claim(store: Store, key: str, row: dict[str, Any], error: IntegrityError) -> Submission:
    """A concurrent identical submission holds the content claim: this one's blob goes, the winner answers.
    Any other conflict raises ``error``."""
    _undo_blob(store, key)
    winner = _claim_holder(store, row["tenant"], row["content_key"])
    if winner is None:
        raise error
    return Submission(winner, created=False)


def _send_after_commit(store: Store, row: dict[str, Any], audit_entry: AuditEntry | None) -> None:
    """Another queue (SQS): the message goes after the commit; a failed send takes the row and blob back."""
    upload_id, tenant = row["id"], row["tenant"]
    try:
        store.queue.send(upload_message(upload_id, tenant))
    except BaseException:
        log.warning("enqueue failed for upload %s; removing its row and blob", upload_id)
        with contextlib.suppress(Exception), store.engine.begin() as connection:
            connection.execute(delete(Upload).where(Upload.id == upload_id))
            if audit_entry is not None:
                audit.delete_events(connection, upload_id=upload_id, action=audit_entry.action)
        _undo_blob(store, upload_key(tenant, upload_id))
        raise


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
