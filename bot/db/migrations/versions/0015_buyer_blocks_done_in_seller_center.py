"""buyer blocks: pending until done in Seller Center

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-28 12:00:00.000000

A recorded block request stays pending until someone confirms it was done in Seller Center; only
confirmed blocks count against the 100-per-shop and 10-a-day limits. Requests recorded before this
revision were never confirmed, so they start out pending.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("buyer_blocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("confirmed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("confirmed_day", sa.Date(), nullable=True))
        batch_op.create_index(
            "ix_buyer_blocks_shop_confirmed_day", ["shop_id", "confirmed_day"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("buyer_blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_blocks_shop_confirmed_day")
        batch_op.drop_column("confirmed_day")
        batch_op.drop_column("confirmed_by")
        batch_op.drop_column("confirmed_at")
