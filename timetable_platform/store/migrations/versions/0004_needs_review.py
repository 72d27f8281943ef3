"""Upload status ``needs_review`` and the upload's ``review_reasons``.

The status column is VARCHAR + a named CHECK constraint (``ck_uploads_upload_status``) on both
databases; the constraint is replaced to allow the new value. On SQLite batch mode rebuilds the table.

Revision ID: 0004
Revises: 0003_term_settings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003_term_settings"
branch_labels = None
depends_on = None

CONSTRAINT = "upload_status"  # the naming convention makes it ck_uploads_upload_status
OLD_STATUSES = ("queued", "running", "succeeded", "failed")
NEW_STATUSES = ("queued", "running", "succeeded", "needs_review", "failed")


def _allow(statuses: tuple[str, ...]) -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.drop_constraint(op.f("ck_uploads_upload_status"), type_="check")
        batch.create_check_constraint(CONSTRAINT, sa.column("status").in_(statuses))


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("review_reasons", sa.JSON(), nullable=True))
    _allow(NEW_STATUSES)


def downgrade() -> None:
    # Earlier code knows no needs_review: those uploads become succeeded (their timetable is stored).
    op.execute(sa.text("UPDATE uploads SET status = 'succeeded' WHERE status = 'needs_review'"))
    _allow(OLD_STATUSES)
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("review_reasons")
