"""Group commit for submissions: one writer thread per process turns concurrent submissions into one
transaction and one flush.

Why: with one transaction per request, concurrent submissions queue for the database's write lock
(SQLite: ``BEGIN IMMEDIATE`` waits in SQLite's busy handler, which polls with sleeps of up to 100 ms)
and each commit pays its own flush (PostgreSQL: one WAL fsync per commit). That is the API's latency
tail (see bench/README.md, "API submission throughput"). Here each request's pool thread writes and
fsyncs its blob itself (parallel fsyncs overlap; a journaling filesystem joins them into one commit), then
hands the row, audit event and queue message to the writer: ``write`` waits in the thread, ``submit`` does
not (the API's event loop is woken once per batch, see ``Wake``). The writer takes everything waiting
(nothing is delayed to fill a batch), fsyncs the directories holding the new blob names once each, and
writes the whole batch in ONE transaction:

- every member's rows commit together or not at all (a crash mid-batch leaves no half-written upload);
- a batch that fails is retried member by member, each in its own transaction, so a bad member gets
  its own error and the others still succeed;
- a caller is answered only after its commit returned, so a 202 still means bytes and row on disk. On
  SQLite the writer commits with ``synchronous=FULL`` (the WAL is fsync'd at each commit; the engine's
  default NORMAL does not), which costs one fsync per batch instead of one per upload;
- the duplicate rule (same tenant, bytes and mode: the existing upload is answered) is checked here, with
  ONE SELECT for the whole batch inside its transaction, instead of a SELECT (a pool checkout, and on
  PostgreSQL a ping and round trips) per request before the blob was written. A member found to repeat
  an existing upload gets ``Duplicate``: nothing of it is inserted, and its caller removes its blob.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, Table, text
from sqlalchemy.exc import DBAPIError

from timetable_platform.store import audit, repository
from timetable_platform.store.api_models import AuditEvent
from timetable_platform.store.audit import AuditEntry
from timetable_platform.store.blobs import fsync_directories
from timetable_platform.store.models import QueueMessage, Upload, utcnow
from timetable_platform.store.queue import DatabaseQueue

log = logging.getLogger(__name__)

MAX_BATCH = 64  # bounds one transaction's size and lock hold time
# The columns of ``repository.upload_row``: the PostgreSQL statement below names each one.
_UPLOAD_COLUMNS = ("id", "tenant", "filename", "media_type", "size_bytes", "sha256", "mode", "label", "callback_url",
                   "content_key", "status", "attempts", "created_at", "queued_at", "updated_at")  # fmt: skip
_UPLOAD_COLUMN_SET = frozenset(_UPLOAD_COLUMNS)
# The columns audit.insert_events and DatabaseQueue.send_many_within write (SQLite's batch, _SqliteBatch).
_EVENT_COLUMNS = ("at", "tenant", "api_key_id", "action", "upload_id", "request_id", "detail")
_MESSAGE_COLUMNS = ("id", "queue", "body", "upload_id", "created_at", "visible_at", "receive_count")
# PostgreSQL: the whole batch in ONE statement, run in autocommit (a statement is its own transaction, all or
# nothing): the duplicate check, the new rows, their audit events and queue messages. One round trip (after
# the pool's ping) where BEGIN, SELECT, three executemany and COMMIT took six, each followed by a wait for the
# GIL in a worker whose event loop and submit threads keep it busy (bench/README.md, API section).
# One JSON object per member; no action or message id: no event or message for that member. Every part
# sees the same snapshot, so ``existing`` never sees this statement's own rows; the newest upload of the
# bytes is taken with an aggregate, not ORDER BY ... LIMIT 1, so the planner keeps to the content index.
_BATCH_POSTGRESQL = text("""
WITH batch AS (
    SELECT * FROM jsonb_to_recordset(CAST(:batch AS jsonb)) AS b(
        id varchar, tenant varchar, filename text, media_type varchar, size_bytes bigint, sha256 varchar,
        mode varchar, label text, callback_url text, content_key varchar, status varchar, attempts integer,
        created_at timestamptz, queued_at timestamptz, updated_at timestamptz, action varchar,
        event_tenant varchar, api_key_id integer, request_id varchar, detail text, message_id varchar,
        message_body text, message_upload_id varchar)
), existing AS (
    SELECT b.id AS member,
           (SELECT (array_agg(u.id ORDER BY u.created_at DESC, u.id DESC))[1] FROM uploads u
             WHERE u.tenant = b.tenant AND u.sha256 = b.sha256 AND u.mode = b.mode) AS upload_id
    FROM batch b WHERE b.content_key IS NOT NULL
), new_uploads AS (
    INSERT INTO uploads (id, tenant, filename, media_type, size_bytes, sha256, mode, label, callback_url,
                         content_key, status, attempts, created_at, queued_at, updated_at)
    SELECT id, tenant, filename, media_type, size_bytes, sha256, mode, label, callback_url, content_key, status,
           attempts, created_at, queued_at, updated_at
    FROM batch b
    WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.member = b.id AND e.upload_id IS NOT NULL)
    RETURNING id
), new_events AS (
    INSERT INTO audit_log (at, tenant, api_key_id, action, upload_id, request_id, detail)
    SELECT CAST(:at AS timestamptz), b.event_tenant, b.api_key_id, b.action, b.id, b.request_id, b.detail
    FROM batch b JOIN new_uploads n ON n.id = b.id WHERE b.action IS NOT NULL
), new_messages AS (
    INSERT INTO queue_messages (id, queue, body, upload_id, created_at, visible_at, receive_count)
    SELECT b.message_id, CAST(:queue AS varchar), b.message_body, b.message_upload_id, clock_timestamp(),
           clock_timestamp(), 0
    FROM batch b JOIN new_uploads n ON n.id = b.id WHERE b.message_id IS NOT NULL
)
SELECT member, upload_id FROM existing WHERE upload_id IS NOT NULL
""")
_STOP = object()


@dataclass(frozen=True)
class Duplicate:
    """What ``IntakeWriter.write`` answers for a member whose bytes this tenant already submitted in this
    mode: the existing upload's id (the newest one)."""

    upload_id: str


