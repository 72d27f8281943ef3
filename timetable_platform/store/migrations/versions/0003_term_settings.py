"""Term settings: per tenant (tenant_terms) and per upload (uploads.term_settings).

Revision ID: 0003_term_settings
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from timetable_platform.store.models import UtcDateTime

revision = "0003_term_settings"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_terms",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_tenant_terms")),
    )
    # A nullable column without a default: a plain ALTER TABLE ADD COLUMN on SQLite and PostgreSQL.
    op.add_column("uploads", sa.Column("term_settings", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite cannot drop a column in place: batch mode copies the table.
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("term_settings")
    op.drop_table("tenant_terms")
