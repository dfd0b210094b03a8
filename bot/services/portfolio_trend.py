"""The portfolio over time: sellers in each AHR band and the GMV at risk, one point per day.

Partner Center keeps no history; the bot has every imported day, so it can show whether the book is
getting better. One GROUP BY over the daily snapshots (and the day before, for the drops), so it
costs one scan of the period whatever the portfolio's size.

"At risk" on a past day can only use what the history holds: the score rules of DOMAIN.md "One
definition of needs action" (AHR fell by more than 20 since the day before or is critical, SPS fell
by more than 0.5 or is critical). Appeals, restrictions and lost authorization are today's news
and are not reconstructed. Sellers that had not authorized the partner are left out, as in every
count; 48-point shops have no AHR band (DOMAIN.md "Regions") but count for SPS.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from bot import domain
from bot.db.models import MetricSnapshot, Shop
from bot.services.records import PortfolioDay, PortfolioTrend
from bot.services.trend import date_axis, date_numbers, draw_png, say_no_data

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_DAYS = 90
# Bands from best (bottom of the stack) to worst, in the colours of their level.
BAND_COLOURS = {
    domain.AhrBand.EXCELLENT: "#2da44e",
    domain.AhrBand.FAIR: "#d4a72c",
    domain.AhrBand.POOR: "#cf222e",
    domain.AhrBand.DEACTIVATED: "#6e1b1b",
}
GMV_COLOUR = "#1f6feb"
MIN_DAYS, MAX_DAYS = 7, 180


def clamp_days(days: int) -> int:
    return min(max(days, MIN_DAYS), MAX_DAYS)


def portfolio_trend(
    session: Session, days: int = DEFAULT_DAYS, *, end: dt.date | None = None, uk_48_point: bool = False
) -> PortfolioTrend:
    """The last `days` days up to `end` (default: the newest snapshot's day)."""
    days = clamp_days(days)
    end = end or session.scalar(select(func.max(MetricSnapshot.date)))
    if end is None:
        return PortfolioTrend(days, [])
    start = end - dt.timedelta(days=days - 1)
    today, before = MetricSnapshot, aliased(MetricSnapshot)
    ahr_counts = Shop.region.not_in(domain.penalty_point_regions(uk_48_point=uk_48_point))

    def in_band(band: domain.AhrBand) -> ColumnElement[int]:
        low, high = domain.AHR_BANDS[band]
        return func.sum(case((and_(ahr_counts, today.ahr.between(low, high)), 1), else_=0))

    sps_low, sps_high = domain.LEVELS[domain.Score.SPS][domain.Level.CRITICAL]
    ahr_low, ahr_high = domain.LEVELS[domain.Score.AHR][domain.Level.CRITICAL]
    at_risk = or_(
        and_(ahr_counts, today.ahr.between(ahr_low, ahr_high)),
        and_(ahr_counts, today.ahr - before.ahr < -domain.AHR_DROP_LIMIT),
        today.sps_tenths.between(sps_low, sps_high),
        and_(
            before.sps_tenths > 0,
            today.sps_tenths > 0,
            today.sps_tenths - before.sps_tenths < -domain.SPS_DROP_LIMIT_TENTHS,
        ),
    )
    bands = list(domain.AhrBand)
    rows = session.execute(
        select(
            today.date,
            *(in_band(band) for band in bands),
            func.sum(case((at_risk, 1), else_=0)),
            func.sum(case((at_risk, func.coalesce(today.gmv_7d, 0.0)), else_=0.0)),
        )
        .join(Shop, and_(Shop.shop_id == today.shop_id, Shop.authorized.is_(True)))
        .outerjoin(
            before, and_(before.shop_id == today.shop_id, before.date == _day_before(session, today.date))
        )
        .where(today.date.between(start, end))
        .group_by(today.date)
    ).all()
    by_day = {}
    for day, *counts, at_risk_count, gmv in rows:
        day = _as_date(day)
        by_day[day] = PortfolioDay(
            day,
            {band: int(count or 0) for band, count in zip(bands, counts, strict=True)},
            int(at_risk_count or 0),
            float(gmv or 0.0),
        )
    calendar = [start + dt.timedelta(days=i) for i in range(days)]
    empty = dict.fromkeys(bands, 0)
    return PortfolioTrend(
        days, [by_day.get(day) or PortfolioDay(day, dict(empty), 0, 0.0) for day in calendar]
    )


def _day_before(session: Session, day: InstrumentedAttribute[dt.date]) -> ColumnElement[dt.date]:
    """`day` minus one day, in the connected database's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(day, "-1 day")
    return day - literal_column("1")


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def chart_title(days: int) -> str:
    return f"Portfolio: sellers per AHR band and GMV at risk, last {days} days"


def portfolio_png(trend: PortfolioTrend) -> bytes:
    """Two panels over the same days: Excellent sellers on top; below, the sellers in the lower
    bands stacked worst first, with the GMV at risk as a line on its own axis. Stacking Excellent
    with the others would flatten the bands an account manager needs to see."""

    def paint(fig: Figure) -> None:
        days = [p.day for p in trend.points]
        if trend.last is None:
            ax = fig.add_subplot()
            say_no_data(ax, "No scores for this period")
            ax.set_title(chart_title(trend.days), fontsize=10, loc="left")
            return
        top, ax = fig.subplots(2, 1, sharex=True, height_ratios=[1, 3])
        x = date_numbers(days)
        good = domain.AhrBand.EXCELLENT
        top.fill_between(x, [p.bands[good] for p in trend.points], color=BAND_COLOURS[good], alpha=0.85)
        top.set_ylabel(good.value, fontsize=8)
        top.set_ylim(bottom=0)
        top.set_title(chart_title(trend.days), fontsize=10, loc="left")
        lower = [domain.AhrBand.DEACTIVATED, domain.AhrBand.POOR, domain.AhrBand.FAIR]
        ax.stackplot(
            x,
            *([p.bands[band] for p in trend.points] for band in lower),
            labels=[band.value for band in lower],
            colors=[BAND_COLOURS[band] for band in lower],
            alpha=0.85,
        )
        ax.set_ylabel("Sellers below Excellent")
        ax.set_ylim(bottom=0)
        money = ax.twinx()
        (line,) = money.plot(
            x, [p.gmv_at_risk for p in trend.points], color=GMV_COLOUR, linewidth=2, label="GMV at risk"
        )
        money.set_ylim(bottom=0)
        money.set_ylabel("GMV at risk (last 7 days)", color=GMV_COLOUR)
        handles, labels = ax.get_legend_handles_labels()
        ax.legend([*handles, line], [*labels, "GMV at risk"], loc="upper left", fontsize=8, framealpha=0.8)
        date_axis(ax, days)
        for axes in (top, ax):
            axes.grid(axis="y", alpha=0.25)

    return draw_png(paint)
