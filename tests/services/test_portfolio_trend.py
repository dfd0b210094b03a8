"""The portfolio over time (`/health trend portfolio`): sellers per AHR band and GMV at risk per day,
on SQLite and PostgreSQL alike (each has its own date arithmetic for "the day before")."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import PortfolioDayStats
from bot.domain import AhrBand
from bot.ingest.formats import Kind
from bot.ingest.importer import SMALL_IMPORT
from bot.services.digest_records import PortfolioTrend
from bot.services.portfolio_trend import portfolio_png, portfolio_trend
from tests.conftest import TODAY
from tests.support.data import load, metric, shop
from tests.support.statements import statements_sent

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


def _stored(factory: sessionmaker[Session]) -> dict[tuple[dt.date, str], tuple[object, ...]]:
    with factory() as session:
        return {
            (r.day, r.region): (r.excellent, r.fair, r.poor, r.deactivated, r.ahr_risk, r.sps_risk)
            for r in session.scalars(select(PortfolioDayStats))
        }


def test_a_correction_forgets_the_days_it_touches_and_a_read_stores_them_again(
    factory: sessionmaker[Session],
) -> None:
    load(factory, Kind.SHOPS, [shop("S1"), shop("U1", "UK1", region="UK")])
    load(factory, Kind.METRICS, [metric(s, TODAY - DAY, 300, "4.5", 10.0) for s in ("S1", "U1")])
    load(factory, Kind.METRICS, [metric("S1", TODAY, 300, "4.5", 10.0), metric("U1", TODAY, 260, "3.0", 5.0)])
    with factory() as session:
        portfolio_trend(session, 7)
    assert _stored(factory)[(TODAY, "US")] == (1, 0, 0, 0, 0, 0)
    # A corrected file for yesterday changes yesterday and today's drops (which compare with it).
    load(factory, Kind.METRICS, [metric("S1", TODAY - DAY, 340, "4.5", 10.0)])
    assert {day for day, _ in _stored(factory)} == set()  # both forgotten, nothing else was kept
    with factory() as session:
        as_ahr = portfolio_trend(session, 7).last
        as_points = portfolio_trend(session, 7, uk_48_point=True).last
    assert _stored(factory)[(TODAY, "US")] == (1, 0, 0, 0, 1, 0)  # 340 -> 300: fell 40
    assert as_ahr is not None and as_points is not None
    # The UK setting applies at read time: on AHR, its shop is Excellent and at risk for SPS 3.0
    # (fell 1.5); on the 48-point system it has no band and counts for its SPS only.
    assert as_ahr.bands[AhrBand.EXCELLENT] == 2 and as_ahr.at_risk == 2
    assert as_points.bands[AhrBand.EXCELLENT] == 1 and as_points.at_risk == 2


def test_a_large_import_stores_the_days_it_brings_and_the_day_after(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("S1")])
    days = [TODAY - n * DAY for n in range(SMALL_IMPORT + 1)]  # more rows than a correction
    load(
        factory,
        Kind.METRICS,
        [metric("S1", day, 300 - (n % 2) * 40, "4.5", 10.0) for n, day in enumerate(days)],
    )
    stored = _stored(factory)
    assert len(stored) == len(days)  # the day after the newest has no scores: nothing to keep
    assert stored[(TODAY, "US")] == (1, 0, 0, 0, 0, 0) and stored[(TODAY - DAY, "US")] == (1, 0, 0, 0, 1, 0)


def test_days_imported_before_they_were_kept_are_computed_once_when_asked(
    factory: sessionmaker[Session],
) -> None:
    load(factory, Kind.SHOPS, [shop("S1")])
    load(factory, Kind.METRICS, [metric("S1", TODAY - d * DAY, 300 - 25 * d, "4.5", 10.0) for d in range(3)])
    with factory() as session:
        before = portfolio_trend(session, 7)
    kept = _stored(factory)
    with factory() as session, session.begin():
        session.execute(delete(PortfolioDayStats))  # as after the upgrade that added the table
    with factory() as session:
        assert portfolio_trend(session, 7) == before
    assert _stored(factory) == kept  # stored again by the read


def test_days_apart_are_stored_in_runs_each_compared_with_the_day_before_it(
    factory: sessionmaker[Session],
) -> None:
    shops = _shops_for_two_days(factory)
    load(factory, Kind.METRICS, [metric("S0", TODAY - 3 * DAY, 300, "4.5", 10.0)])  # stored before
    load(
        factory,
        Kind.METRICS,
        [metric(s, TODAY - 5 * DAY, 300, "4.5", 10.0) for s in shops]
        + [metric(s, TODAY - 2 * DAY, 250 if s == "S0" else 300, "4.5", 10.0) for s in shops],
    )
    stored = _stored(factory)
    # On PostgreSQL two runs (5 and 4 days ago; 2 days ago and yesterday; SQLite: a day at a time):
    # the second run's first day compares with a day outside both (3 days ago, from the earlier
    # file): S0 fell 50.
    assert {day for day, _ in stored} == {TODAY - 5 * DAY, TODAY - 2 * DAY}  # no scores on the others
    assert stored[(TODAY - 5 * DAY, "US")] == (len(shops), 0, 0, 0, 0, 0)
    assert stored[(TODAY - 2 * DAY, "US")] == (len(shops), 0, 0, 0, 1, 0)  # 250 is still Excellent


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_day_and_the_day_before_are_read_from_the_date_index_alone(factory: sessionmaker[Session]) -> None:
    # A day's snapshots lie a page each in the table (stored shop by shop); the date index carries
    # the scores. SQLite is told to look the day before up there too: on its own it takes the
    # primary key (one table page a lookup) when it has no statistics or those of a small table.
    shops = _shops_for_two_days(factory)
    engine = factory.kw["bind"]
    with statements_sent(engine) as sent:
        load(
            factory,
            Kind.METRICS,
            [metric(s, TODAY - n * DAY, 300, "4.5", 10.0) for s in shops for n in (0, 1)],
        )
    trend = [(sql, params) for sql, params in sent if "GROUP BY shops.region" in sql]
    assert len(trend) == 3  # yesterday, today, and the day after (no scores)
    with engine.connect() as conn:
        for sql, params in trend:
            plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
            reads = [step for step in plan if "metric_snapshots" in step]
            assert len(reads) == 2, plan
            assert all("COVERING INDEX ix_metric_snapshots_date_scores" in step for step in reads), plan


def _shops_for_two_days(factory: sessionmaker[Session]) -> list[str]:
    """Enough shops that two days of their scores make a large import (not a correction)."""
    shops = [f"S{n}" for n in range(SMALL_IMPORT // 2 + 1)]
    load(factory, Kind.SHOPS, [shop(s, f"C{s}") for s in shops])
    return shops
