"""Repository functions on SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from timetable_platform.domain.model import Entry, Owner, Source, Timetable
from timetable_platform.store import repository as repo
from timetable_platform.store.db import make_engine, make_session_factory, migrate
from timetable_platform.store.errors import InvalidCursor, InvalidUploadField, UploadNotFound
from timetable_platform.store.models import EntryRow, Upload, UploadStatus


def _new(session: Session, *, tenant: str = "acme", sha256: str = "a" * 64, mode: str = "hybrid", **kw: object) -> Upload:
    return repo.create_upload(
        session, tenant=tenant, filename="week.pdf", media_type="application/pdf", size_bytes=1234,
        sha256=sha256, mode=mode, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _timetable(n: int = 3) -> Timetable:
    days = ["MON", "TUE", "WED", "THU", "FRI"]
    entries = [
        Entry(
            day=days[i % 5], start=f"{8 + i:02d}:00", end=f"{8 + i:02d}:45", period=str(i + 1), subject=f"Subject {i}",
            teacher="Ms Ü" if i % 2 else None, room=f"R{i}", group="7B", week="A" if i % 2 else None,
            notes="double" if i == 0 else None, confidence=0.5 + i / 10, page=1, kind="break" if i == 2 else "lesson",
        )
        for i in range(n)
    ]
    return Timetable(
        title="Class 7B – Autumn", owner=Owner(kind="class", name="7B"),
        source=Source(filename="week.pdf", media_type="application/pdf", pages=2, sha256="a" * 64),
        entries=entries, warnings=["merged cell guessed"],
    )  # fmt: skip


def test_create_and_get_with_tenant_isolation(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        upload = _new(s, label="autumn", callback_url="https://example.test/cb")
        upload_id = upload.id
    with session_factory() as s:
        got = repo.get_upload(s, upload_id)
        assert got is not None
        assert got.status == UploadStatus.QUEUED and got.status == "queued"
        assert got.attempts == 0 and got.label == "autumn" and got.callback_url == "https://example.test/cb"
        assert got.created_at.tzinfo is not None and got.created_at.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - got.created_at) < timedelta(minutes=1)
        assert repo.get_upload(s, upload_id, tenant="acme") is not None
        assert repo.get_upload(s, upload_id, tenant="other") is None
        assert repo.get_upload(s, "0" * 32) is None


def test_find_upload_by_content_is_per_tenant_and_mode_and_newest(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        first = _new(s)
        first.created_at = datetime.now(UTC) - timedelta(hours=1)
        second = _new(s)
        _new(s, mode="document_ai")
        _new(s, tenant="other")
    with session_factory() as s:
        found = repo.find_upload_by_content(s, tenant="acme", sha256="a" * 64, mode="hybrid")
        assert found is not None and found.id == second.id
        assert repo.find_upload_by_content(s, tenant="acme", sha256="b" * 64, mode="hybrid") is None
        assert repo.find_upload_by_content(s, tenant="nobody", sha256="a" * 64, mode="hybrid") is None


def test_list_uploads_pages_with_a_cursor_newest_first(session_factory: sessionmaker[Session]) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with session_factory.begin() as s:
        ids = []
        for i in range(7):
            u = _new(s, sha256=f"{i:064d}")
            u.created_at = base + timedelta(minutes=i // 2)  # pairs share a timestamp: the id breaks ties
            ids.append(u.id)
        _new(s, tenant="other")
    seen: list[str] = []
    cursor = None
    with session_factory() as s:
        for _ in range(10):
            page, cursor = repo.list_uploads(s, tenant="acme", cursor=cursor, limit=3)
            seen += [u.id for u in page]
            if cursor is None:
                break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen)) == 7
    keys = [(u.created_at, u.id) for u in _by_ids(session_factory, seen)]
    assert keys == sorted(keys, reverse=True)


def _by_ids(session_factory: sessionmaker[Session], ids: list[str]) -> list[Upload]:
    with session_factory() as s:
        found = {u.id: u for u in s.scalars(select(Upload).where(Upload.id.in_(ids)))}
    return [found[i] for i in ids]


def test_list_uploads_filters_and_rejects_bad_input(session_factory: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    with session_factory.begin() as s:
        old = _new(s, sha256="1" * 64)
        old.created_at = now - timedelta(days=3)
        failed = _new(s, sha256="2" * 64)
        repo.mark_failed(s, failed.id, error="boom")
    with session_factory() as s:
        page, cursor = repo.list_uploads(s, tenant="acme", status="failed")
        assert [u.id for u in page] == [failed.id] and cursor is None
        page, _ = repo.list_uploads(s, tenant="acme", created_before=now - timedelta(days=1))
        assert [u.id for u in page] == [old.id]
        page, _ = repo.list_uploads(s, tenant="acme", created_after=now - timedelta(days=1))
        assert [u.id for u in page] == [failed.id]
        with pytest.raises(InvalidCursor):
            repo.list_uploads(s, tenant="acme", cursor="not-a-cursor")
        with pytest.raises(ValueError):
            repo.list_uploads(s, tenant="acme", limit=0)
        with pytest.raises(ValueError):
            repo.list_uploads(s, tenant="acme", status="exploded")


def test_status_lifecycle_counts_attempts_once_per_run(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        upload_id = _new(s).id
    with session_factory.begin() as s:
        repo.mark_running(s, upload_id, run_id="run-1")
        repo.mark_running(s, upload_id, run_id="run-1")  # a sensor seeing the same run again
    with session_factory.begin() as s:
        failed = repo.mark_failed(s, upload_id, error="x" * 10_000, run_id="run-1")
        assert failed.attempts == 1 and failed.status == "failed" and len(failed.error or "") == repo.MAX_ERROR_CHARS
        assert failed.finished_at is not None
    with session_factory.begin() as s:
        running = repo.mark_running(s, upload_id, run_id="run-2")
        assert running.attempts == 2 and running.error is None and running.finished_at is None
        repo.mark_succeeded(
            s, upload_id, run_id="run-2", extractor_version="v7", confidence_mean=0.9, backends={"layout": "pdfplumber"},
            durations={"layout": 0.4}, input_tokens=10, output_tokens=20, cost_usd=0.01, warnings=["w"],
        )  # fmt: skip
    with session_factory() as s:
        done = repo.get_upload(s, upload_id)
        assert done is not None and done.status == UploadStatus.SUCCEEDED
        assert (done.dagster_run_id, done.extractor_version, done.attempts) == ("run-2", "v7", 2)
        assert done.backends == {"layout": "pdfplumber"} and done.durations == {"layout": 0.4}
        assert (done.input_tokens, done.output_tokens, done.cost_usd, done.warnings) == (10, 20, 0.01, ["w"])
        assert done.started_at is not None and done.finished_at is not None and done.started_at <= done.finished_at
        with pytest.raises(UploadNotFound):
            repo.mark_running(s, "f" * 32, run_id="r")


def test_replace_entries_round_trips_the_timetable(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        upload_id = _new(s).id
        assert repo.replace_entries(s, upload_id, _timetable(5)) == 5
    with session_factory.begin() as s:
        # A re-run replaces, never appends.
        assert repo.replace_entries(s, upload_id, _timetable(3)) == 3
    with session_factory() as s:
        rebuilt = repo.get_timetable(s, upload_id)
        upload = repo.get_upload(s, upload_id)
        assert upload is not None and rebuilt is not None
        assert rebuilt.to_json_dict() == _timetable(3).to_json_dict()
        assert upload.entry_count == 3
        assert upload.confidence_min == pytest.approx(0.5) and upload.confidence_mean == pytest.approx(0.6)
        assert s.scalar(select(func.count()).select_from(EntryRow)) == 3
        assert repo.get_timetable(s, "0" * 32) is None


def test_replace_entries_rolls_back_with_the_callers_transaction(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        upload_id = _new(s).id
        repo.replace_entries(s, upload_id, _timetable(2))
    with pytest.raises(RuntimeError), session_factory.begin() as s:
        repo.replace_entries(s, upload_id, _timetable(4))
        raise RuntimeError("crash before commit")
    with session_factory() as s:
        rebuilt = repo.get_timetable(s, upload_id)
        assert rebuilt is not None and len(rebuilt.entries) == 2


def test_delete_upload_cascades_to_entries(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        keep = _new(s, sha256="1" * 64).id
        gone = _new(s, sha256="2" * 64).id
        repo.replace_entries(s, keep, _timetable(2))
        repo.replace_entries(s, gone, _timetable(3))
    with session_factory.begin() as s:
        assert repo.delete_upload(s, gone) is True
        assert repo.delete_upload(s, gone) is False
    with session_factory() as s:
        assert s.scalars(select(EntryRow.upload_id).distinct()).all() == [keep]


def test_retention_backfill_and_counts_queries(session_factory: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    with session_factory.begin() as s:
        old = _new(s, sha256="1" * 64)
        old.created_at = now - timedelta(days=100)
        current = _new(s, sha256="2" * 64)
        stale = _new(s, sha256="3" * 64)
        repo.mark_succeeded(s, current.id, extractor_version="v2")
        repo.mark_succeeded(s, stale.id, extractor_version="v1")
        stale_review = _new(s, sha256="7" * 64)
        repo.mark_succeeded(s, stale_review.id, extractor_version="v1", review_reasons=["check Monday"])
        failed_once = _new(s, sha256="4" * 64)
        repo.mark_running(s, failed_once.id, run_id="a")
        repo.mark_failed(s, failed_once.id, error="e")
        hopeless = _new(s, sha256="5" * 64)
        for run in ("a", "b", "c"):
            repo.mark_running(s, hopeless.id, run_id=run)
            repo.mark_failed(s, hopeless.id, error="e")
        running = _new(s, sha256="6" * 64)
        repo.mark_running(s, running.id, run_id="r")
    with session_factory() as s:
        assert [u.id for u in repo.uploads_older_than(s, now - timedelta(days=90))] == [old.id]
        ids = {u.id for u in repo.stale_or_failed_uploads(s, extractor_version="v2", limit=10)}
        assert ids == {stale.id, stale_review.id, failed_once.id, hopeless.id}
        ids = {u.id for u in repo.stale_or_failed_uploads(s, extractor_version="v2", limit=10, max_attempts=3)}
        assert ids == {stale.id, stale_review.id, failed_once.id}
        assert len(repo.stale_or_failed_uploads(s, extractor_version="v2", limit=1)) == 1
        assert repo.status_counts(s) == {"queued": 1, "running": 1, "succeeded": 2, "needs_review": 1, "failed": 2}
        assert repo.status_counts(s, tenant="nobody") == {
            "queued": 0, "running": 0, "succeeded": 0, "needs_review": 0, "failed": 0
        }


def test_review_reasons_make_needs_review_and_are_kept_until_replaced(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as s:
        upload = _new(s)
        repo.mark_running(s, upload.id, run_id="a")
        repo.mark_succeeded(s, upload.id, run_id="a", review_reasons=["Two lessons overlap on Monday"])
        assert upload.status == UploadStatus.NEEDS_REVIEW
        # A run that did not re-check the timetable (run-status sensor) gives back the same status.
        repo.mark_running(s, upload.id, run_id="b")
        repo.mark_succeeded(s, upload.id)
        assert upload.status == UploadStatus.NEEDS_REVIEW and upload.review_reasons == ["Two lessons overlap on Monday"]
        repo.mark_succeeded(s, upload.id, review_reasons=[])
        assert upload.status == UploadStatus.SUCCEEDED and upload.review_reasons == []
        repo.mark_succeeded(s, upload.id, review_reasons=["x"])
        repo.mark_failed(s, upload.id, error="boom")
        assert upload.status == UploadStatus.FAILED and upload.review_reasons is None


def test_naive_datetimes_are_refused(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(Exception, match="naive datetime"), session_factory.begin() as s:
        upload = _new(s)
        upload.finished_at = datetime(2026, 1, 1)  # naive: the point of the test
        s.flush()


def test_text_that_sqlite_accepts_is_accepted_on_postgresql_too(session_factory: sessionmaker[Session]) -> None:
    """Long free text and NUL characters (odd PDF text layers) must not fail on only one of the databases."""
    odd = Entry(day="MON", start="8:00 in the morning", period="Lesson 2 (double period, shared with 7C and 7D)" * 3,
                subject="Ma\x00ths", week="Week A of the autumn term" * 2, notes="x" * 5000)  # fmt: skip
    with session_factory.begin() as s:
        upload = _new(s, label="L\x00" * 300)
        upload_id = upload.id
        repo.replace_entries(s, upload_id, Timetable(title="T\x00", entries=[odd], warnings=["w\x00"]))
    with session_factory() as s:
        rebuilt = repo.get_timetable(s, upload_id)
        assert rebuilt is not None
        [entry] = rebuilt.entries
        assert entry.subject == "Maths" and entry.period == odd.period and entry.notes == odd.notes
        assert rebuilt.title == "T" and rebuilt.warnings == ["w"]


@pytest.mark.parametrize(("field", "value"), [("tenant", "t" * 129), ("mode", "m" * 33), ("tenant", "a\x00b")])
def test_fields_the_database_would_refuse_are_clear_errors(
    session_factory: sessionmaker[Session], field: str, value: str
) -> None:
    with pytest.raises(InvalidUploadField, match=field), session_factory.begin() as s:
        _new(s, **{field: value})


@pytest.mark.parametrize("upload_id", ["\x00", "x" * 100, "'; DROP TABLE uploads; --"])
def test_any_string_as_an_id_is_just_not_found(session_factory: sessionmaker[Session], upload_id: str) -> None:
    with session_factory() as s:
        assert repo.get_upload(s, upload_id) is None
        assert repo.get_timetable(s, upload_id) is None
        assert repo.delete_upload(s, upload_id) is False
        with pytest.raises(UploadNotFound):
            repo.mark_failed(s, upload_id, error="e")


@pytest.fixture
def sqlite_factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    minutes=st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=15),
    page_size=st.integers(min_value=1, max_value=6),
)
def test_pagination_visits_every_upload_once_in_order(
    sqlite_factory: sessionmaker[Session], minutes: list[int], page_size: int
) -> None:
    """Whatever the timestamps (many equal) and the page size: no upload skipped or repeated, newest first."""
    base = datetime(2026, 3, 1, tzinfo=UTC)
    with sqlite_factory.begin() as s:
        s.execute(delete(Upload))  # one database for all examples
        for i, minute in enumerate(minutes):
            _new(s, sha256=f"{i:064d}").created_at = base + timedelta(minutes=minute)
    seen: list[tuple[datetime, str]] = []
    cursor = None
    with sqlite_factory() as s:
        while True:
            page, cursor = repo.list_uploads(s, tenant="acme", cursor=cursor, limit=page_size)
            assert len(page) <= page_size
            seen += [(u.created_at, u.id) for u in page]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) == len(minutes)
    assert seen == sorted(seen, reverse=True)


def test_content_lookups_find_the_newest_through_the_content_index(tmp_path: Path) -> None:
    """The duplicate checks of the submit path look the bytes up in ix_uploads_tenant_sha256_mode: with an
    ORDER BY created_at, SQLite walked every upload of the tenant instead (the tenant's created_at index)."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        old = _new(session, sha256="b" * 64)
        old.created_at = datetime(2026, 1, 1, tzinfo=UTC)
        new = _new(session, sha256="b" * 64)
        _new(session, sha256="c" * 64, mode="fallback")
    with engine.connect() as connection:
        assert repo.find_upload_id_by_content(connection, tenant="acme", sha256="b" * 64, mode="hybrid") == new.id
        found = repo.find_upload_ids_by_contents(
            connection, [("acme", "b" * 64, "hybrid"), ("acme", "c" * 64, "hybrid"), ("other", "b" * 64, "hybrid")]
        )
        assert found == {("acme", "b" * 64, "hybrid"): new.id}
        for statement, params in (
            (repo._UPLOAD_IDS_BY_CONTENT, {"tenant": "acme", "sha256": "b", "mode": "hybrid"}),
            (repo._UPLOADS_BY_CONTENTS, {"tenants": ["acme"], "sha256s": ["b", "c"]}),
        ):
            sql = str(
                statement.params(**params).compile(
                    dialect=engine.dialect, compile_kwargs={"literal_binds": True, "render_postcompile": True}
                )
            )
            plan = " ".join(str(row[-1]) for row in connection.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "ix_uploads_tenant_sha256_mode" in plan, plan
    engine.dispose()
