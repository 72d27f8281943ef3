"""Database tables of the store: uploads, their extracted entries, and the database-backed queue.

Types are portable between SQLite (embedded default) and PostgreSQL. Timestamps are always
timezone-aware UTC in Python, whatever the database stores (see ``UtcDateTime``).
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names: Alembic batch mode on SQLite needs named constraints to alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    SQLite has no time zones: values are stored as naive UTC text (fixed width, so text order is
    time order) and come back aware. Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Autoincrementing 64-bit key; SQLite only autoincrements an INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class UploadStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    NEEDS_REVIEW = "needs_review"  # stored and served, with review_reasons for a person to check
    FAILED = "failed"


UPLOAD_STATUSES: tuple[str, ...] = tuple(s.value for s in UploadStatus)
# The statuses whose timetable is stored and may be served.
READY_STATUSES = (UploadStatus.SUCCEEDED, UploadStatus.NEEDS_REVIEW)
FINAL_STATUSES = (*READY_STATUSES, UploadStatus.FAILED)

upload_status_type = Enum(
    UploadStatus,
    name="upload_status",
    native_enum=False,  # VARCHAR + CHECK: same on SQLite and PostgreSQL, no ALTER TYPE to add a value
    create_constraint=True,
    length=16,
    validate_strings=True,
    values_callable=lambda members: [m.value for m in members],
)


class Upload(Base):
    """One submitted document and the state of its extraction."""

    __tablename__ = "uploads"
    __table_args__ = (
        Index("ix_uploads_tenant_sha256_mode", "tenant", "sha256", "mode"),
        # The duplicate rule under concurrency: one claiming upload per tenant, bytes and mode.
        Index("uq_uploads_tenant_content_key", "tenant", "content_key", unique=True),
        Index("ix_uploads_tenant_created_at", "tenant", "created_at", "id"),
        Index("ix_uploads_status", "status"),
        Index("ix_uploads_created_at", "created_at"),
        Index("ix_uploads_queued_at", "queued_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(Text)
    callback_url: Mapped[str | None] = mapped_column(Text)
    # "{sha256}:{mode}" while this upload is the one a same-content submission is answered with;
    # NULL for forced re-submissions (and after a reprocess in another mode): NULLs never collide.
    content_key: Mapped[str | None] = mapped_column(String(100))

    status: Mapped[UploadStatus] = mapped_column(upload_status_type, default=UploadStatus.QUEUED)
    error: Mapped[str | None] = mapped_column(Text)
    # Why a stored timetable needs a person to look at it, written for a teacher (needs_review).
    review_reasons: Mapped[list[str] | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the upload was last queued (submitted, or reprocessed): what its latency is measured from.
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    dagster_run_id: Mapped[str | None] = mapped_column(String(64))
    extractor_version: Mapped[str | None] = mapped_column(String(64))

    # Run summary (also Dagster metadata)
    entry_count: Mapped[int | None] = mapped_column(Integer)
    confidence_mean: Mapped[float | None] = mapped_column(Float)
    confidence_min: Mapped[float | None] = mapped_column(Float)
    backends: Mapped[dict[str, Any] | None]
    warnings: Mapped[list[str] | None]
    durations: Mapped[dict[str, Any] | None]
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)

    # Timetable header, so the timetable can be rebuilt from rows (entries hold the rest)
    title: Mapped[str | None] = mapped_column(Text)
    owner_kind: Mapped[str | None] = mapped_column(String(16))
    owner_name: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int | None] = mapped_column(Integer)
    # This upload's term settings (``domain.term.TermSettings`` as JSON), over its tenant's.
    term_settings: Mapped[dict[str, Any] | None]

    entries: Mapped[list[EntryRow]] = relationship(
        back_populates="upload",
        order_by="EntryRow.position",
        cascade="all, delete-orphan",
        passive_deletes=True,  # the database's ON DELETE CASCADE removes them
    )

    def __repr__(self) -> str:
        return f"Upload(id={self.id!r}, tenant={self.tenant!r}, status={self.status.value!r})"


class EntryRow(Base):
    """One timetable entry (``Entry`` of the schema) of one upload, in output order."""

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("upload_id", "position"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    upload_id: Mapped[str] = mapped_column(String(32), ForeignKey("uploads.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)

    day: Mapped[str] = mapped_column(String(3))
    # "start", "end" and "group" are SQL keywords: plain column names keep hand-written SQL simple.
    # Free text is TEXT: a long period label must not fail on PostgreSQL when it passes on SQLite.
    start: Mapped[str | None] = mapped_column("start_time", Text)
    end: Mapped[str | None] = mapped_column("end_time", Text)
    period: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="lesson")
    subject: Mapped[str] = mapped_column(Text)
    teacher: Mapped[str | None] = mapped_column(Text)
    room: Mapped[str | None] = mapped_column(Text)
    group: Mapped[str | None] = mapped_column("group_name", Text)
    week: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    page: Mapped[int | None] = mapped_column(Integer)

    upload: Mapped[Upload] = relationship(back_populates="entries")


class QueueMessage(Base):
    """A message of the database-backed queue (same semantics as SQS with a redrive policy)."""

    __tablename__ = "queue_messages"
    __table_args__ = (
        Index("ix_queue_messages_queue_visible", "queue", "dead_lettered_at", "visible_at"),
        Index("ix_queue_messages_upload_id", "upload_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    queue: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    upload_id: Mapped[str | None] = mapped_column(String(64))  # copied from the body, for purge_upload
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    visible_at: Mapped[datetime] = mapped_column(default=utcnow)
    receive_count: Mapped[int] = mapped_column(Integer, default=0)
    receipt: Mapped[str | None] = mapped_column(String(64), unique=True)
    dead_lettered_at: Mapped[datetime | None]
    dead_letter_reason: Mapped[str | None] = mapped_column(Text)


class TenantTerm(Base):
    """A tenant's term settings (``domain.term.TermSettings`` as JSON): its uploads' defaults."""

    __tablename__ = "tenant_terms"

    tenant: Mapped[str] = mapped_column(String(128), primary_key=True)
    settings: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
