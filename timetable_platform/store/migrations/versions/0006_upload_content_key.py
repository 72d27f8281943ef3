"""uploads.content_key: the duplicate rule as a unique index, so concurrent submissions cannot both win

Existing uploads keep NULL (no claim); the submit path still finds them by (tenant, sha256, mode).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("content_key", sa.String(100), nullable=True))
    op.create_index("uq_uploads_tenant_content_key", "uploads", ["tenant", "content_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_uploads_tenant_content_key", table_name="uploads")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("content_key")
