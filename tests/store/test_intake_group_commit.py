"""Group commit of submissions (store/intake_writer.py): batches are one transaction, a bad member fails
alone, a crash mid-batch leaves nothing half-written, and names are durable before rows. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from timetable_platform.store import repository
from timetable_platform.store.api_models import AuditEvent
from timetable_platform.store.audit import AuditEntry
from timetable_platform.store.blobs import LocalBlobStore, upload_key
from timetable_platform.store.db import make_engine, make_read_session_factory, make_session_factory
from timetable_platform.store.factory import Store
from timetable_platform.store.intake import Submission, intake_writer, submit_document
from timetable_platform.store.intake_writer import IntakeWriter, PendingUpload, _SqliteBatch
from timetable_platform.store.models import QueueMessage, Upload
from timetable_platform.store.queue import DatabaseQueue, upload_message

ROOT = Path(__file__).resolve().parents[2]


def _store(url: str, blob_dir: Path) -> Store:
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    return Store(
        engine=engine,
        session_factory=session_factory,
        blobs=LocalBlobStore(blob_dir),
        queue=DatabaseQueue(session_factory),
        read_session_factory=make_read_session_factory(engine),
    )


@pytest.fixture
def store(migrated_db_url: str, tmp_path: Path) -> Iterator[Store]:
    store = _store(migrated_db_url, tmp_path / "blobs")
    try:
        yield store
    finally:
        store.dispose()


def _submit(store: Store, content: bytes) -> Submission:
    return submit_document(
        store,
        content=content,
        filename="week.pdf",
        media_type="application/pdf",
        tenant="school-a",
        mode="hybrid",
        audit_entry=AuditEntry(tenant="school-a", action="upload.created", api_key_id=7, request_id="r1"),
        group_commit=True,
    )


def _counts(url: str) -> tuple[int, int, int]:
    """Rows, messages and events as a fresh connection sees them (what is committed)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(  # type: ignore[return-value]
                connection.scalar(select(func.count()).select_from(table)) or 0
                for table in (Upload, QueueMessage, AuditEvent)
            )
    finally:
        engine.dispose()


def _hold_first_batch(writer: IntakeWriter, total: int) -> None:
    """Make the writer's first batch wait until ``total`` submissions are in it or queued behind it, so
    the next batch holds all the others (a batch takes whatever is queued when the writer gets to it)."""
    write_batch = writer._write_batch
    first = threading.Event()

    def held(batch: list[PendingUpload]) -> None:
        if not first.is_set():
            first.set()
            deadline = time.monotonic() + 30
            while len(batch) + writer._queue.qsize() < total and time.monotonic() < deadline:
                time.sleep(0.005)
        write_batch(batch)

    writer._write_batch = held  # type: ignore[method-assign]


def _pdf(n: int) -> bytes:
    return f"%PDF-1.4\n% timetable {n}\n%%EOF\n".encode()


def test_concurrent_submissions_commit_together_in_one_batch(store: Store, migrated_db_url: str) -> None:
    writer = intake_writer(store)
    _hold_first_batch(writer, total=8)
    with ThreadPoolExecutor(8) as pool:
        submissions = list(pool.map(lambda n: _submit(store, _pdf(n)), range(8)))
    assert all(s.created for s in submissions)
    assert (writer.batches, writer.members) == (2, 8)  # the first batch, then all that waited behind it
    assert _counts(migrated_db_url) == (8, 8, 8)
    for submission in submissions:
        assert store.blobs.exists(upload_key("school-a", submission.upload.id))
    assert sorted(m.body["upload_id"] for m in store.queue.receive(20)) == sorted(  # type: ignore[index]
        s.upload.id for s in submissions
    )