@dataclass(frozen=True)
class Wake:
    """How a waiter that is not a blocked thread (an event loop) hears that its member is settled: the writer
    calls ``schedule`` (e.g. ``loop.call_soon_threadsafe``) once per batch with one function that runs the
    ``callback`` of every member sharing that ``schedule``. One wake-up of the loop per batch, where a
    thread waiting on each member cost a wake-up (a futex and a GIL hand-over) per submission."""

    schedule: Callable[[Callable[[], None]], object]
    callback: Callable[[], None]


@dataclass
class PendingUpload:
    """What one submission still has to write once its blob's bytes are durable."""

    row: dict[str, Any]
    audit_entry: AuditEntry | None
    message: dict[str, Any] | None  # sent in the same transaction (database queue), else None
    directories: list[str]  # blob directories whose new entries need an fsync before the row names them
    result: Future[bool | Duplicate] = field(default_factory=Future)  # True: the row is committed
    wake: Wake | None = None  # called once ``result`` is set (see ``Wake``)


def _sqlite_file_lock(engine: Engine) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """Writers of one SQLite file in several processes (uvicorn workers) take turns through ``flock`` on
    a file beside it: a waiter is woken the moment the lock is released, where SQLite's own busy handler
    polls with sleeps of up to 100 ms (the per-request path's tail). Other writers (Dagster) still meet
    SQLite's lock as before. Elsewhere (PostgreSQL, in-memory SQLite) there is nothing to take."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return contextlib.nullcontext
    path = f"{database}-intake.lock"

    @contextlib.contextmanager
    def locked() -> Iterator[None]:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without the GIL
            yield
        finally:
            os.close(fd)  # closing releases the lock

    return locked


class _Insert:
    """One table's INSERT of ``columns`` as plain SQL, each value put through its column's bind processor:
    what SQLAlchemy's executemany does for each row, made once instead of per statement."""

    def __init__(self, table: Table, columns: tuple[str, ...], dialect: Dialect) -> None:
        self.sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        self.columns = columns
        self.processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]

    def values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for process, value in zip(self.processors, (row[name] for name in self.columns), strict=True)
        )


