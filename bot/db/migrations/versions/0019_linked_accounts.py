"""linked accounts: one row per shop and TikTok handle, in place of an index on every snapshot

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 10:50:00.000000

`/health shop @handle` found the shop through an index on the handles of every CHR snapshot (a row
per account and day), which a full accounts import paid for on each of its rows: at M, 2.8 million
entries for 28,000 accounts, a third of the merge. The accounts import now keeps the pairs in their
own small table, filled here from the snapshots.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "linked_accounts",
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("tiktok_handle", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.shop_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id", "tiktok_handle"),
    )
    op.execute(
        "INSERT INTO linked_accounts (shop_id, tiktok_handle) "
        "SELECT DISTINCT shop_id, tiktok_handle FROM account_snapshots"
    )
    op.create_index(
        "ix_linked_accounts_handle_lower", "linked_accounts", [sa.text("lower(tiktok_handle)"), "shop_id"]
    )
    op.drop_index("ix_account_snapshots_handle_lower", table_name="account_snapshots")


def downgrade() -> None:
    op.create_index(
        "ix_account_snapshots_handle_lower",
        "account_snapshots",
        [sa.text("lower(tiktok_handle)"), "shop_id"],
    )
    op.drop_index("ix_linked_accounts_handle_lower", table_name="linked_accounts")
    op.drop_table("linked_accounts")
