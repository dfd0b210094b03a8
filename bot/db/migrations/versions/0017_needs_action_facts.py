"""needs action: each violation's last day to appeal; penalty points and restrictions per shop

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 21:40:00.000000

`violations.appeal_until` is the last day a violation can be appealed (None when its status allows
none), so "an appeal is due within 7 days" is an indexed range; existing rows are filled in here.
`shop_health` gains the 48-point shops' penalty points (today, 1 and 7 days before) and the
restriction in force with its end; they are filled by the next import or sync.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from bot import domain  # pure rules: the same deadline the importer stores

    with op.batch_alter_table("violations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appeal_until", sa.Date(), nullable=True))
        batch_op.create_index("ix_violations_appeal_until", ["appeal_until"], unique=False)
    with op.batch_alter_table("shop_health", schema=None) as batch_op:
        for name in ("points", "points_1d", "points_7d", "restriction"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("restricted_until", sa.Date(), nullable=True))
    violations = sa.table(
        "violations",
        sa.column("violation_id", sa.String),
        sa.column("scope", sa.String),
        sa.column("notified_at", sa.Date),
        sa.column("enforcement_status", sa.String),
        sa.column("appeal_status", sa.String),
        sa.column("appeal_rejected_at", sa.Date),
        sa.column("violation_status", sa.String),
        sa.column("appeal_until", sa.Date),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            violations.c.violation_id,
            violations.c.scope,
            violations.c.notified_at,
            violations.c.enforcement_status,
            violations.c.appeal_status,
            violations.c.appeal_rejected_at,
            violations.c.violation_status,
        )
    ).all()
    updates = []
    for violation_id, *facts in rows:
        until = domain.appeal_until(domain.ViolationFacts(*facts))
        if until is not None:
            updates.append({"id": violation_id, "until": until})
    if updates:
        bind.execute(
            violations.update()
            .where(violations.c.violation_id == sa.bindparam("id"))
            .values(appeal_until=sa.bindparam("until")),
            updates,
        )


def downgrade() -> None:
    with op.batch_alter_table("shop_health", schema=None) as batch_op:
        for name in ("restricted_until", "restriction", "points_7d", "points_1d", "points"):
            batch_op.drop_column(name)
    with op.batch_alter_table("violations", schema=None) as batch_op:
        batch_op.drop_index("ix_violations_appeal_until")
        batch_op.drop_column("appeal_until")
