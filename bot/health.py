"""The derived `shop_health` table and the data-freshness record.

`shop_health` holds, per shop, the scores on the newest data day and 1 and 7 days before, so the
hot queries (overview, at-risk, list) read one row per shop instead of joining history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from bot.models import AccountSnapshot, DataRefresh, MetricSnapshot, Shop, ShopHealth


def latest_data_date(session: Session) -> dt.date | None:
    return session.scalar(select(func.max(MetricSnapshot.date)))


def rebuild_shop_health(session: Session) -> dt.date | None:
    """Recompute every shop's current row from the snapshots; returns the data date used."""
    as_of = latest_data_date(session)
    session.execute(delete(ShopHealth))
    shop_ids = list(session.scalars(select(Shop.shop_id)))
    if not shop_ids:
        return as_of
    rows: dict[str, dict[str, Any]] = {shop_id: {"shop_id": shop_id, "as_of": as_of} for shop_id in shop_ids}
    if as_of is not None:
        days = {as_of: "", as_of - dt.timedelta(days=1): "_1d", as_of - dt.timedelta(days=7): "_7d"}
        metrics = select(
            MetricSnapshot.shop_id,
            MetricSnapshot.date,
            MetricSnapshot.ahr,
            MetricSnapshot.sps_tenths,
            MetricSnapshot.gmv_7d,
        ).where(MetricSnapshot.date.in_(days))
        for shop_id, day, ahr, sps, gmv in session.execute(metrics):
            row = rows.get(shop_id)
            if row is None:
                continue
            suffix = days[day]
            row["ahr" + suffix] = ahr
            row["sps_tenths" + suffix] = sps
            if not suffix:
                row["gmv_7d"] = gmv
        # CHR of a shop = its worst linked account that day.
        worst = (
            select(AccountSnapshot.shop_id, AccountSnapshot.date, func.min(AccountSnapshot.chr))
            .where(AccountSnapshot.date.in_(days))
            .group_by(AccountSnapshot.shop_id, AccountSnapshot.date)
        )
        for shop_id, day, chr_ in session.execute(worst):
            if shop_id in rows:
                rows[shop_id]["chr" + days[day]] = chr_
    columns = [c.name for c in ShopHealth.__table__.columns]
    values = [{c: row.get(c) for c in columns} for row in rows.values()]
    for start in range(0, len(values), 5000):
        session.execute(insert(ShopHealth), values[start : start + 5000])
    return as_of


def record_refresh(
    session: Session, source: str, *, error: str | None = None, now: dt.datetime | None = None
) -> None:
    """Stamp a source as refreshed now, or note its failure without touching its last success."""
    now = now or dt.datetime.now(dt.UTC)
    row = session.get(DataRefresh, source) or DataRefresh(source=source)
    if error is None:
        row.refreshed_at = now
        row.data_date = latest_data_date(session)
        row.last_error = None
        row.last_error_at = None
    else:
        row.last_error = error
        row.last_error_at = now
    session.add(row)
