"""index lookups, shop_health flags, portfolio answers

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 19:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portfolio_answers",
        sa.Column("question", sa.String(length=255), nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("question"),
    )
    with op.batch_alter_table("shop_health", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flags", sa.Integer(), nullable=True))
    op.create_index("ix_shops_code_lower", "shops", [sa.text("lower(shop_code)")])
    op.create_index("ix_shops_name_lower", "shops", [sa.text("lower(shop_name)")])
    op.drop_index("ix_account_snapshots_handle", table_name="account_snapshots")
    op.create_index(
        "ix_account_snapshots_handle_lower",
        "account_snapshots",
        [sa.text("lower(tiktok_handle)"), "shop_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_account_snapshots_handle_lower", table_name="account_snapshots")
    op.create_index("ix_account_snapshots_handle", "account_snapshots", ["tiktok_handle"])
    op.drop_index("ix_shops_name_lower", table_name="shops")
    op.drop_index("ix_shops_code_lower", table_name="shops")
    with op.batch_alter_table("shop_health", schema=None) as batch_op:
        batch_op.drop_column("flags")
    op.drop_table("portfolio_answers")
