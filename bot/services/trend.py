"""Trend charts: a shop's daily AHR (with its milestones) and SPS as a PNG, and the series behind it.

`trend_series` reads the daily snapshots; `trend_png` draws them with matplotlib's object API on
the Agg canvas (no pyplot, no global figure state). Rendering is serialized by a lock because
matplotlib does not promise thread safety even without pyplot, and listeners run on a thread pool.
matplotlib is imported on first use, so starting the app does not pay for it.

Missing days are gaps in the line, never zeros; an SPS of 0 means "not scored yet" (DOMAIN.md),
so it is a gap too. 48-point regions have no AHR: their charts show SPS only (no milestone lines).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import domain
from bot.db.models import MetricSnapshot, ShopHealth
from bot.services.records import ShopInfo

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Point = tuple[dt.date, int | None]

MIN_TREND_DAYS = 7
MAX_TREND_DAYS = 180  # AHR's rolling window; older history is not kept for charts

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 3.6, 100
AHR_COLOUR = "#1f6feb"
SPS_COLOUR = "#d97706"
MILESTONE_COLOUR = "#cf222e"
SPS_MAX = 5.0

_RENDER_LOCK = threading.Lock()


def clamp_days(days: int) -> int:
    """A period the chart can show: a tampered or outdated button value cannot ask for more."""
    return min(max(days, MIN_TREND_DAYS), MAX_TREND_DAYS)


def trend_series(session: Session, shop_id: str, days: int) -> tuple[list[Point], list[Point]]:
    """(AHR points, SPS points in tenths), one per day for the last `days` days up to the shop's data date.

    The period ends at the shop's `ShopHealth.as_of` (else its latest snapshot). Days without a
    snapshot are present with None, so the chart shows them as gaps. No history: two empty lists.
    """
    health = session.get(ShopHealth, shop_id)
    end = health.as_of if health is not None and health.as_of is not None else None
    if end is None:
        end = session.scalar(select(func.max(MetricSnapshot.date)).where(MetricSnapshot.shop_id == shop_id))
    if end is None:
        return [], []
    start = end - dt.timedelta(days=days - 1)
    rows = session.execute(
        select(MetricSnapshot.date, MetricSnapshot.ahr, MetricSnapshot.sps_tenths).where(
            MetricSnapshot.shop_id == shop_id, MetricSnapshot.date >= start, MetricSnapshot.date <= end
        )
    ).all()
    by_day = {day: (ahr, sps) for day, ahr, sps in rows}
    calendar = [start + dt.timedelta(days=i) for i in range(days)]
    ahr_points = [(day, by_day.get(day, (None, None))[0]) for day in calendar]
    sps_points = [(day, by_day.get(day, (None, None))[1]) for day in calendar]
    return ahr_points, sps_points


def known(points: Sequence[Point], *, scored_only: bool = False) -> list[tuple[dt.date, int]]:
    """The points that have a value (for SPS with `scored_only`, a value above 0)."""
    return [(day, v) for day, v in points if v is not None and (v > 0 or not scored_only)]


def chart_title(shop_name: str, shop_code: str, days: int, *, points_region: bool) -> str:
    scores = "SPS (48-point region)" if points_region else "AHR and SPS"
    return f"{shop_name} ({shop_code}): {scores}, last {days} days"


def draw_png(paint: Callable[[Figure], None]) -> bytes:
    """A PNG of one chart: `paint` draws on a fresh figure (Agg canvas, under the lock)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _RENDER_LOCK:
        fig = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        paint(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def date_axis(ax: Axes, days: Sequence[dt.date]) -> None:
    """Dates along x: the period with half a day of room on each side, a few concise ticks."""
    from matplotlib import dates as mdates

    if not days:
        return
    low, high = date_numbers([min(days), max(days)])
    ax.set_xlim(low - 0.5, high + 0.5)
    # matplotlib.dates has no type hints.
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def say_no_data(ax: Axes, text: str) -> None:
    ax.set_yticks([])
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#57606a")


def trend_png(
    points: list[Point],
    sps: list[Point],
    *,
    title: str,
    milestones: Sequence[int],
) -> bytes:
    """A PNG line chart: AHR with labelled milestone lines, SPS (tenths, shown 0-5) on its own axis.

    SPS goes on a secondary axis when AHR is drawn, else on the main one. Pass no AHR points and
    no milestones for a 48-point region. With no data at all the chart says so.
    """
    ahr_known = known(points)
    sps_known = known(sps, scored_only=True)

    def paint(fig: Figure) -> None:
        ax = fig.add_subplot()
        lines = []
        if ahr_known:
            (ahr_line,) = ax.plot(
                date_numbers([day for day, _ in points]),
                _with_gaps(points, scale=1.0, scored_only=False),
                color=AHR_COLOUR,
                linewidth=2,
                label="AHR",
                marker="o",
                markersize=_marker_size(len(points)),
            )
            lines.append(ahr_line)
            top = max(250, max(v for _, v in ahr_known) + 30)
            ax.set_ylim(0, top)
            ax.set_ylabel("AHR", color=AHR_COLOUR)
            for score in sorted(milestones, reverse=True):
                if 0 < score < top:
                    ax.axhline(score, color=MILESTONE_COLOUR, linestyle="--", linewidth=0.8, alpha=0.7)
                    ax.text(
                        0.005,
                        score,
                        f"{score} milestone",
                        transform=ax.get_yaxis_transform(),
                        color=MILESTONE_COLOUR,
                        fontsize=7,
                        va="bottom",
                        ha="left",
                    )
        if sps_known:
            sps_ax = ax.twinx() if ahr_known else ax
            (sps_line,) = sps_ax.plot(
                date_numbers([day for day, _ in sps]),
                _with_gaps(sps, scale=0.1, scored_only=True),
                color=SPS_COLOUR,
                linewidth=1.6,
                label="SPS",
                marker="o",
                markersize=_marker_size(len(sps)),
            )
            lines.append(sps_line)
            sps_ax.set_ylim(0, SPS_MAX)
            sps_ax.set_ylabel("SPS (0-5)", color=SPS_COLOUR)
        if not lines:
            say_no_data(ax, "No scores for this period")
        date_axis(ax, sorted({day for day, _ in points} | {day for day, _ in sps}))
        ax.grid(axis="y", alpha=0.25)
        ax.set_title(title, fontsize=10, loc="left")
        if lines:
            ax.legend(handles=lines, loc="best", fontsize=8, framealpha=0.8)

    return draw_png(paint)


def _with_gaps(points: Sequence[Point], *, scale: float, scored_only: bool) -> list[float]:
    """y values for matplotlib, NaN where a day has no value: a NaN breaks the line there."""
    return [
        math.nan if v is None or (scored_only and v <= 0) else v * scale  # 0 = not scored yet, not "bad"
        for _, v in points
    ]


def date_numbers(days: Sequence[dt.date]) -> list[float]:
    """Dates as matplotlib date numbers (days since its epoch), which its date axes understand."""
    from matplotlib import dates as mdates

    return [float(x) for x in mdates.date2num(list(days))]  # type: ignore[no-untyped-call]


def _marker_size(count: int) -> float:
    # A day between two gaps has no line to draw; a marker keeps it visible.
    return 3.0 if count <= 60 else 1.6


@dataclass(frozen=True)
class ShopTrend:
    """One shop's chart: its series, title and milestone lines (none for a 48-point region)."""

    title: str
    ahr: list[Point]
    sps: list[Point]
    milestones: list[int]
    points_region: bool

    @property
    def empty(self) -> bool:
        return not known(self.ahr) and not known(self.sps, scored_only=True)

    def png(self) -> bytes:
        return trend_png(self.ahr, self.sps, title=self.title, milestones=self.milestones)


def shop_trend(session: Session, shop: ShopInfo, days: int, *, uk_48_point: bool = False) -> ShopTrend:
    days = clamp_days(days)
    ahr, sps = trend_series(session, shop.shop_id, days)
    points_region = domain.uses_penalty_points(shop.region, uk_48_point=uk_48_point)
    if points_region:
        ahr = []  # no AHR and no AHR advice for a 48-point shop (DOMAIN.md "Regions")
    milestones = [] if points_region else [m.score for m in domain.milestones_for(shop.region) if m.score > 0]
    title = chart_title(shop.shop_name, shop.shop_code, days, points_region=points_region)
    return ShopTrend(title, ahr, sps, milestones, points_region)
