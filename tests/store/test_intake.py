"""The submit path's guarantees: row, queue message and audit event together or not at all; durable blobs."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from timetable_platform.store import audit
from timetable_platform.store.api_models import AuditEvent
from timetable_platform.store.audit import AuditEntry
from timetable_platform.store.blobs import LocalBlobStore, upload_key
from timetable_platform.store.db import make_engine, make_read_session_factory, make_session_factory
from timetable_platform.store.factory import Store
from timetable_platform.store.intake import submit_document
from timetable_platform.store.models import QueueMessage, Upload, UploadStatus
from timetable_platform.store.queue import DatabaseQueue

PDF = b"%PDF-1.4\n% a timetable\n%%EOF\n"


def _store(url: str, blob_dir: Path, queue_url: str | None = None) -> Store:
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    queue_factory = make_session_factory(make_engine(queue_url)) if queue_url else session_factory
    return Store(
        engine=engine,
        session_factory=session_factory,
        blobs=LocalBlobStore(blob_dir),
        queue=DatabaseQueue(queue_factory),
        read_session_factory=make_read_session_factory(engine),
    )


@pytest.fixture
def store(migrated_db_url: str, tmp_path: Path) -> Iterator[Store]:
    store = _store(migrated_db_url, tmp_path / "blobs")
    try:
        yield store
    finally:
        store.dispose()


def _submit(store: Store, content: bytes = PDF, **kwargs: object) -> object:
    return submit_document(
        store,
        content=content,
        filename="week.pdf",
        media_type="application/pdf",
        tenant="school-a",
        mode="hybrid",
        audit_entry=AuditEntry(tenant="school-a", action="upload.created", api_key_id=7, request_id="r1"),
        **kwargs,  # type: ignore[arg-type]
    )


def _counts(store: Store) -> tuple[int, int, int]:
    with store.session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Upload)) or 0,
            session.scalar(select(func.count()).select_from(QueueMessage)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_submit_writes_row_message_and_audit_event(store: Store) -> None:
    submission = _submit(store)
    upload = submission.upload  # type: ignore[attr-defined]
    assert submission.created and upload.status == UploadStatus.QUEUED  # type: ignore[attr-defined]
    assert store.blobs.get(upload_key("school-a", upload.id)) == PDF
    [message] = store.queue.receive(10)
    assert message.body == {"upload_id": upload.id, "tenant": "school-a"}
    with store.session_factory() as session:
        stored = session.get(Upload, upload.id)
        assert stored is not None and stored.sha256 == upload.sha256 and stored.size_bytes == len(PDF)
        [event] = audit.events(session, upload_id=upload.id)
    assert (event.tenant, event.action, event.api_key_id, event.request_id) == (
        "school-a",
        "upload.created",
        7,
        "r1",
    )
    again = _submit(store)  # same tenant, bytes and mode: the existing upload, nothing new written
    assert not again.created and again.upload.id == upload.id  # type: ignore[attr-defined]
    assert _counts(store) == (1, 1, 1)


@pytest.mark.parametrize("failing", ["audit", "queue"])
def test_a_failure_inside_the_transaction_leaves_nothing(
    store: Store, failing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("down")

    if failing == "audit":
        monkeypatch.setattr(audit, "insert_event", broken)
    else:  # the row and audit event were already inserted in the transaction when the message fails
        monkeypatch.setattr(store.queue, "send_within", broken)
    with pytest.raises(ConnectionError):
        _submit(store)
    assert _counts(store) == (0, 0, 0)
    assert list(store.blobs.list("uploads/")) == []


def test_a_queue_in_another_database_is_sent_after_commit_and_undone_on_failure(
    migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQS-like path: the queue cannot share the transaction, so a failed send deletes row and event."""
    store = _store(migrated_db_url, tmp_path / "blobs", queue_url=migrated_db_url)
    try:
        assert not store.queue.uses(store.engine)  # type: ignore[attr-defined]
        monkeypatch.setattr(
            store.queue, "send_within", lambda *_a: pytest.fail("must not enqueue in the row's transaction")
        )
        first = _submit(store).upload  # type: ignore[attr-defined]
        assert [m.body for m in store.queue.receive(10)] == [{"upload_id": first.id, "tenant": "school-a"}]

        def broken_send(_body: object) -> str:
            raise ConnectionError("queue down")

        monkeypatch.setattr(store.queue, "send", broken_send)
        with pytest.raises(ConnectionError):
            _submit(store, content=PDF + b"%2\n")
        assert _counts(store) == (1, 1, 1)  # only the first upload's row, message and event
        assert list(store.blobs.list("uploads/")) == [upload_key("school-a", first.id)]
    finally:
        store.queue.session_factory.kw["bind"].dispose()  # type: ignore[attr-defined]
        store.dispose()


def test_local_blob_put_fsyncs_the_data_then_every_new_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    blobs.ping()
    root = blobs.root
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    blobs.put("uploads/t1/u1/original", b"one")
    # the data (still under its temporary name), then the directory of the rename, then the parent
    # of each directory made for it: uploads/t1/u1 in uploads/t1, uploads/t1 in uploads, uploads in the root
    assert Path(synced[0]).parent == root / "uploads/t1/u1" and Path(synced[0]).name.startswith(".tmp-")
    assert synced[1:] == [str(root / "uploads/t1/u1"), str(root), str(root / "uploads"), str(root / "uploads/t1")]
    synced.clear()
    blobs.put("uploads/t1/u2/original", b"two")
    assert synced[1:] == [str(root / "uploads/t1/u2"), str(root / "uploads/t1")]  # only the new u2 entry
    synced.clear()
    blobs.put("uploads/t1/u2/original", b"again")  # overwrite: nothing new but the rename
    assert synced[1:] == [str(root / "uploads/t1/u2")]
    assert blobs.get("uploads/t1/u2/original") == b"again"
    assert sorted(blobs.list("uploads/")) == ["uploads/t1/u1/original", "uploads/t1/u2/original"]


def test_concurrent_identical_submissions_make_one_upload(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten identical submissions at once: every one looks for a duplicate before any inserts (the
    barrier forces the race), and still only one upload, one message and one blob result."""
    from timetable_platform.store import repository

    submitters = 10
    barrier = threading.Barrier(submitters, timeout=30)
    lookup = repository.find_upload_id_by_content

    def racing_lookup(*args: object, **kwargs: object) -> str | None:
        found = lookup(*args, **kwargs)  # type: ignore[arg-type]
        barrier.wait()
        return found

    monkeypatch.setattr(repository, "find_upload_id_by_content", racing_lookup)
    with ThreadPoolExecutor(submitters) as pool:
        submissions = list(pool.map(lambda _: _submit(store), range(submitters)))

    created = [s for s in submissions if s.created]  # type: ignore[attr-defined]
    assert len(created) == 1
    assert {s.upload.id for s in submissions} == {created[0].upload.id}  # type: ignore[attr-defined]
    assert _counts(store) == (1, 1, 1)
    assert list(store.blobs.list("uploads/")) == [upload_key("school-a", created[0].upload.id)]  # type: ignore[attr-defined]


def test_forced_resubmissions_do_not_claim_the_content(store: Store) -> None:
    first = _submit(store)
    forced = [_submit(store, force=True) for _ in range(2)]
    assert all(s.created for s in forced)  # type: ignore[attr-defined]
    assert _submit(store).upload.id == forced[-1].upload.id  # type: ignore[attr-defined]  # the newest
    assert first.created  # type: ignore[attr-defined]
