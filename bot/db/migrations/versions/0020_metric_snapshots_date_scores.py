"""metric snapshots: the date index carries the scores the portfolio trend counts

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 11:00:00.000000

Storing a day of the portfolio trend read each of the day's snapshots and the day before's from
the table, a page a row (they are stored shop by shop): at L, 61 days took 18 s of a full metrics
import. With the shop and the scores in the date index, both days are read from the index alone,
in order: 6.5 s. The index replaces the plain date index, whose every use it serves.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["date", "shop_id", "ahr", "sps_tenths", "gmv_7d"]


def upgrade() -> None:
    op.create_index("ix_metric_snapshots_date_scores", "metric_snapshots", COLUMNS)
    op.drop_index("ix_metric_snapshots_date", table_name="metric_snapshots")


def downgrade() -> None:
    op.create_index("ix_metric_snapshots_date", "metric_snapshots", ["date"])
    op.drop_index("ix_metric_snapshots_date_scores", table_name="metric_snapshots")
