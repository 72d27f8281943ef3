"""``uploads.queued_at``: when an upload was last queued (submitted or reprocessed).

The pipeline latency metric counts from it, so a reprocessed upload is not measured from its first
submission. Existing rows take their ``created_at``.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from timetable_platform.store.models import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("queued_at", UtcDateTime(), nullable=True))
    op.execute(sa.text("UPDATE uploads SET queued_at = created_at"))
    with op.batch_alter_table("uploads") as batch:
        batch.alter_column("queued_at", existing_type=UtcDateTime(), nullable=False)
        batch.create_index("ix_uploads_queued_at", ["queued_at"])


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.drop_index("ix_uploads_queued_at")
        batch.drop_column("queued_at")
