"""Builds the store from settings: the ONLY place that branches on which backend is configured."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from timetable_platform.settings import Settings
from timetable_platform.store import db
from timetable_platform.store.blobs import BlobStore, LocalBlobStore, S3BlobStore
from timetable_platform.store.errors import StoreConfigError
from timetable_platform.store.intake_writer import IntakeWriter
from timetable_platform.store.queue import DatabaseQueue, SqsQueue, UploadQueue


@dataclass
class Store:
    engine: Engine
    session_factory: sessionmaker[Session]
    blobs: BlobStore
    queue: UploadQueue
    database_url: str = field(default="", repr=False)
    # Sessions for pure reads (GET endpoints, status): on SQLite they do not queue behind writers.
    read_session_factory: sessionmaker[Session] | None = field(default=None, repr=False)
    # The group-commit writer of submissions (store.intake.intake_writer), made on first use.
    intake_writer: IntakeWriter | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.read_session_factory is None:
            self.read_session_factory = self.session_factory

    def ping(self) -> dict[str, str]:
        """Check every backend can do what a submission needs (database schema, reads and a write;
        a blob written and read back; the queue reachable): ``{"database": "ok", "blobs": "ok",
        "queue": "ok"}`` or the error text."""
        results: dict[str, str] = {}
        checks = (
            ("database", lambda: db.check_ready(self.engine)),
            ("blobs", self.blobs.check_writable),
            ("queue", self.queue.ping),
        )
        for name, check in checks:
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # report, never raise: this feeds health endpoints
                results[name] = f"{exc.__class__.__name__}: {exc}"
        return results

    def dispose(self) -> None:
        if self.intake_writer is not None:
            self.intake_writer.close()
            self.intake_writer = None
        self.engine.dispose()


def build_blobs(settings: Settings) -> BlobStore:
    if settings.blob_backend == "s3":
        if not settings.s3_bucket:
            raise StoreConfigError("TIMETABLE_BLOB_BACKEND=s3 needs TIMETABLE_S3_BUCKET")
        return S3BlobStore(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            sse=settings.s3_sse,
            kms_key_id=settings.s3_kms_key_id,
        )
    return LocalBlobStore(settings.resolved_blob_dir)


def build_queue(settings: Settings, session_factory: sessionmaker[Session]) -> UploadQueue:
    if settings.queue_backend == "sqs":
        if not settings.sqs_queue_url:
            raise StoreConfigError("TIMETABLE_QUEUE_BACKEND=sqs needs TIMETABLE_SQS_QUEUE_URL")
        return SqsQueue(
            settings.sqs_queue_url,
            dlq_url=settings.sqs_dlq_url,
            region=settings.sqs_region,
            endpoint_url=settings.sqs_endpoint_url,
            visibility_timeout=settings.queue_visibility_timeout,
            max_receives=settings.queue_max_receives,
        )
    return DatabaseQueue(
        session_factory,
        visibility_timeout=settings.queue_visibility_timeout,
        max_receives=settings.queue_max_receives,
    )


def build_store(settings: Settings, *, migrate: bool = False) -> Store:
    """Engine, session factory, blob store and queue as the settings choose; ``migrate`` upgrades the schema first."""
    url = settings.resolved_database_url
    if migrate:
        db.migrate(url)
    engine = db.make_engine(url)
    session_factory = db.make_session_factory(engine)
    return Store(
        engine=engine,
        session_factory=session_factory,
        blobs=build_blobs(settings),
        queue=build_queue(settings, session_factory),
        database_url=url,
        read_session_factory=db.make_read_session_factory(engine),
    )
