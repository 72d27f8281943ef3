"""Registering a document: blob, then row, then message, so nothing is ever orphaned.

A failure part-way undoes what was written before it and re-raises. The API, the CLI and the
historical sensor all enqueue through here (or in the same order), with the same message body.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from timetable_platform.store import repository
from timetable_platform.store.blobs import upload_key
from timetable_platform.store.models import Upload, new_id
from timetable_platform.store.queue import upload_message

if TYPE_CHECKING:
    from timetable_platform.store.factory import Store

log = logging.getLogger(__name__)


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
) -> Submission:
    """Store the bytes, create the ``queued`` upload row, enqueue ``{"upload_id", "tenant"}``.

    Same tenant + same sha256 + same mode returns the existing upload unless ``force``.
    """
    upload_key(tenant, "x")  # validates the tenant as a key segment before anything is written
    sha256 = hashlib.sha256(content).hexdigest()
    if not force:
        with store.session_factory() as session:
            existing = repository.find_upload_by_content(session, tenant=tenant, sha256=sha256, mode=mode)
        if existing is not None:
            return Submission(existing, created=False)

    upload_id = new_id()
    key = upload_key(tenant, upload_id)
    store.blobs.put(key, content, content_type=media_type)
    try:
        with store.session_factory.begin() as session:
            upload = repository.create_upload(
                session,
                upload_id=upload_id,
                tenant=tenant,
                filename=filename,
                media_type=media_type,
                size_bytes=len(content),
                sha256=sha256,
                mode=mode,
                label=label,
                callback_url=callback_url,
            )
    except BaseException:
        _undo_blob(store, key)
        raise
    try:
        store.queue.send(upload_message(upload_id, tenant))
    except BaseException:
        log.warning("enqueue failed for upload %s; removing its row and blob", upload_id)
        with contextlib.suppress(Exception), store.session_factory.begin() as session:
            repository.delete_upload(session, upload_id)
        _undo_blob(store, key)
        raise
    return Submission(upload, created=True)


def _undo_blob(store: Store, key: str) -> None:
    try:
        store.blobs.delete(key)
    except Exception as exc:  # best effort (OSError, boto errors): logged, the original error matters more
        log.error("could not remove blob %s after a failed submission: %s", key, exc)
