"""Backend choice from settings (environment / .env), the submit path, and the store CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.aws import REGION, make_bucket, make_queue
from timetable_platform.cli import main
from timetable_platform.settings import Settings
from timetable_platform.store import repository
from timetable_platform.store.blobs import LocalBlobStore, S3BlobStore, upload_key
from timetable_platform.store.errors import StoreConfigError
from timetable_platform.store.factory import build_store
from timetable_platform.store.intake import submit_document
from timetable_platform.store.queue import DatabaseQueue, SqsQueue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No TIMETABLE_ variables from the caller, no .env of the developer: only what the test sets."""
    import os

    for name in list(os.environ):
        if name.startswith("TIMETABLE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIMETABLE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"^#?\s*(TIMETABLE_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    expected = {f"TIMETABLE_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set(), "add these to .env.example"
    assert documented - expected == set(), ".env.example documents settings that do not exist"


def test_embedded_defaults(isolated_env: Path) -> None:
    store = build_store(Settings(), migrate=True)
    try:
        assert isinstance(store.blobs, LocalBlobStore) and store.blobs.root == (isolated_env / "data" / "blobs").resolve()
        assert isinstance(store.queue, DatabaseQueue)
        assert store.engine.url.get_backend_name() == "sqlite"
        assert (isolated_env / "data" / "timetable.db").is_file()
        assert store.ping() == {"database": "ok", "blobs": "ok", "queue": "ok"}
    finally:
        store.dispose()


def test_cloud_backends_from_a_dotenv_file(isolated_env: Path, moto_server: str, postgres_url: str) -> None:
    bucket = make_bucket(moto_server)
    queue_url, _ = make_queue(moto_server, max_receives=3)
    (isolated_env / ".env").write_text(
        f"TIMETABLE_DATABASE_URL={postgres_url}\n"
        f"TIMETABLE_BLOB_BACKEND=s3\nTIMETABLE_S3_BUCKET={bucket}\nTIMETABLE_S3_PREFIX=prod\n"
        f"TIMETABLE_S3_ENDPOINT_URL={moto_server}\nTIMETABLE_S3_REGION={REGION}\nTIMETABLE_S3_SSE=AES256\n"
        f"TIMETABLE_QUEUE_BACKEND=sqs\nTIMETABLE_SQS_QUEUE_URL={queue_url}\n"
        f"TIMETABLE_SQS_ENDPOINT_URL={moto_server}\nTIMETABLE_SQS_REGION={REGION}\nTIMETABLE_QUEUE_MAX_RECEIVES=3\n"
        "TIMETABLE_BLOB_DIR=\n"  # empty means default, as in .env.example
    )
    store = build_store(Settings(), migrate=True)
    try:
        assert isinstance(store.blobs, S3BlobStore) and store.blobs.prefix == "prod/" and store.blobs.sse == "AES256"
        assert isinstance(store.queue, SqsQueue) and store.queue.max_receives == 3
        assert store.engine.url.get_backend_name() == "postgresql"
        assert store.ping() == {"database": "ok", "blobs": "ok", "queue": "ok"}

        submission = submit_document(
            store, content=b"Mon,08:00,Maths\n", filename="week.csv", media_type="text/csv", tenant="acme", mode="hybrid"
        )
        upload = submission.upload
        assert store.blobs.get(upload_key("acme", upload.id)) == b"Mon,08:00,Maths\n"
        [message] = store.queue.receive(1)
        assert message.body == {"upload_id": upload.id, "tenant": "acme"}
    finally:
        store.dispose()


def test_missing_cloud_settings_are_clear_errors(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMETABLE_BLOB_BACKEND", "s3")
    with pytest.raises(StoreConfigError, match="TIMETABLE_S3_BUCKET"):
        build_store(Settings())
    monkeypatch.setenv("TIMETABLE_BLOB_BACKEND", "local")
    monkeypatch.setenv("TIMETABLE_QUEUE_BACKEND", "sqs")
    with pytest.raises(StoreConfigError, match="TIMETABLE_SQS_QUEUE_URL"):
        build_store(Settings())
    monkeypatch.setenv("TIMETABLE_QUEUE_BACKEND", "database")
    monkeypatch.setenv("TIMETABLE_DATABASE_URL", "mysql://x/y")
    with pytest.raises(StoreConfigError, match="unsupported database"):
        build_store(Settings())


def test_submit_deduplicates_and_undoes_a_failed_enqueue(isolated_env: Path) -> None:
    store = build_store(Settings(), migrate=True)
    try:
        kwargs = {"content": b"%PDF", "filename": "a.pdf", "media_type": "application/pdf", "tenant": "t", "mode": "hybrid"}
        first = submit_document(store, **kwargs)  # type: ignore[arg-type]
        again = submit_document(store, **kwargs)  # type: ignore[arg-type]
        assert first.created and not again.created and again.upload.id == first.upload.id
        forced = submit_document(store, force=True, **kwargs)  # type: ignore[arg-type]
        assert forced.created and forced.upload.id != first.upload.id

        def broken_send(body: dict) -> str:
            raise ConnectionError("queue down")

        store.queue.send = broken_send  # type: ignore[method-assign]
        store.queue.send_within = lambda _connection, body: broken_send(body)  # type: ignore[attr-defined]
        with pytest.raises(ConnectionError):
            submit_document(store, **{**kwargs, "content": b"other bytes"})  # type: ignore[arg-type]
        with store.session_factory() as session:
            assert repository.status_counts(session)["queued"] == 2  # the failed one left no row
        assert sorted(store.blobs.list("uploads/t/")) == sorted(
            [upload_key("t", first.upload.id), upload_key("t", forced.upload.id)]
        )  # ... and no blob
    finally:
        store.dispose()


def test_cli_migrate_submit_status(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    document = isolated_env / "week.csv"
    document.write_text("Day,Start,End,Subject\nMonday,08:00,08:45,Maths\n")

    assert main(["migrate"]) == 0
    assert "database at revision" in capsys.readouterr().out

    assert main(["submit", str(document), "--tenant", "acme", "--mode", "document_ai", "--json"]) == 0
    submitted = json.loads(capsys.readouterr().out)
    assert submitted["created"] is True and submitted["status"] == "queued"
    upload_id = submitted["upload_id"]

    assert main(["submit", str(document), "--tenant", "acme", "--mode", "document_ai"]) == 0
    assert "already submitted" in capsys.readouterr().out

    assert main(["submit", str(isolated_env / "missing.pdf")]) == 1
    assert "cannot read" in capsys.readouterr().err
    big = isolated_env / "big.pdf"
    big.write_bytes(b"%PDF" + b"0" * 2000)
    monkeypatch.setenv("TIMETABLE_MAX_UPLOAD_BYTES", "1000")
    assert main(["submit", str(big)]) == 1
    assert "too large" in capsys.readouterr().err
    monkeypatch.delenv("TIMETABLE_MAX_UPLOAD_BYTES")
    assert main(["submit", str(document), "--tenant", "../evil"]) == 1
    assert "invalid tenant" in capsys.readouterr().err

    assert main(["status", upload_id, "--json"]) == 0
    detail = json.loads(capsys.readouterr().out)
    assert detail["tenant"] == "acme" and detail["mode"] == "document_ai" and detail["media_type"] == "text/csv"

    assert main(["status", "--json"]) == 0
    overview = json.loads(capsys.readouterr().out)
    assert overview["uploads"]["queued"] == 1
    assert overview["queue"] == {"visible": 1, "in_flight": 0, "dead": 0}
    assert [u["id"] for u in overview["recent"]] == [upload_id]

    assert main(["status", "0" * 32]) == 1
    assert "no upload" in capsys.readouterr().err

    store = build_store(Settings())
    try:
        store.queue.send_raw("not json")
        store.queue.dead_letter(next(m for m in store.queue.receive(10) if m.body is None), "malformed JSON")
    finally:
        store.dispose()
    assert main(["status", "--dead-letters", "--json"]) == 0
    [dead] = json.loads(capsys.readouterr().out)["dead_letters"]
    assert dead["reason"] == "malformed JSON" and dead["body"] == "not json"
    assert main(["status", "--dead-letters"]) == 0
    assert "malformed JSON" in capsys.readouterr().out


def test_cli_reports_an_unreachable_database(isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("TIMETABLE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert main(["migrate"]) == 1
    assert "migration failed" in capsys.readouterr().err
    assert main(["status"]) == 1
    assert "store unavailable" in capsys.readouterr().err
