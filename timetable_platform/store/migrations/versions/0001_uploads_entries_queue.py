"""uploads, entries and the database queue

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from timetable_platform.store.models import UtcDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("queued", "running", "succeeded", "failed")


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="upload_status", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("dagster_run_id", sa.String(64), nullable=True),
        sa.Column("extractor_version", sa.String(64), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=True),
        sa.Column("confidence_mean", sa.Float(), nullable=True),
        sa.Column("confidence_min", sa.Float(), nullable=True),
        sa.Column("backends", sa.JSON(), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=True),
        sa.Column("durations", sa.JSON(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("owner_kind", sa.String(16), nullable=True),
        sa.Column("owner_name", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_uploads"),
    )
    op.create_index("ix_uploads_tenant_sha256_mode", "uploads", ["tenant", "sha256", "mode"])
    op.create_index("ix_uploads_tenant_created_at", "uploads", ["tenant", "created_at", "id"])
    op.create_index("ix_uploads_status", "uploads", ["status"])
    op.create_index("ix_uploads_created_at", "uploads", ["created_at"])

    op.create_table(
        "entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("upload_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(3), nullable=False),
        sa.Column("start_time", sa.Text(), nullable=True),
        sa.Column("end_time", sa.Text(), nullable=True),
        sa.Column("period", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("teacher", sa.Text(), nullable=True),
        sa.Column("room", sa.Text(), nullable=True),
        sa.Column("group_name", sa.Text(), nullable=True),
        sa.Column("week", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["uploads.id"], name="fk_entries_upload_id_uploads", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_entries"),
        sa.UniqueConstraint("upload_id", "position", name="uq_entries_upload_id_position"),
    )

    op.create_table(
        "queue_messages",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("upload_id", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("visible_at", UtcDateTime(), nullable=False),
        sa.Column("receive_count", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.String(64), nullable=True),
        sa.Column("dead_lettered_at", UtcDateTime(), nullable=True),
        sa.Column("dead_letter_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_queue_messages"),
        sa.UniqueConstraint("receipt", name="uq_queue_messages_receipt"),
    )
    op.create_index("ix_queue_messages_queue_visible", "queue_messages", ["queue", "dead_lettered_at", "visible_at"])
    op.create_index("ix_queue_messages_upload_id", "queue_messages", ["upload_id"])


def downgrade() -> None:
    op.drop_table("queue_messages")
    op.drop_table("entries")
    op.drop_index("ix_uploads_created_at", table_name="uploads")
    op.drop_index("ix_uploads_status", table_name="uploads")
    op.drop_index("ix_uploads_tenant_created_at", table_name="uploads")
    op.drop_index("ix_uploads_tenant_sha256_mode", table_name="uploads")
    op.drop_table("uploads")
