"""portfolio trend: each past day's bands and sellers at risk, per region

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 23:10:00.000000

`/health trend portfolio` and the Monday digest chart read a few stored rows per day instead of
joining every day's snapshots to the day before (12-24 s at 100,000 shops). Days imported before
this revision are computed and stored the first time a trend asks for them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portfolio_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("excellent", "fair", "poor", "deactivated", "ahr_risk")
        ),
        sa.Column("ahr_risk_gmv", sa.Double(), nullable=False),
        sa.Column("sps_risk", sa.Integer(), nullable=False),
        sa.Column("sps_risk_gmv", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("day", "region"),
    )


def downgrade() -> None:
    op.drop_table("portfolio_days")
