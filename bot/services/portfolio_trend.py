"""The portfolio over time: sellers in each AHR band and the GMV at risk, one point per day.

Partner Center keeps no history; the bot has every imported day, so it can show whether the book is
getting better. Each day is one GROUP BY over that day's snapshots (and the day before, for the
drops), stored per region by the import that brings the day (`store_days`), so a trend reads a
few rows per day whatever the portfolio's size.

"At risk" on a past day can only use what the history holds: the score rules of DOMAIN.md "One
definition of needs action" (AHR fell by more than 20 since the day before or is critical, SPS fell
by more than 0.5 or is critical). Appeals, restrictions and lost authorization are today's news
and are not reconstructed. Sellers that had not authorized the partner when the day was stored
are left out, as in every count; 48-point shops have no AHR band (DOMAIN.md "Regions") but count for SPS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, delete, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from bot import domain
from bot.db import indexed_by, upsert_insert
from bot.db.models import MetricSnapshot, PortfolioDayStats, Shop
from bot.services.digest_records import PortfolioDay, PortfolioTrend
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
    """The last `days` days up to `end` (default: the newest snapshot's day), from the stored
    days; a day with scores but nothing stored yet (imported before the days were kept) is
    computed now and stored, committing it."""
    days = clamp_days(days)
    end = end or session.scalar(select(func.max(MetricSnapshot.date)))
    if end is None:
        return PortfolioTrend(days, [])
    start = end - dt.timedelta(days=days - 1)
    stored = session.scalars(select(PortfolioDayStats).where(PortfolioDayStats.day.between(start, end))).all()
    by_day: dict[dt.date, list[PortfolioDayStats]] = {}
    for row in stored:
        by_day.setdefault(_as_date(row.day), []).append(row)
    calendar = [start + dt.timedelta(days=i) for i in range(days)]
    missing = [day for day in calendar if day not in by_day and _has_scores(session, day)]
    if missing:
        computed = _compute(session, missing)
        _insert(session, computed, replace=False)
        session.commit()
        for values in computed:
            by_day.setdefault(values["day"], []).append(PortfolioDayStats(**values))
    bands = list(domain.AhrBand)
    points = []
    for day in calendar:
        counts = dict.fromkeys(bands, 0)
        at_risk, gmv = 0, 0.0
        for row in by_day.get(day, []):
            if domain.uses_penalty_points(row.region, uk_48_point=uk_48_point):
                at_risk, gmv = at_risk + row.sps_risk, gmv + row.sps_risk_gmv
                continue
            for band in bands:
                counts[band] += getattr(row, BAND_COLUMNS[band])
            at_risk, gmv = at_risk + row.ahr_risk, gmv + row.ahr_risk_gmv
        points.append(PortfolioDay(day, counts, at_risk, gmv))
    return PortfolioTrend(days, points)


BAND_COLUMNS = {
    domain.AhrBand.EXCELLENT: "excellent",
    domain.AhrBand.FAIR: "fair",
    domain.AhrBand.POOR: "poor",
    domain.AhrBand.DEACTIVATED: "deactivated",
}


def store_days(session: Session, days: Iterable[dt.date]) -> None:
    """Recompute and store the portfolio on each of `days` (an import brought scores for them:
    the day after changes too, its drops compare with them), in the caller's transaction."""
    wanted = sorted(set(days))
    if not wanted:
        return
    forget_days(session, wanted)
    _insert(session, _compute(session, wanted), replace=True)


def forget_days(session: Session, days: Iterable[dt.date]) -> None:
    """Drop the stored portfolio of `days` (a small correction changed them): the next trend that
    asks computes them again, so a one-row import does not pay for a whole day's GROUP BY."""
    session.execute(delete(PortfolioDayStats).where(PortfolioDayStats.day.in_(sorted(set(days)))))


def touched_days(days: Iterable[dt.date]) -> set[dt.date]:
    """The days whose stored portfolio changes when scores of `days` change: those and the next."""
    return {d + dt.timedelta(days=n) for d in days for n in (0, 1)}


def _has_scores(session: Session, day: dt.date) -> bool:
    return (
        session.scalar(select(MetricSnapshot.shop_id).where(MetricSnapshot.date == day).limit(1)) is not None
    )


ONE_DAY = dt.timedelta(days=1)
DAY_SCORES = "ix_metric_snapshots_date_scores"  # the date index, with the shop and its scores


def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """`days` as runs of consecutive days: (first, last) each."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == ONE_DAY:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _compute(session: Session, days: Iterable[dt.date]) -> list[dict[str, Any]]:
    """The rows of `days`, per day and region: a GROUP BY over the days' snapshots, each joined to
    the shop's day before. PostgreSQL takes a run of consecutive days in one pass (it hashes the
    groups: at M, 181 days in 1.1 s against 6 s a query a day). SQLite sorts every row to group,
    so it takes a day at a time, reading the day and the day before from the date index alone (it
    carries the scores: at L, 61 days in 6.5 s, against 18 s through the table, where a day's
    rows are a page each, and 18 s in one pass); it is told to, since without statistics, or with
    those of a small table, the primary key looks cheaper. Authorized sellers as they are when the
    days are stored."""
    postgres = session.get_bind().dialect.name == "postgresql"
    today = MetricSnapshot
    before = aliased(MetricSnapshot, indexed_by(MetricSnapshot.__table__, DAY_SCORES))
    sps_low, sps_high = domain.LEVELS[domain.Score.SPS][domain.Level.CRITICAL]
    ahr_low, ahr_high = domain.LEVELS[domain.Score.AHR][domain.Level.CRITICAL]
    sps_rules = or_(
        today.sps_tenths.between(sps_low, sps_high),
        and_(
            before.sps_tenths > 0,
            today.sps_tenths > 0,
            today.sps_tenths - before.sps_tenths < -domain.SPS_DROP_LIMIT_TENTHS,
        ),
    )
    ahr_rules = or_(
        today.ahr.between(ahr_low, ahr_high),
        today.ahr - before.ahr < -domain.AHR_DROP_LIMIT,
        sps_rules,
    )

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def gmv(condition: ColumnElement[bool]) -> ColumnElement[float]:
        return func.coalesce(func.sum(case((condition, func.coalesce(today.gmv_7d, 0.0)), else_=0.0)), 0.0)

    counts: list[ColumnElement[Any]] = [
        *(
            count(today.ahr.between(*domain.AHR_BANDS[band])).label(column)
            for band, column in BAND_COLUMNS.items()
        ),
        count(ahr_rules).label("ahr_risk"),
        gmv(ahr_rules).label("ahr_risk_gmv"),
        count(sps_rules).label("sps_risk"),
        gmv(sps_rules).label("sps_risk_gmv"),
    ]

    def joined(*columns: Any, day_before: ColumnElement[Any]) -> Select[Any]:
        return (
            select(*columns, Shop.region, *counts)
            .select_from(today)
            .join(Shop, and_(Shop.shop_id == today.shop_id, Shop.authorized.is_(True)))
            .outerjoin(before, and_(before.shop_id == today.shop_id, before.date == day_before))
        )

    if postgres:
        runs = (
            joined(today.date.label("day"), day_before=today.date - 1)
            .where(today.date.between(bindparam("first"), bindparam("last")))
            .group_by(today.date, Shop.region)
        )
        return [
            row._asdict()
            for first, last in _runs(days)
            for row in session.execute(runs, {"first": first, "last": last})
        ]
    one_day = (
        joined(day_before=bindparam("before")).where(today.date == bindparam("day")).group_by(Shop.region)
    )
    return [
        {"day": day, **row._asdict()}
        for day in sorted(set(days))
        for row in session.execute(one_day, {"day": day, "before": day - ONE_DAY})
    ]


def _insert(session: Session, rows: list[dict[str, Any]], *, replace: bool) -> None:
    """Store computed days; `replace=False` (a read filling a gap): a day another request stored
    meanwhile is kept as it is."""
    if not rows:
        return
    if replace:
        session.execute(insert(PortfolioDayStats), rows)
        return
    session.execute(
        upsert_insert(session, PortfolioDayStats).on_conflict_do_nothing(index_elements=["day", "region"]),
        rows,
    )


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
