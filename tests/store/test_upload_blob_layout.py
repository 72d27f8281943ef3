"""An upload's bytes live under one flat name (``uploads/{tenant}/{id}``); uploads stored before that, in a
directory of their own (``uploads/{tenant}/{id}/original``), stay readable, erasable and sweepable."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from timetable_platform.store import repository
from timetable_platform.store.blobs import (
    LocalBlobStore,
    legacy_upload_key,
    upload_bytes,
    upload_id_of_key,
    upload_key,
)
from timetable_platform.store.db import make_engine, make_read_session_factory, make_session_factory
from timetable_platform.store.errors import BlobNotFound
from timetable_platform.store.factory import Store
from timetable_platform.store.queue import DatabaseQueue
from timetable_platform.store.retention import erase_upload, sweep_orphaned_blobs

PDF = b"%PDF-1.4\n% a timetable\n%%EOF\n"


@pytest.fixture
def store(migrated_db_url: str, tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(migrated_db_url)
    session_factory = make_session_factory(engine)
    store = Store(
        engine=engine,
        session_factory=session_factory,
        blobs=LocalBlobStore(tmp_path / "blobs"),
        queue=DatabaseQueue(session_factory),
        read_session_factory=make_read_session_factory(engine),
    )
    try:
        yield store
    finally:
        store.dispose()


def _row(store: Store, content: bytes) -> str:
    with store.session_factory.begin() as session:
        upload = repository.create_upload(
            session, tenant="school-a", filename="week.pdf", media_type="application/pdf",
            size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest(), mode="hybrid",
        )  # fmt: skip
        return upload.id


def test_upload_bytes_reads_either_layout(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    blobs.put(upload_key("t", "new"), b"flat")
    blobs.put(legacy_upload_key("t", "old"), b"directory")
    assert upload_bytes(blobs, "t", "new") == b"flat"
    assert upload_bytes(blobs, "t", "old") == b"directory"
    with pytest.raises(BlobNotFound):
        upload_bytes(blobs, "t", "missing")
    assert [upload_id_of_key(k) for k in sorted(blobs.list("uploads/"))] == ["new", "old"]
    assert upload_id_of_key("results/new/timetable.json") is None
    assert upload_id_of_key("uploads/t") is None


def test_erasure_removes_the_document_in_either_layout(store: Store) -> None:
    flat, legacy = _row(store, PDF), _row(store, PDF + b"2")
    store.blobs.put(upload_key("school-a", flat), PDF)
    store.blobs.put(legacy_upload_key("school-a", legacy), PDF + b"2")
    assert erase_upload(store, flat) and erase_upload(store, legacy)
    assert list(store.blobs.list("uploads/")) == []


def test_sweep_removes_orphans_in_either_layout_and_keeps_live_uploads(store: Store) -> None:
    live_flat, live_legacy = _row(store, PDF), _row(store, PDF + b"2")
    keep = [upload_key("school-a", live_flat), legacy_upload_key("school-a", live_legacy)]
    orphans = [upload_key("school-a", "f" * 32), legacy_upload_key("school-a", "e" * 32)]
    for key in keep + orphans:
        store.blobs.put(key, b"%PDF")
    assert sweep_orphaned_blobs(store) == 0  # too recent: may be a submission whose row is on its way
    assert sweep_orphaned_blobs(store, now=datetime.now(UTC) + timedelta(hours=2)) == 2
    assert sorted(store.blobs.list("uploads/")) == sorted(keep)


def test_a_put_survives_its_directory_being_pruned_under_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleting a tenant's last document removes the then empty directory; a put into it at that moment
    makes the directory again (and reports it for an fsync) instead of failing the submission."""
    blobs = LocalBlobStore(tmp_path)
    blobs.put(upload_key("t", "first"), b"1")
    real_mkstemp = tempfile.mkstemp
    pruned: list[bool] = []

    def mkstemp_after_a_delete(*args: object, **kwargs: object) -> tuple[int, str]:
        if not pruned:
            pruned.append(True)
            blobs.delete(upload_key("t", "first"))  # the directory is empty now: pruned with uploads/
        return real_mkstemp(*args, **kwargs)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp_after_a_delete)
    directories = blobs.put_deferring_directories(upload_key("t", "second"), b"2")
    assert blobs.get(upload_key("t", "second")) == b"2"
    root = str(blobs.root)
    assert directories == [os.path.join(root, "uploads/t"), root, os.path.join(root, "uploads")]
