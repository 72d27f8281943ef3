"""A real platform for Dagster tests: store backends, a persistent temporary Dagster instance, helpers.

``embedded`` = SQLite + local blobs + database queue; ``aws`` = PostgreSQL + S3 + SQS on moto's server.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from timetable_platform.assets import TIMETABLE_ASSETS
from timetable_platform.resources import (
    InterpretationResource,
    LayoutExtractionResource,
    StoreResource,
    forget_cached_stores,
)
from timetable_platform.store import db, repository
from timetable_platform.store.blobs import upload_key
from timetable_platform.store.queue import upload_message

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".csv": "text/csv",
    ".html": "text/html",
}


def corpus_file(name: str) -> Path:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {name} is not present")
    return path


SMALL_CSV = (
    "Day,Start,End,Subject,Teacher,Room\n"
    "Monday,09:00,10:00,Maths,Ms Lee,R1\n"
    "Monday,10:00,11:00,Art,Mr Poe,R2\n"
    "Tuesday,09:00,10:00,History,Ms Lee,R1\n"
)


@pytest.fixture
def small_timetable(tmp_path: Path) -> Path:
    """A three-entry record-table CSV: the cheapest real document to extract."""
    path = tmp_path / "week.csv"
    path.write_text(SMALL_CSV)
    return path


@dataclass
class Platform:
    store: StoreResource
    instance: dg.DagsterInstance
    layout: LayoutExtractionResource = field(default_factory=lambda: LayoutExtractionResource(retry_base_seconds=0.05))
    interpretation: InterpretationResource = field(
        default_factory=lambda: InterpretationResource(retry_base_seconds=0.05)
    )

    def resources(self) -> dict[str, Any]:
        return {"store": self.store, "layout": self.layout, "interpretation": self.interpretation}

    def register(
        self,
        content: bytes,
        *,
        filename: str,
        mode: str = "document_ai",
        tenant: str = "school-1",
        sha256: str | None = None,
        callback_url: str | None = None,
    ) -> str:
        """Blob, row (status queued) — what the API does before it enqueues."""
        with self.store.session() as session:
            upload = repository.create_upload(
                session,
                tenant=tenant,
                filename=filename,
                media_type=MEDIA_TYPES[Path(filename).suffix],
                size_bytes=len(content),
                sha256=sha256 or hashlib.sha256(content).hexdigest(),
                mode=mode,
                callback_url=callback_url,
            )
            upload_id = upload.id
        self.store.blobs.put(upload_key(tenant, upload_id), content)
        return upload_id

    def submit(self, path: Path, *, mode: str = "document_ai", tenant: str = "school-1", **kwargs: Any) -> str:
        upload_id = self.register(path.read_bytes(), filename=path.name, mode=mode, tenant=tenant, **kwargs)
        self.store.queue.send(upload_message(upload_id, tenant))
        return upload_id

    def materialize(
        self,
        partition_key: str | None = None,
        *,
        tags: dict[str, str] | None = None,
        assets: Sequence[Any] = (),
        selection: Sequence[str] | None = None,
    ) -> dg.ExecuteInProcessResult:
        if partition_key is not None and partition_key not in self.instance.get_dynamic_partitions("uploads"):
            self.instance.add_dynamic_partitions("uploads", [partition_key])
        return dg.materialize(
            list(assets) or TIMETABLE_ASSETS,
            partition_key=partition_key,
            instance=self.instance,
            resources=self.resources(),
            tags=tags,
            selection=list(selection) if selection is not None else None,
            raise_on_error=False,
        )

    def launch(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        """What the daemon does with a run request, in this process: partitions first, then the run."""
        return self.materialize(request.partition_key, tags=dict(request.tags))

    def upload(self, upload_id: str) -> Any:
        with self.store.session() as session:
            upload = repository.get_upload(session, upload_id)
            assert upload is not None
            session.expunge(upload)
            return upload


@pytest.fixture
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    """A persistent (SQLite) instance in a temporary DAGSTER_HOME, as sensors need."""
    home = tempfile.mkdtemp(prefix="dagster-home-")
    try:
        with dg.instance_for_test(temp_dir=home) as instance:
            yield instance
    finally:
        shutil.rmtree(home, ignore_errors=True)


def embedded_overrides(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'timetable.db'}"
    db.migrate(url)
    return {
        "data_dir": str(tmp_path),
        "database_url": url,
        "blob_backend": "local",
        "blob_dir": str(tmp_path / "blobs"),
        "queue_backend": "database",
        "queue_max_receives": "5",
    }


@pytest.fixture
def platform(tmp_path: Path, dagster_instance: dg.DagsterInstance) -> Iterator[Platform]:
    """Embedded backends: SQLite file, local blob directory, database-table queue."""
    yield Platform(StoreResource(overrides=embedded_overrides(tmp_path)), dagster_instance)
    forget_cached_stores()


@pytest.fixture
def aws_platform(
    moto_server: str, postgres_url: str, dagster_instance: dg.DagsterInstance
) -> Iterator[Platform]:
    """PostgreSQL (own database) + S3 bucket + SQS queue with DLQ on moto's server."""
    from tests.support.aws import make_bucket, make_queue

    db.migrate(postgres_url)
    queue_url, dlq_url = make_queue(moto_server, max_receives=3, visibility_timeout=30)
    overrides = {
        "database_url": postgres_url,
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
    }
    yield Platform(StoreResource(overrides=overrides), dagster_instance)
    forget_cached_stores()  # before postgres_url drops the database