def test_a_failed_member_gets_its_own_error_and_the_others_succeed(store: Store, migrated_db_url: str) -> None:
    """A batch whose transaction fails is written again member by member: the bad one (an id that
    already exists) raises its IntegrityError, the others are committed."""
    existing = _submit(store, _pdf(0)).upload
    writer = intake_writer(store)
    _hold_first_batch(writer, total=4)

    def pending(upload_id: str | None, n: int) -> PendingUpload:
        row = repository.upload_row(tenant="school-a", filename="w.pdf", media_type="application/pdf",
                                    size_bytes=1, sha256=f"{n:064x}", mode="hybrid", upload_id=upload_id)  # fmt: skip
        entry = AuditEntry(tenant="school-a", action="upload.created", api_key_id=None, request_id=f"r{n}")
        return PendingUpload(row, entry, upload_message(row["id"], "school-a"), [])

    members = [pending(None, 1), pending(None, 2), pending(existing.id, 3), pending(None, 4)]
    results: dict[int, Any] = {}

    def write(index: int) -> None:
        try:
            results[index] = writer.write(members[index])
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # queue in order: the bad member 2 shares a batch with 1 or 3
    for thread in threads:
        thread.join(30)
    assert isinstance(results[2], IntegrityError)
    assert [results[i].id for i in (0, 1, 3)] == [members[i].row["id"] for i in (0, 1, 3)]
    assert _counts(migrated_db_url) == (4, 4, 4)  # the first upload and members 0, 1, 3; nothing of 2
    with store.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.request_id == "r3")) == 0


def test_a_batch_statement_that_fails_in_its_last_part_leaves_nothing(
    store: Store, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL writes a batch as ONE statement (uploads, then events, then messages): a member whose queue
    message cannot be inserted (its id is taken) fails the whole statement, so none of the batch's rows
    stay; the retry member by member commits the others, and the bad member leaves no upload or event."""
    if not migrated_db_url.startswith("postgresql"):
        pytest.skip("the one-statement batch is PostgreSQL's")
    taken = store.queue.send({"upload_id": "someone-else", "tenant": "school-a"})
    rows = [
        repository.upload_row(tenant="school-a", filename="w.pdf", media_type="application/pdf", size_bytes=1,
                              sha256=f"{n:064x}", mode="hybrid", claim_content=True)
        for n in range(4)
    ]  # fmt: skip
    bad_id = rows[2]["id"]
    real_values = store.queue.message_values  # type: ignore[attr-defined]
    monkeypatch.setattr(
        store.queue, "message_values",
        lambda bodies: [{**v, "id": taken} if v["upload_id"] == bad_id else v for v in real_values(bodies)],
    )  # fmt: skip
    pending = [
        PendingUpload(row, AuditEntry(tenant="school-a", action="upload.created", request_id=f"r{i}"),
                      upload_message(row["id"], "school-a"), [])
        for i, row in enumerate(rows)
    ]  # fmt: skip
    writer = intake_writer(store)
    writer.write(pending[0])  # alone: the writer's first batch
    _hold_first_batch(writer, total=3)
    results: dict[int, Any] = {}

    def write(index: int) -> None:
        try:
            results[index] = writer.write(pending[index])
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=write, args=(i,)) for i in (1, 2, 3)]
    for thread in threads:
        thread.start()
        time.sleep(0.01)
    for thread in threads:
        thread.join(30)
    assert isinstance(results[2], IntegrityError)
    assert [results[i].id for i in (1, 3)] == [rows[i]["id"] for i in (1, 3)]
    with store.session_factory() as session:
        assert set(session.scalars(select(Upload.id))) == {rows[i]["id"] for i in (0, 1, 3)}
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.request_id == "r2")) == 0
        bodies = {m.upload_id: m.body for m in session.scalars(select(QueueMessage))}
    assert bad_id not in bodies
    assert bodies[rows[3]["id"]] == json.dumps(upload_message(rows[3]["id"], "school-a"), separators=(",", ":"))


def test_identical_submissions_in_one_batch_make_one_upload(store: Store, migrated_db_url: str) -> None:
    """Same bytes queued together: the batch fails on the content claim, the retry commits the first and
    the others get the winner's upload back (200 in the API), their blobs removed. (The patched lookup is
    the per-request path's; with group commit the check is the batch's, and these race past it too.)"""
    writer = intake_writer(store)
    _hold_first_batch(writer, total=6)
    lookup = repository.find_upload_id_by_content
    barrier = threading.Barrier(6, timeout=30)

    def racing_lookup(*args: object, **kwargs: object) -> str | None:
        found = lookup(*args, **kwargs)  # type: ignore[arg-type]
        barrier.wait()  # every submission looks before any inserts
        return found

    repository.find_upload_id_by_content = racing_lookup  # type: ignore[assignment]
    try:
        with ThreadPoolExecutor(6) as pool:
            submissions = list(pool.map(lambda _: _submit(store, _pdf(42)), range(6)))
    finally:
        repository.find_upload_id_by_content = lookup  # type: ignore[assignment]
    created = [s for s in submissions if s.created]
    assert len(created) == 1
    assert {s.upload.id for s in submissions} == {created[0].upload.id}
    assert _counts(migrated_db_url) == (1, 1, 1)
    assert list(store.blobs.list("uploads/")) == [upload_key("school-a", created[0].upload.id)]


def test_a_resubmission_is_found_by_the_batch_not_by_a_select_per_request(
    store: Store, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The duplicate rule holds with group commit, checked once per batch in the writer's transaction: the
    same bytes again get the first upload back (200 in the API), their blob removed, nothing inserted;
    forced, they make a new upload."""
    first = _submit(store, _pdf(7))

    def no_select_per_request(*args: object, **kwargs: object) -> None:
        raise AssertionError("the request looked the duplicate up itself")

    monkeypatch.setattr(repository, "find_upload_id_by_content", no_select_per_request)
    again = _submit(store, _pdf(7))
    assert not again.created and again.upload.id == first.upload.id
    assert again.upload.status.value == "queued"
    assert _counts(migrated_db_url) == (1, 1, 1)
    assert list(store.blobs.list("uploads/")) == [upload_key("school-a", first.upload.id)]
    forced = submit_document(
        store, content=_pdf(7), filename="week.pdf", media_type="application/pdf", tenant="school-a",
        mode="hybrid", force=True, group_commit=True,
    )  # fmt: skip
    assert forced.created and forced.upload.id != first.upload.id
    other_mode = submit_document(
        store, content=_pdf(7), filename="week.pdf", media_type="application/pdf", tenant="school-a",
        mode="document_ai", group_commit=True,
    )  # fmt: skip
    assert other_mode.created


