"""The portfolio over time (`/health trend portfolio`): sellers per AHR band and GMV at risk per day,
on SQLite and PostgreSQL alike (each has its own date arithmetic for "the day before")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from bot.domain import AhrBand
from bot.ingest.formats import Kind
from bot.services.portfolio_trend import portfolio_png, portfolio_trend
from bot.services.records import PortfolioTrend
from tests.conftest import TODAY
from tests.support.data import load, metric, shop

DAY = dt.timedelta(days=1)


def test_bands_and_gmv_at_risk_per_day(factory: sessionmaker[Session]) -> None:
    load(
        factory,
        Kind.SHOPS,
        [
            shop("S1", "US1"), shop("S2", "US2"), shop("S3", "US3"),
            shop("P1", "PH1", region="PH"),  # 48-point: no AHR band, counted on SPS
            shop("X1", "US9", authorized="false"),  # never counted
        ],
    )  # fmt: skip
    two_days_ago, yesterday = TODAY - 2 * DAY, TODAY - DAY
    load(
        factory,
        Kind.METRICS,
        [
            metric("S1", two_days_ago, 300, "4.5", 1000.0),
            metric("S1", yesterday, 300, "4.5", 1000.0),
            metric("S1", TODAY, 270, "4.5", 1000.0),  # fell 30: at risk today
            metric("S2", yesterday, 180, "4.0", 200.0),
            metric("S2", TODAY, 180, "3.4", 200.0),  # SPS fell 0.6: at risk
            metric("S3", TODAY, 40, "0", 50.0),  # Poor: critical
            metric("P1", yesterday, 30, "4.8", 70.0),  # its AHR is ignored
            metric("P1", TODAY, 5, "2.0", 70.0),  # SPS critical: at risk
            metric("X1", TODAY, 0, "1.0", 999.0),
        ],
    )
    with factory() as session:
        trend = portfolio_trend(session, 7)
    assert len(trend.points) == 7 and trend.points[-1].day == TODAY
    first, before, now = trend.points[-3], trend.points[-2], trend.points[-1]
    assert first.bands[AhrBand.EXCELLENT] == 1 and first.at_risk == 0
    assert before.bands == {AhrBand.EXCELLENT: 1, AhrBand.FAIR: 1, AhrBand.POOR: 0, AhrBand.DEACTIVATED: 0}
    assert before.at_risk == 0 and before.gmv_at_risk == 0.0
    assert now.bands == {AhrBand.EXCELLENT: 1, AhrBand.FAIR: 1, AhrBand.POOR: 1, AhrBand.DEACTIVATED: 0}
    assert now.at_risk == 4 and now.gmv_at_risk == 1320.0
    assert trend.points[0].scored == 0  # no data that day: zeros, never made up
    assert trend.first == first and trend.last == now


def test_a_gap_is_no_drop(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("S1")])
    load(
        factory,
        Kind.METRICS,
        [metric("S1", TODAY - 2 * DAY, 300, None, 10.0), metric("S1", TODAY, 200, None, 10.0)],
    )
    with factory() as session:
        assert portfolio_trend(session, 7).points[-1].at_risk == 0  # no value the day before


def test_empty_portfolio(session: Session) -> None:
    trend = portfolio_trend(session, 90)
    assert trend.points == [] and trend.last is None


def test_the_chart_is_a_png(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("S1")])
    load(
        factory,
        Kind.METRICS,
        [metric("S1", TODAY - DAY, 300, "4.5", 10.0), metric("S1", TODAY, 40, "4.5", 10.0)],
    )
    with factory() as session:
        trend = portfolio_trend(session, 30)
    png = portfolio_png(trend)
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert portfolio_png(PortfolioTrend(30, [])).startswith(b"\x89PNG")  # says "no scores", never fails
