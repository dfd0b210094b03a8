"""The derived `shop_health` table, the data-version stamp, and each source's freshness.

`shop_health` holds, per shop, the scores on the newest data day and 1 and 7 days before, so the
hot queries (overview, at-risk, list) read one row per shop instead of joining history.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from bot.db.models import AccountSnapshot, DataRefresh, DataVersion, MetricSnapshot, Shop, ShopHealth
from bot.services.records import Freshness

STALE_AFTER = dt.timedelta(hours=36)


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
        # CHR of a shop = its worst linked account today. Drops are per account (an account that
        # fell 50 matters even when another is lower), so chr_1d/chr_7d are stored as today's CHR
        # minus the worst per-account change: chr - chr_1d is that change, and it is unknown when
        # no account has a value on both days.
        accounts: dict[tuple[str, str], dict[str, int | None]] = {}
        for shop_id, handle, day, chr_ in session.execute(
            select(
                AccountSnapshot.shop_id,
                AccountSnapshot.tiktok_handle,
                AccountSnapshot.date,
                AccountSnapshot.chr,
            ).where(AccountSnapshot.date.in_(days))
        ):
            accounts.setdefault((shop_id, handle), {})[days[day]] = chr_
        worst_change: dict[tuple[str, str], int] = {}
        for (shop_id, _handle), account in accounts.items():
            row = rows.get(shop_id)
            if row is None:
                continue
            today = account.get("")
            if today is not None and (row.get("chr") is None or today < row["chr"]):
                row["chr"] = today
            for suffix in ("_1d", "_7d"):
                then = account.get(suffix)
                if today is not None and then is not None:
                    key = (shop_id, suffix)
                    worst_change[key] = min(worst_change.get(key, today - then), today - then)
        for (shop_id, suffix), change in worst_change.items():
            rows[shop_id]["chr" + suffix] = rows[shop_id]["chr"] - change
    columns = [c.name for c in ShopHealth.__table__.columns]
    values = [{c: row.get(c) for c in columns} for row in rows.values()]
    for start in range(0, len(values), 5000):
        session.execute(insert(ShopHealth), values[start : start + 5000])
    bump_data_version(session)
    return as_of


def bump_data_version(session: Session) -> None:
    """Renew the stamp in the caller's transaction: cached answers made before it are stale."""
    row = session.get(DataVersion, 1) or DataVersion(id=1)
    row.stamp = uuid.uuid4().hex
    row.changed_at = dt.datetime.now(dt.UTC)
    session.add(row)


def data_version(session: Session) -> str | None:
    return session.scalar(select(DataVersion.stamp).where(DataVersion.id == 1))


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


def freshness(session: Session, now: dt.datetime | None = None) -> Freshness:
    now = now or dt.datetime.now(dt.UTC)
    rows = list(session.scalars(select(DataRefresh)))
    stamps = [aware(r.refreshed_at) for r in rows if r.refreshed_at]
    return Freshness(
        data_date=max((r.data_date for r in rows if r.data_date), default=None),
        refreshed_at=max(stamps, default=None),
        stale_sources=tuple(
            sorted(r.source for r in rows if r.refreshed_at and now - aware(r.refreshed_at) > STALE_AFTER)
        ),
        failing_sources=tuple(sorted(r.source for r in rows if r.last_error)),
    )


def aware(stamp: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