def test_names_are_durable_before_the_row_is_written(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes are fsync'd by the request, the directories holding the new names (the tenant's, shared
    with other uploads, and those made for it) by the writer; all before the INSERT that names the blob."""
    events: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        events.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def recording_insert(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "INSERT INTO uploads" in statement:  # SQLite: the executemany; PostgreSQL: the batch's one statement
            events.append("insert")

    real_call = _SqliteBatch._call

    def recording_call(self: _SqliteBatch, driver: Any, statement: str, *args: Any, **kwargs: Any) -> Any:
        recording_insert(None, None, statement)  # SQLite's batch, on the driver connection
        return real_call(self, driver, statement, *args, **kwargs)

    store.blobs.ping()  # makes the root
    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(_SqliteBatch, "_call", recording_call)
    event.listen(store.engine, "before_cursor_execute", recording_insert)
    upload = _submit(store, _pdf(1)).upload
    root = store.blobs.root  # type: ignore[attr-defined]
    assert Path(events[0]).name.startswith(".tmp-")
    assert Path(events[0]).parent == root / "uploads/school-a"  # one file, no directory per upload
    assert events[1:] == [str(root / "uploads/school-a"), str(root), str(root / "uploads"), "insert"]
    assert store.blobs.get(f"uploads/school-a/{upload.id}") == _pdf(1)
    events.clear()
    _submit(store, _pdf(2))  # the tenant's directory exists: only its new entry is synced
    assert Path(events[0]).name.startswith(".tmp-")
    assert events[1:] == [str(root / "uploads/school-a"), "insert"]


def test_sqlite_batches_commit_with_a_full_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WAL + synchronous=NORMAL (the engine's default) does not fsync at commit; the writer's commits do,
    so a 202 means the row is on disk. The pooled connection goes back with NORMAL."""
    from timetable_platform.store.db import migrate

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    migrate(url)
    store = _store(url, tmp_path / "blobs")
    seen: list[int] = []
    real_write = _SqliteBatch.write

    def checking_write(self: _SqliteBatch, connection: Any, *args: Any) -> Any:
        seen.append(connection.exec_driver_sql("PRAGMA synchronous").scalar())
        return real_write(self, connection, *args)

    monkeypatch.setattr(_SqliteBatch, "write", checking_write)
    try:
        _submit(store, _pdf(1))
        with store.engine.connect() as connection:
            after = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    finally:
        store.dispose()
    assert seen == [2] and after == 1  # FULL while the batch commits, NORMAL again in the pool


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    from tests.store.test_intake_group_commit import _hold_first_batch, _pdf, _store, _submit
    from timetable_platform.store.intake import intake_writer
    from timetable_platform.store.intake_writer import _SqliteBatch

    store = _store(sys.argv[1], Path(sys.argv[2]))
    _hold_first_batch(intake_writer(store), total=4)  # the first batch holds 1 or 2, the next the rest
    real = _SqliteBatch._call
    committed = []

    def crash_in_a_batch_of_several(self, driver, sql, params, *, many=False):
        result = real(self, driver, sql, params, many=many)
        if sql.startswith("INSERT INTO audit_log"):  # rows and events of every member written, nothing committed
            if len(params) >= 2:
                sys.stdout.write(f"crash in a batch of {len(params)} after {sum(committed)}\\n")
                sys.stdout.flush()
                os._exit(3)
            committed.append(len(params))
        return result

    _SqliteBatch._call = crash_in_a_batch_of_several
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: _submit(store, _pdf(n)), range(4)))
    """
)


def test_a_crash_mid_batch_leaves_no_half_written_upload(migrated_db_url: str, tmp_path: Path) -> None:
    """The process dies inside a batch's transaction of several uploads, after their rows and events were
    inserted: the uploads committed before are complete, the batch's left nothing (their fsync'd blobs,
    named by no row, are the orphans retention removes). On PostgreSQL a batch is one statement, atomic by
    itself: test_a_batch_statement_that_fails_in_its_last_part_leaves_nothing."""
    if migrated_db_url.startswith("postgresql"):
        pytest.skip("no Python step runs inside PostgreSQL's one-statement batch to crash in")
    script = tmp_path / "crash.py"
    script.write_text(CRASH_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), migrated_db_url, str(tmp_path / "blobs"), str(ROOT)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 3, done.stderr[-2000:]
    size, committed = (int(word) for word in done.stdout.split()[5::2])
    assert size >= 2 and committed + size <= 4
    assert _counts(migrated_db_url) == (committed, committed, committed)
    engine = make_engine(migrated_db_url)
    try:
        with engine.connect() as connection:  # each committed upload has its message and event
            uploads = set(connection.scalars(select(Upload.id)))
            assert set(connection.scalars(select(QueueMessage.upload_id))) == uploads
            assert set(connection.scalars(select(AuditEvent.upload_id))) == uploads
    finally:
        engine.dispose()


def test_a_closed_writer_refuses_and_the_store_makes_a_new_one(store: Store) -> None:
    first: Callable[[], IntakeWriter] = lambda: intake_writer(store)  # noqa: E731
    writer = first()
    _submit(store, _pdf(1))
    store.dispose()
    assert store.intake_writer is None
    with pytest.raises(RuntimeError, match="closed"):
        writer.write(PendingUpload({}, None, None, []))
    assert _submit(store, _pdf(2)).created  # a new writer on first use


def test_an_event_loop_is_woken_once_per_batch_and_nothing_waits_in_a_thread(
    store: Store, migrated_db_url: str
) -> None:
    """``begin_submission`` returns once the blob is durable and the writer has the rows; the writer calls
    ``schedule`` once for its whole batch, and then each submission is settled: new ones committed as new,
    a repeat answered by ``finish`` with the existing upload (its own blob removed)."""
    from timetable_platform.store.intake import GroupSubmission, begin_submission

    first = _submit(store, _pdf(0))
    writer = intake_writer(store)
    _hold_first_batch(writer, total=4)  # the first batch waits until all four are in it or queued behind it
    scheduled: list[Callable[[], None]] = []
    settled: list[GroupSubmission] = []

    def begin(content: bytes) -> GroupSubmission:
        return begin_submission(
            store, content=content, filename="week.pdf", media_type="application/pdf", tenant="school-a",
            mode="hybrid", on_settled=settled.append, schedule=scheduled.append,
        )  # fmt: skip

    begun = [begin(_pdf(n)) for n in (1, 2, 3, 0)]  # returns without waiting for any batch
    deadline = time.monotonic() + 30
    while not all(s.pending.result.done() for s in begun) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert settled == []  # nothing ran the callbacks yet: the loop (here: the list) runs them
    for run in scheduled:
        run()
    assert 1 <= len(scheduled) <= 2  # once per batch (at most two here), not once per submission
    assert sorted(s.upload_id for s in settled) == sorted(s.upload_id for s in begun)
    assert [s.committed_as_new() for s in begun] == [True, True, True, False]
    repeat = begun[3].finish()
    assert not repeat.created and repeat.upload.id == first.upload.id
    assert not store.blobs.exists(upload_key("school-a", begun[3].upload_id))
    assert _counts(migrated_db_url) == (4, 4, 1)  # the first upload's audit event; these had none


def test_a_batch_writes_every_value_of_the_row_its_event_and_its_message(store: Store) -> None:
    """What the batch stores is what ``upload_row`` and the audit entry say (on PostgreSQL the values go
    through one JSON parameter: types, time zones and NULLs must survive it)."""
    row = repository.upload_row(tenant="school-a", filename="Wöche 7B.pdf", media_type="application/pdf",
                                size_bytes=12345678901, sha256="ab" * 32, mode="hybrid", label="7B \"A\"",
                                callback_url=None, claim_content=True)  # fmt: skip
    entry = AuditEntry(tenant="school-a", action="upload.created", api_key_id=7, request_id="r-9", detail='{"x": 1}')
    intake_writer(store).write(PendingUpload(row, entry, upload_message(row["id"], "school-a"), []))
    with store.session_factory() as session:
        upload = session.get(Upload, row["id"])
        assert upload is not None
        assert {name: getattr(upload, name) for name in row} == row
        [event_row] = session.scalars(select(AuditEvent).where(AuditEvent.upload_id == row["id"]))
        assert (event_row.tenant, event_row.action, event_row.api_key_id, event_row.request_id, event_row.detail) == (
            "school-a", "upload.created", 7, "r-9", '{"x": 1}'
        )
        [message] = session.scalars(select(QueueMessage).where(QueueMessage.upload_id == row["id"]))
        assert json.loads(message.body) == upload_message(row["id"], "school-a")
        assert message.receive_count == 0 and message.dead_lettered_at is None
        assert message.visible_at <= datetime.now(UTC)


def test_sqlite_batches_store_what_the_core_path_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's batch is written on the driver connection (``_SqliteBatch``); row, event and message hold the
    same values in the same stored form as SQLAlchemy's Core path writes them (its bind processors: times as
    fixed-width text, the status enum), and a lost content claim is SQLAlchemy's IntegrityError."""
    from sqlalchemy import text

    from timetable_platform.store import intake_writer as writer_module
    from timetable_platform.store.db import migrate

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    migrate(url)
    store = _store(url, tmp_path / "blobs")

    def member(sha: str) -> PendingUpload:
        row = repository.upload_row(tenant="school-a", filename="Wöche 7B.pdf", media_type="application/pdf",
                                    size_bytes=12345678901, sha256=sha, mode="hybrid", label="7B",
                                    callback_url="https://cb.example/x", claim_content=True)  # fmt: skip
        entry = AuditEntry(tenant="school-a", action="upload.created", api_key_id=7, request_id="r", detail="d")
        return PendingUpload(row, entry, upload_message(row["id"], "school-a"), [])

    def stored(upload_id: str) -> list[tuple[Any, ...]]:
        with store.engine.connect() as connection:
            return [
                tuple(connection.execute(text(f"SELECT * FROM {table} WHERE upload_id = :u"), {"u": upload_id}).one())
                for table in ("audit_log", "queue_messages")
            ] + [tuple(connection.execute(text("SELECT * FROM uploads WHERE id = :u"), {"u": upload_id}).one())]

    try:
        driver = member("a" * 64)
        intake_writer(store).write(driver)
        monkeypatch.setattr(writer_module, "_UPLOAD_COLUMN_SET", frozenset())  # the Core path from here
        core = member("b" * 64)
        intake_writer(store).write(core)
        for a, b in zip(stored(driver.row["id"]), stored(core.row["id"]), strict=True):
            assert len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                same_kind = type(x) is type(y) and (not isinstance(x, str) or len(x) == len(y) or x == y)
                assert same_kind or {x, y} <= {driver.row["id"], core.row["id"]} or "a" * 64 in str(x), (a, b)
        monkeypatch.undo()
        claim = member("a" * 64)  # the same bytes again, past the batch's own duplicate check
        with store.engine.connect() as connection, connection.begin(), pytest.raises(IntegrityError):
            _SqliteBatch(connection.dialect)._call(
                connection.connection.driver_connection,
                "INSERT INTO uploads (id, tenant, filename, media_type, size_bytes, sha256, mode, content_key, "
                "status, attempts, created_at, queued_at, updated_at) SELECT ?, tenant, filename, media_type, "
                "size_bytes, sha256, mode, content_key, status, attempts, created_at, queued_at, updated_at "
                "FROM uploads WHERE id = ?",
                [claim.row["id"], driver.row["id"]],
            )
    finally:
        store.dispose()
