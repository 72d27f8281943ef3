"""Teacher review: reviewed timetable versions, extraction scores, tenants' ground-truth setting

The extracted timetable is untouched; reviewed revisions are new rows (``store.review_models``).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from timetable_platform.store.models import BigIntId, UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timetable_versions",
        sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
        sa.Column("upload_id", sa.String(32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("timetable", sa.JSON(), nullable=False),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("reviewed_at", UtcDateTime(), nullable=True),
        sa.Column("extractor_version", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["uploads.id"], ondelete="CASCADE", name="fk_timetable_versions_upload_id_uploads"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_timetable_versions"),
        sa.UniqueConstraint("upload_id", "revision", name="uq_timetable_versions_upload_id_revision"),
    )
    op.create_index("ix_timetable_versions_reviewed_at", "timetable_versions", ["reviewed_at"])
    op.create_table(
        "extraction_scores",
        sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
        sa.Column("upload_id", sa.String(32), nullable=False),
        sa.Column("review_revision", sa.Integer(), nullable=False),
        sa.Column("extractor_version", sa.String(64), nullable=False),
        sa.Column("input_format", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("scored_at", UtcDateTime(), nullable=False),
        sa.Column("truth", sa.Integer(), nullable=False),
        sa.Column("pred", sa.Integer(), nullable=False),
        sa.Column("tp", sa.Integer(), nullable=False),
        sa.Column("entry_f1", sa.Float(), nullable=False),
        sa.Column("score", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["uploads.id"], ondelete="CASCADE", name="fk_extraction_scores_upload_id_uploads"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_extraction_scores"),
    )
    op.create_index("ix_extraction_scores_upload_id", "extraction_scores", ["upload_id"])
    op.create_index("ix_extraction_scores_version", "extraction_scores", ["extractor_version", "scored_at"])
    op.create_table(
        "tenant_review_settings",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("contribute_ground_truth", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name="pk_tenant_review_settings"),
    )


def downgrade() -> None:
    op.drop_table("tenant_review_settings")
    op.drop_index("ix_extraction_scores_version", table_name="extraction_scores")
    op.drop_index("ix_extraction_scores_upload_id", table_name="extraction_scores")
    op.drop_table("extraction_scores")
    op.drop_index("ix_timetable_versions_reviewed_at", table_name="timetable_versions")
    op.drop_table("timetable_versions")
