"""uploads: Health List violation counts, /health import waits

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("metric_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("violations_7d", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("violations_60d", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("violations_appealable", sa.Integer(), nullable=True))
    op.create_table(
        "upload_waits",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "channel_id"),
    )


def downgrade() -> None:
    op.drop_table("upload_waits")
    with op.batch_alter_table("metric_snapshots", schema=None) as batch_op:
        batch_op.drop_column("violations_appealable")
        batch_op.drop_column("violations_60d")
        batch_op.drop_column("violations_7d")
