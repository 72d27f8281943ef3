"""Tables of teacher review: the reviewed versions of an upload's timetable, the scores of the
extractor against them, and each tenant's choice to contribute reviewed timetables as ground truth.

The extracted timetable (``entries`` rows, ``results/{id}/timetable.json``) is never changed by a
review: every saved change is a new row here, so the history of who changed what is kept whole.
Rows go with their upload (ON DELETE CASCADE): erasure and retention remove them too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from timetable_platform.store.models import Base, BigIntId, utcnow


class TimetableVersion(Base):
    """One saved revision of the person-reviewed timetable of an upload (revision 1, 2, ...).

    ``(upload_id, revision)`` is unique: two editors saving over the same revision cannot both
    win, which is what makes ``If-Match`` safe on every database without locks.
    """

    __tablename__ = "timetable_versions"
    __table_args__ = (
        UniqueConstraint("upload_id", "revision"),
        Index("ix_timetable_versions_reviewed_at", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    upload_id: Mapped[str] = mapped_column(String(32), ForeignKey("uploads.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    # ``Timetable.to_json_dict()`` and, in the same order, each entry's stable id
    timetable: Mapped[dict[str, Any]]
    entry_ids: Mapped[list[str]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    # what this revision did: edit | add | delete | review
    change: Mapped[str] = mapped_column(String(16))
    # set when a person marked this revision as reviewed ("Mark as reviewed")
    reviewed_at: Mapped[datetime | None]
    # the extractor version whose output the review started from
    extractor_version: Mapped[str | None] = mapped_column(String(64))


class ExtractionScore(Base):
    """How one extraction of an upload scored against its reviewed timetable (``score.py``'s numbers).

    Written by the ``extraction_quality`` asset; a row per (upload, extractor version, reviewed
    revision) per materialisation, so F1 can be followed over time and across extractor versions.
    """

    __tablename__ = "extraction_scores"
    __table_args__ = (Index("ix_extraction_scores_version", "extractor_version", "scored_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    upload_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("uploads.id", ondelete="CASCADE"), index=True
    )
    review_revision: Mapped[int] = mapped_column(Integer)
    extractor_version: Mapped[str] = mapped_column(String(64))
    input_format: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(32))
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)
    truth: Mapped[int] = mapped_column(Integer)
    pred: Mapped[int] = mapped_column(Integer)
    tp: Mapped[int] = mapped_column(Integer)
    entry_f1: Mapped[float] = mapped_column(Float)
    # score.py's score_doc result without its list of misses (what summarise() adds up)
    score: Mapped[dict[str, Any]]


class TenantReviewSettings(Base):
    """Whether a tenant's reviewed timetables become evaluation cases (default: they do)."""

    __tablename__ = "tenant_review_settings"

    tenant: Mapped[str] = mapped_column(String(128), primary_key=True)
    contribute_ground_truth: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
