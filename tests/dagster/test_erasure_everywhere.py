"""An erased upload leaves no trace of its content in any store: PostgreSQL (every column of every table of
the application's database and of Dagster's, dagster-postgres), S3 (every current object body) and SQS (the
queue and its dead-letter queue).

Three uploads with distinctive text go through Dagster on a PostgreSQL instance (``deploy/dagster-postgres.yaml``)
with S3 and SQS on moto: one submitted through the API and erased with ``DELETE``, one dropped under
``historical/`` and erased by retention, and one kept. The kept one is found in the stores, which shows the
search can find what it looks for; the other two are found nowhere once ``deleted_uploads_sensor`` has run.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import make_url, update

from tests.conftest import ROOT
from tests.dagster.conftest import Platform
from tests.support.aws import make_bucket, make_queue, s3_client, sqs_client
from tests.support.postgres import admin_dsn, create_database, drop_database
from timetable_platform.api import create_app
from timetable_platform.definitions import defs
from timetable_platform.resources import StoreResource, forget_cached_stores
from timetable_platform.sensors import deleted_uploads, historical, upload_queue
from timetable_platform.store import apikeys, db
from timetable_platform.store.models import Upload
from timetable_platform.store.retention import purge_expired_uploads

pytestmark = pytest.mark.postgres

# Made-up words that occur nowhere else: a subject, a teacher and a room per upload.
ERASED_BY_DELETE = ("Quillothery", "Mx Vantablack", "Room Zeb9K")
ERASED_BY_RETENTION = ("Brannoscopy", "Dr Ulvhildr", "Room Qox4T")
KEPT = ("Marzipanology", "Ms Oakenshaw", "Room Kel7W")


def _csv(subject: str, teacher: str, room: str) -> bytes:
    return (
        "Day,Start,End,Subject,Teacher,Room\n"
        f"Monday,09:00,10:00,{subject},{teacher},{room}\n"
        f"Tuesday,10:00,11:00,{subject} Lab,{teacher},{room}\n"
        "Wednesday,09:00,10:00,Art,Mr Poe,R2\n"
    ).encode()


@pytest.fixture
def postgres_platform(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Platform, str]]:
    """App on PostgreSQL + S3 + SQS (moto); Dagster on its own PostgreSQL database (dagster-postgres)."""
    app_db, app_url = create_database()
    dagster_db, dagster_url = create_database()
    pg = make_url(dagster_url)
    for name, value in {
        "DAGSTER_PG_HOST": pg.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(pg.port or 5432),
        "DAGSTER_PG_USER": pg.username or "postgres",
        "DAGSTER_PG_PASSWORD": pg.password or "",
        "DAGSTER_PG_DB": dagster_db,
    }.items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(ROOT / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
    db.migrate(app_url)
    queue_url, dlq_url = make_queue(moto_server, max_receives=3, visibility_timeout=30)
    overrides = {
        "data_dir": str(tmp_path),
        "database_url": app_url,
        "mode": "document_ai",
        "blob_backend": "s3",
        "s3_bucket": make_bucket(moto_server),
        "s3_endpoint_url": moto_server,
        "s3_region": "us-east-1",
        "queue_backend": "sqs",
        "sqs_queue_url": queue_url,
        "sqs_dlq_url": dlq_url,
        "sqs_endpoint_url": moto_server,
        "sqs_region": "us-east-1",
        "queue_max_receives": "3",
        "api_key_cache_seconds": "0",
        "redis_url": "",
    }
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        yield Platform(StoreResource(overrides=overrides), instance), dagster_db
    finally:
        instance.dispose()
        forget_cached_stores()
        drop_database(app_db)
        drop_database(dagster_db)


def _postgres_text(database: str) -> str:
    """Every row of every table of ``database``, as PostgreSQL writes a row out as text (all columns)."""
    chunks: list[str] = []
    with psycopg.connect(f"{admin_dsn()} dbname={database}", autocommit=True) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert len(tables) > 5
        for schema, table in tables:
            query = sql.SQL("SELECT t::text FROM {}.{} AS t").format(sql.Identifier(schema), sql.Identifier(table))
            chunks.extend(row[0] for row in conn.execute(query))
    return "\n".join(chunks)


def _s3_text(endpoint: str, bucket: str) -> str:
    client = s3_client(endpoint)
    bodies = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            bodies.append(item["Key"] + "\n" + body.decode("utf-8", errors="replace"))
    return "\n".join(bodies)


def _sqs_text(endpoint: str, *queue_urls: str) -> str:
    """Every message body of the queues, received with no visibility timeout so nothing is hidden."""
    client = sqs_client(endpoint)
    bodies = []
    for url in queue_urls:
        for _ in range(5):
            got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
            bodies.extend(m["Body"] for m in got.get("Messages", []))
    return "\n".join(bodies)


def everywhere(platform: Platform, dagster_db: str) -> str:
    settings = platform.store.settings()
    app_db = make_url(settings.resolved_database_url).database
    assert app_db
    return "\n".join(
        [
            _postgres_text(app_db),
            _postgres_text(dagster_db),
            _s3_text(settings.s3_endpoint_url or "", settings.s3_bucket or ""),
            _sqs_text(settings.sqs_endpoint_url or "", settings.sqs_queue_url or "", settings.sqs_dlq_url or ""),
        ]
    )


def _sensor_context(platform: Platform, cursor: str | None = None) -> dg.SensorEvaluationContext:
    return dg.build_sensor_context(
        instance=platform.instance, cursor=cursor, resources={"store": platform.store}, definitions=defs
    )


def _run_requests(platform: Platform, sensor: dg.SensorDefinition, cursor: str | None = None) -> dg.SensorResult:
    result = sensor(_sensor_context(platform, cursor))
    assert isinstance(result, dg.SensorResult)
    return result


def test_an_erased_upload_leaves_no_trace_in_postgres_s3_or_sqs(postgres_platform: tuple[Platform, str]) -> None:
    platform, dagster_db = postgres_platform
    store = platform.store.store()
    settings = platform.store.settings()
    with store.session_factory.begin() as session:
        key = apikeys.create_api_key(session, "school-1").key
    client = TestClient(create_app(settings, store), headers={"X-API-Key": key})

    # Two uploads through the API (blob, row, queue message), one document dropped under historical/.
    submitted = {}
    for words, name in ((ERASED_BY_DELETE, "Vantablack week.csv"), (KEPT, "week.csv")):
        response = client.post("/api/v2/timetable/uploads", files={"file": (name, _csv(*words), "text/csv")})
        assert response.status_code == 202, response.text
        submitted[words] = response.json()["upload_id"]
    platform.store.blobs.put("historical/school-1/old-week.csv", _csv(*ERASED_BY_RETENTION))

    # Dagster as the daemon drives it: the queue and historical sensors' run requests, run in process.
    queue_tick = _run_requests(platform, upload_queue.upload_queue_sensor)
    history_tick = _run_requests(platform, historical.historical_upload_sensor)
    requests = [*(queue_tick.run_requests or []), *(history_tick.run_requests or [])]
    assert len(requests) == 3
    for request in requests:
        platform.instance.add_dynamic_partitions("uploads", [request.partition_key] if request.partition_key else [])
        assert platform.launch(request).success
    _run_requests(platform, upload_queue.upload_queue_sensor, queue_tick.cursor)  # deletes the handled messages
    with store.session_factory() as session:
        statuses = {u.id: str(u.status) for u in session.query(Upload)}
    assert sorted(statuses.values()) == ["succeeded"] * 3, statuses
    [historical_id] = set(statuses) - set(submitted.values())

    before = everywhere(platform, dagster_db)
    for word in (*ERASED_BY_DELETE, *ERASED_BY_RETENTION, *KEPT, "Vantablack week"):
        assert word in before, f"the search does not see {word!r} while its upload exists"

    # Erasure: DELETE through the API; retention for the historical upload (made 100 days old).
    assert client.delete(f"/api/v2/timetable/uploads/{submitted[ERASED_BY_DELETE]}").status_code == 204
    with store.session_factory.begin() as session:
        session.execute(
            update(Upload).where(Upload.id == historical_id).values(created_at=datetime.now(UTC) - timedelta(days=100))
        )
    assert purge_expired_uploads(store, days=90) == 1
    # What the daemon does next: the deletion sensor deletes the runs, then the partitions it asks for.
    result = _run_requests(platform, deleted_uploads.deleted_uploads_sensor)
    [request] = result.dynamic_partitions_requests or []
    assert isinstance(request, dg.DeleteDynamicPartitionsRequest)
    assert sorted(request.partition_keys) == sorted([submitted[ERASED_BY_DELETE], historical_id])
    for partition in request.partition_keys:
        platform.instance.delete_dynamic_partition("uploads", partition)
    _run_requests(platform, historical.historical_upload_sensor, history_tick.cursor)  # forgets the gone source

    after = everywhere(platform, dagster_db)
    for word in (*ERASED_BY_DELETE, *ERASED_BY_RETENTION, "Vantablack week"):
        assert word not in after, f"{word!r} outlived its upload's erasure"
    for word in KEPT:
        assert word in after  # the kept upload is untouched
    assert platform.instance.get_dynamic_partitions("uploads") == [submitted[KEPT]]
    assert not deleted_uploads.upload_run_ids(platform.instance, submitted[ERASED_BY_DELETE])
    assert deleted_uploads.upload_run_ids(platform.instance, submitted[KEPT])
    client.close()