class _SqliteBatch:
    """``IntakeWriter._commit``'s transaction on SQLite, on the driver connection: the duplicate SELECT and one
    executemany per table, as SQLAlchemy's Core path writes them (same columns, same stored values through
    the same bind processors, its exception types), without its per-statement work (compiling the expanding
    IN, the execution context, result set-up): that was most of the writer's Python time per batch. In the
    caller's transaction (BEGIN IMMEDIATE, the file lock): no upload can appear between check and insert."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.uploads = _Insert(Upload.__table__, _UPLOAD_COLUMNS, dialect)  # type: ignore[arg-type]
        self.events = _Insert(AuditEvent.__table__, _EVENT_COLUMNS, dialect)  # type: ignore[arg-type]
        self.messages = _Insert(QueueMessage.__table__, _MESSAGE_COLUMNS, dialect)  # type: ignore[arg-type]

    def write(
        self, connection: Connection, batch: list[PendingUpload], message_queue: DatabaseQueue | None
    ) -> list[bool | Duplicate]:
        driver = connection.connection.driver_connection
        existing = self._existing(driver, [_content(m.row) for m in batch if m.row["content_key"] is not None])
        results: list[bool | Duplicate] = []
        new: list[PendingUpload] = []
        for member in batch:
            found = existing.get(_content(member.row)) if member.row["content_key"] is not None else None
            results.append(Duplicate(found) if found is not None else True)
            if found is None:
                new.append(member)
        if new:
            self._call(driver, self.uploads.sql, [self.uploads.values(m.row) for m in new], many=True)
        at = datetime.now(UTC)
        events = [
            self.events.values({"at": at, "tenant": e.tenant, "api_key_id": e.api_key_id, "action": e.action,
                                "upload_id": m.row["id"], "request_id": e.request_id, "detail": e.detail})
            for m in new if (e := m.audit_entry) is not None
        ]  # fmt: skip
        if events:
            self._call(driver, self.events.sql, events, many=True)
        bodies = [m.message for m in new if m.message is not None]
        if bodies and message_queue is not None:
            now = utcnow()
            messages = [
                self.messages.values({**value, "created_at": now, "visible_at": now})
                for value in message_queue.message_values(bodies)
            ]
            self._call(driver, self.messages.sql, messages, many=True)
        return results

    def _existing(self, driver: Any, contents: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
        """``repository.find_upload_ids_by_contents``: the newest upload of each (tenant, sha256, mode) that
        exists, by the content index. SQLite keeps the times as fixed-width text, so text order is time order."""
        if not contents:
            return {}
        wanted = set(contents)
        tenants = sorted({c[0] for c in wanted})
        digests = sorted({c[1] for c in wanted})
        sql = (
            "SELECT id, tenant, sha256, mode, created_at FROM uploads "
            f"WHERE tenant IN ({', '.join('?' * len(tenants))}) AND sha256 IN ({', '.join('?' * len(digests))})"
        )
        newest: dict[tuple[str, str, str], tuple[Any, str]] = {}
        for upload_id, tenant, sha256, mode, created_at in self._call(driver, sql, [*tenants, *digests]):
            key = (tenant, sha256, mode)
            if key in wanted and (key not in newest or (created_at, upload_id) > newest[key]):
                newest[key] = (created_at, upload_id)
        return {key: upload_id for key, (_, upload_id) in newest.items()}

    def _call(self, driver: Any, sql: str, params: Any, *, many: bool = False) -> list[Any]:
        """The statement on the driver connection (its rows), its errors raised as SQLAlchemy raises them
        (``IntegrityError`` for a lost content claim, which ``intake`` settles)."""
        error = self.dialect.loaded_dbapi.Error
        try:
            if many:
                driver.executemany(sql, params)
                return []
            return driver.execute(sql, params).fetchall()
        except error as exc:
            raise DBAPIError.instance(sql, params, exc, error, dialect=self.dialect) from exc


def _call_each(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one waiter's failure must not keep the others waiting
            log.exception("an intake waiter's callback failed")


def _content(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["tenant"], row["sha256"], row["mode"]


class IntakeWriter:
    """Writes ``PendingUpload`` batches for one engine. ``write`` blocks until its member is committed
    (returns the ``Upload``), found to repeat an existing upload (returns ``Duplicate``; only for a row
    that claims its content, i.e. not forced) or failed (raises that member's own error)."""

    def __init__(self, engine: Engine, message_queue: DatabaseQueue | None) -> None:
        """``message_queue``: the database queue in ``engine``'s database, whose messages join the batch;
        None for another queue (SQS: the caller sends after the commit)."""
        self.engine = engine
        self._message_queue = message_queue
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._closed = False
        self._file_lock = _sqlite_file_lock(engine)
        self._sqlite_batch: _SqliteBatch | None = None
        # counters for tests and bench/intake_profile.py
        self.batches = 0
        self.members = 0
        self.directory_fsync_seconds = 0.0
        self.transaction_seconds = 0.0

    def write(self, pending: PendingUpload) -> Upload | Duplicate:
        """Queue ``pending`` and wait for its batch; the ``Upload`` is made here, in the caller's thread (an ORM
        object costs tens of microseconds, which the writer would otherwise spend holding the batch's lock)."""
        self.submit(pending)
        written = pending.result.result()
        return written if isinstance(written, Duplicate) else Upload(**pending.row)

    def submit(self, pending: PendingUpload) -> None:
        """Queue ``pending`` without waiting: ``pending.result`` is set once its batch is settled, and then
        ``pending.wake`` is called."""
        self._ensure_thread()
        self._queue.put(pending)

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread if self._pid == os.getpid() else None
            self._thread = None
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)

    def _ensure_thread(self) -> None:
        # A forked child inherits the object but not the thread: start one for this process.
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("the intake writer is closed")
            if self._thread is None or self._pid != os.getpid():
                self._queue = queue.SimpleQueue()
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._write_batch(batch)  # type: ignore[arg-type]
            if stop:
                return

    def _write_batch(self, batch: list[PendingUpload]) -> None:
        try:
            self._settle(batch)
        finally:  # every member's result is set: wake the event loops waiting for them, once per loop
            callbacks: dict[Callable[[Callable[[], None]], object], list[Callable[[], None]]] = {}
            for member in batch:
                if member.wake is not None:
                    callbacks.setdefault(member.wake.schedule, []).append(member.wake.callback)
            for schedule, group in callbacks.items():
                try:
                    schedule(functools.partial(_call_each, group))
                except Exception:  # a closed loop: nobody is waiting there any more
                    log.warning("could not wake %d intake waiters", len(group), exc_info=True)

    def _settle(self, batch: list[PendingUpload]) -> None:
        try:
            results = self._commit(batch)
        except BaseException as exc:  # every waiter must be answered, whatever happened
            if len(batch) == 1:
                batch[0].result.set_exception(exc)
                return
            log.warning("intake batch of %d failed (%s: %s); writing its members one by one",
                        len(batch), type(exc).__name__, exc)  # fmt: skip
            for member in batch:
                try:
                    [result] = self._commit([member])
                except BaseException as member_exc:
                    member.result.set_exception(member_exc)
                else:
                    member.result.set_result(result)
            return
        self.batches += 1
        self.members += len(batch)
        for member, result in zip(batch, results, strict=True):
            member.result.set_result(result)

    def _commit(self, batch: list[PendingUpload]) -> list[bool | Duplicate]:
        """Directory fsyncs, then one transaction: the batch's duplicate check, then the new members' rows,
        events and messages."""
        started = time.perf_counter()
        fsync_directories(d for member in batch for d in member.directories)
        synced = time.perf_counter()
        self.directory_fsync_seconds += synced - started
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql" and all(m.row.keys() == _UPLOAD_COLUMN_SET for m in batch):
                results = self._commit_postgresql(connection, batch)
                self.transaction_seconds += time.perf_counter() - synced
                return results
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:  # on the driver connection, before BEGIN: the pragma is per connection
                connection.connection.driver_connection.execute("PRAGMA synchronous=FULL")  # type: ignore[union-attr]
            try:
                if sqlite and all(m.row.keys() == _UPLOAD_COLUMN_SET for m in batch):
                    with self._file_lock(), connection.begin():
                        results = self._sqlite_statements(connection).write(connection, batch, self._message_queue)
                    self.transaction_seconds += time.perf_counter() - synced
                    return results
                with self._file_lock(), connection.begin():  # one executemany per table: few round trips, few GIL hand-overs
                    # In the transaction (on SQLite under the write lock): no upload can appear between the
                    # check and the insert; concurrent writers elsewhere meet the unique content claim.
                    existing = repository.find_upload_ids_by_contents(
                        connection, [_content(m.row) for m in batch if m.row.get("content_key") is not None]
                    )
                    results: list[bool | Duplicate] = []
                    new: list[PendingUpload] = []
                    for member in batch:
                        found = existing.get(_content(member.row)) if member.row.get("content_key") else None
                        results.append(Duplicate(found) if found is not None else True)
                        if found is None:
                            new.append(member)
                    repository.insert_uploads(connection, [member.row for member in new])
                    audit.insert_events(
                        connection,
                        [(m.audit_entry, m.row["id"]) for m in new if m.audit_entry is not None],
                    )
                    messages = [m.message for m in new if m.message is not None]
                    if messages and self._message_queue is not None:
                        self._message_queue.send_many_within(connection, messages)
                self.transaction_seconds += time.perf_counter() - synced
                return results
            finally:
                if sqlite:  # the pooled connection goes back with the engine's default
                    with contextlib.suppress(Exception):  # a broken connection: the original error matters
                        connection.connection.driver_connection.execute("PRAGMA synchronous=NORMAL")  # type: ignore[union-attr]

    def _sqlite_statements(self, connection: Connection) -> _SqliteBatch:
        if self._sqlite_batch is None:
            self._sqlite_batch = _SqliteBatch(connection.dialect)
        return self._sqlite_batch

    def _commit_postgresql(self, connection: Connection, batch: list[PendingUpload]) -> list[bool | Duplicate]:
        """``_commit``'s transaction as the one statement ``_BATCH_POSTGRESQL``, the batch as one JSON
        parameter (psycopg dumps a list element by element in Python, json.dumps in C)."""
        queue = self._message_queue
        members = []
        for member in batch:
            row, entry = member.row, member.audit_entry
            value: dict[str, Any] = {
                **row, "status": str(row["status"]), "created_at": row["created_at"].isoformat(),
                "queued_at": row["queued_at"].isoformat(), "updated_at": row["updated_at"].isoformat(),
            }  # fmt: skip
            if entry is not None:
                value.update(action=entry.action, event_tenant=entry.tenant, api_key_id=entry.api_key_id,
                             request_id=entry.request_id, detail=entry.detail)  # fmt: skip
            if queue is not None and member.message is not None:
                [message] = queue.message_values([member.message])
                value.update(message_id=message["id"], message_body=message["body"],
                             message_upload_id=message["upload_id"])  # fmt: skip
            members.append(value)
        params = {
            "batch": json.dumps(members, separators=(",", ":")),
            "queue": queue.name if queue is not None else "",
            "at": datetime.now(UTC),
        }
        # autocommit: the statement is the transaction; no BEGIN and COMMIT round trips
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        existing = dict(connection.execute(_BATCH_POSTGRESQL, params).tuples().all())
        return [Duplicate(existing[m.row["id"]]) if m.row["id"] in existing else True for m in batch]
