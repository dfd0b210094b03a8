"""Each source's freshness (bot.services.health), on both backends."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from dataclasses import astuple

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.db.models import DataRefresh, MetricSnapshot, PortfolioAnswer, Shop, ShopHealth
from bot.domain import Score, Window
from bot.ingest.demo import DemoSize, load_demo
from bot.ingest.formats import Kind
from bot.ingest.importer import import_source
from bot.services import health
from bot.services import portfolio as portfolio_service
from bot.services.access import deauthorize, set_authorization
from bot.services.attention import Lens, explain, lens_for
from bot.services.cache import question_key, stored
from bot.services.filters import seller_row, seller_select
from bot.services.followup import assign_owner
from bot.services.groups import Group
from bot.services.health import aware, data_version, freshness, rebuild_shop_health, record_refresh
from bot.services.portfolio import GROUPS, PAGE, PAGE_SIZE, Moved, at_risk, data_changed, overview
from bot.services.records import ListFilter, Page
from bot.settings import Settings
from tests.conftest import TODAY
from tests.support.data import account, load, metric, shop, violation
from tests.support.statements import statements_sent

# ---- freshness ----


def test_freshness_after_an_import(factory: sessionmaker[Session], banded: None) -> None:
    with factory() as session:
        fresh = freshness(session)
    assert fresh.data_date == TODAY
    assert fresh.refreshed_at is not None
    assert fresh.refreshed_at.tzinfo is not None
    assert fresh.stale_sources == () and fresh.failing_sources == ()


def test_freshness_stale_after_36_hours(factory: sessionmaker[Session], banded: None) -> None:
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    with factory() as session, session.begin():
        record_refresh(session, "csv", now=now - dt.timedelta(hours=36))
        record_refresh(session, "tiktok", now=now - dt.timedelta(hours=36, minutes=1))
    with factory() as session:
        fresh = freshness(session, now=now)
    assert fresh.stale_sources == ("tiktok",)
    assert fresh.refreshed_at == now - dt.timedelta(hours=36)


def test_freshness_failing_source_keeps_its_last_success(
    factory: sessionmaker[Session], banded: None
) -> None:
    now = dt.datetime.now(dt.UTC)
    with factory() as session, session.begin():
        record_refresh(session, "tiktok", now=now - dt.timedelta(hours=2))
    with factory() as session, session.begin():
        record_refresh(session, "tiktok", error="401 Unauthorized", now=now)
        record_refresh(session, "never", error="timeout", now=now)
    with factory() as session:
        fresh = freshness(session, now=now)
        row = session.get(DataRefresh, "tiktok")
    assert fresh.failing_sources == ("never", "tiktok")
    assert row is not None and row.last_error == "401 Unauthorized"
    assert row.refreshed_at is not None
    assert aware(row.refreshed_at) == now - dt.timedelta(hours=2)
    # a later success clears the failure
    with factory() as session, session.begin():
        record_refresh(session, "tiktok", now=now)
    with factory() as session:
        assert freshness(session, now=now).failing_sources == ("never",)


# ---- incremental shop_health ----


def _health(factory: sessionmaker[Session]) -> dict[str, tuple[object, ...]]:
    with factory() as session:
        return {
            h.shop_id: (h.as_of, h.ahr, h.ahr_1d, h.ahr_7d, h.sps_tenths, h.chr, h.chr_1d, h.chr_7d, h.gmv_7d)
            for h in session.scalars(select(ShopHealth))
        }


def _mark(factory: sessionmaker[Session], shop_id: str) -> None:
    """Write a value no recompute would give, to see whether a later import recomputes the row."""
    with transaction(factory) as session:
        session.execute(update(ShopHealth).where(ShopHealth.shop_id == shop_id).values(ahr_7d=999))


def test_an_import_recomputes_only_the_shops_it_touched(factory: sessionmaker[Session]) -> None:
    yesterday = TODAY - dt.timedelta(days=1)
    load(factory, Kind.SHOPS, [shop("A"), shop("B")])
    load(factory, Kind.METRICS, [metric(s, d, 300, "4.0", 10) for s in "AB" for d in (yesterday, TODAY)])
    _mark(factory, "B")
    load(factory, Kind.METRICS, [metric("A", TODAY, 250, "4.0", 12)])
    health = _health(factory)
    assert health["A"][1:3] == (250, 300) and health["A"][-1] == 12
    assert health["B"][3] == 999  # untouched: not recomputed


def test_a_new_latest_day_recomputes_every_shop(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("A"), shop("B")])
    load(factory, Kind.METRICS, [metric(s, TODAY - dt.timedelta(days=1), 300, "4.0", 10) for s in "AB"])
    _mark(factory, "B")
    load(factory, Kind.METRICS, [metric("A", TODAY, 250, "4.0", 12)])  # a new day, for one shop only
    health = _health(factory)
    assert health["B"] == (TODAY, None, 300, None, None, None, None, None, None)
    assert health["A"][:3] == (TODAY, 250, 300)


def test_incremental_rows_equal_a_full_rebuild(factory: sessionmaker[Session]) -> None:
    # Shops, metrics and accounts arriving in several imports give the rows a full rebuild gives.
    days = [TODAY - dt.timedelta(days=d) for d in (0, 1, 7)]
    load(factory, Kind.SHOPS, [shop("A"), shop("B"), shop("C")])
    load(factory, Kind.METRICS, [metric("A", d, 300 - i * 10, "4.0", 5) for i, d in enumerate(days)])
    load(factory, Kind.ACCOUNTS, [account("B", d, "b1", 500 + i * 30) for i, d in enumerate(days)])
    load(factory, Kind.ACCOUNTS, [account("B", d, "b2", 400 + i) for i, d in enumerate(days)])
    load(factory, Kind.METRICS, [metric("C", TODAY, None, "0", None), metric("A", days[1], 280, "3.5", 4)])
    load(factory, Kind.SHOPS, [shop("D")])
    incremental = _health(factory)
    with transaction(factory) as session:
        rebuild_shop_health(session)
    assert _health(factory) == incremental
    assert incremental["B"][5:8] == (400, 430, 460)  # worst account today; the largest fall per window
    assert set(incremental) == {"A", "B", "C", "D"}


@pytest.mark.parametrize("every_shop", [True, False])
def test_a_recompute_reads_no_rows_back_and_the_sessions_objects_follow(
    factory: sessionmaker[Session], every_shop: bool
) -> None:
    # An ORM UPDATE or DELETE may read back the key of every row it changed to keep the session
    # in step (at XL a million keys, the import's peak memory); the rows are written as a table,
    # and the objects the session holds are reloaded instead.
    load(factory, Kind.SHOPS, [shop("A"), shop("B", region="PH")])
    load(factory, Kind.METRICS, [metric(s, TODAY, 300, "4.0", 10) for s in "AB"])
    load(factory, Kind.VIOLATIONS, [violation("V1", "B", TODAY, points=12)])
    with transaction(factory) as session:
        held = session.get_one(ShopHealth, "A")
        assert held.ahr == 300
        session.execute(update(MetricSnapshot).where(MetricSnapshot.shop_id == "A").values(ahr=120))
        with statements_sent(factory.kw["bind"]) as sent:
            touched = None if every_shop else select(Shop.shop_id).where(Shop.shop_id == "A")
            health.refresh_shop_health(session, touched)
        assert held.ahr == 120  # reloaded, not the value read before
        assert session.get_one(ShopHealth, "B").points == 12
    assert sent and not [s for s, _ in sent if "RETURNING" in s.upper()]


# ---- portfolio answers stored with the change ----


def test_an_import_stores_the_portfolio_answers_for_its_stamp(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("A"), shop("B", authorized="false")])
    load(factory, Kind.METRICS, [metric("A", TODAY, 40, "4.0", 10)])
    with factory() as session:
        stamp = data_version(session)
        stored = {a.question: a.stamp for a in session.scalars(select(PortfolioAnswer))}
    assert stored and set(stored.values()) == {stamp}
    assert set(stored) == {"groups"}  # what every count is made from, whatever the day or window
    # Every worker reads them as stored: change the stored groups and a request sees the change.
    with transaction(factory) as session:
        row = session.get(PortfolioAnswer, "groups")
        assert row is not None
        groups = json.loads(row.body)
        (hidden,) = [g for g in groups if not g[0]]  # the shops without authorization
        hidden[9] = 41
        row.body = json.dumps(groups)
    with factory() as session:
        assert overview(session, Lens(TODAY)).unauthorized == 41
        assert [r.shop_id for r in at_risk(session, Lens(TODAY)).rows] == ["A"]


def test_an_import_with_the_apps_settings_stores_todays_totals(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    # Given the settings the app answers with, the change also stores the overview's totals as
    # the commands ask by default: the first request after it, in any worker, reads one row.
    load(factory, Kind.SHOPS, [shop("A"), shop("B", authorized="false")])
    numbered = [(2, {"date": str(TODAY), "shop_id": "A", "ahr": "40", "sps": "4.0", "gmv_7d": "10"})]
    import_source(factory, Kind.METRICS, numbered, source="test", settings=settings)
    day, week = lens_for(settings), lens_for(settings, Window.WEEK)
    with factory() as session:
        stamp = data_version(session)
        stored = {a.question: a for a in session.scalars(select(PortfolioAnswer))}
        assert {a.stamp for a in stored.values()} == {stamp}  # older stamps' answers are gone
        assert set(stored) == {
            "groups",
            question_key(("totals", *day.key())),
            question_key(("atrisk", tuple(Score), "", 0, PAGE_SIZE, *day.key())),
            question_key(("list", ListFilter(), 0, PAGE_SIZE, *day.key())),
        }
        assert json.loads(stored[question_key(("totals", *day.key()))].body) == portfolio_service._totals(
            session, day
        )
        row = stored[question_key(("totals", *day.key()))]
        changed = json.loads(row.body)
        changed["unauthorized"] = 41
        row.body = json.dumps(changed)
        session.commit()
    with factory() as session:
        assert overview(session, day).unauthorized == 41  # read as stored, not worked out again
        assert overview(session, week).unauthorized == 1  # worked out from the stored groups


# ---- penalty points and restrictions kept with the health ----


def test_penalty_points_of_48_point_shops_are_kept_with_their_health(factory: sessionmaker[Session]) -> None:
    ago = lambda days: TODAY - dt.timedelta(days=days)  # noqa: E731
    load(factory, Kind.SHOPS, [shop("PH1", region="PH"), shop("US1")])
    load(factory, Kind.METRICS, [metric(s, TODAY, 400, "4.0", 100) for s in ("PH1", "US1")])
    load(
        factory,
        Kind.VIOLATIONS,
        [
            violation("V1", "PH1", ago(100), points=12),
            violation("V2", "PH1", ago(30), points=12),
            violation("V3", "PH1", ago(3), points=12),
            violation("V4", "PH1", TODAY, points=8),  # today: not yet in the day before
            violation("V5", "PH1", ago(181), points=12),  # out of the 180 days
            violation("V6", "PH1", ago(5), points=12, enforcement_status="Revoked"),  # a won appeal
            violation("V7", "US1", ago(3), points=12),
        ],
    )
    with factory() as session:
        rows = {h.shop_id: (h.points, h.points_1d, h.points_7d) for h in session.scalars(select(ShopHealth))}
        lens = Lens(TODAY)
        data = overview(session, lens)
        listed = at_risk(session, lens, reason="points")
    assert rows["PH1"] == (44, 36, 36)  # a week ago V5 was still in the window, V3 and V4 not yet
    assert rows["US1"] == (None, None, None)  # an AHR shop has no penalty points
    assert data.points_shops == 1 and data.points == (0, 1)  # 44 >= 36: critical
    assert data.counts[Score.AHR] == (0, 0)  # the PH shop's AHR 400 (Poor) is not counted
    (row,) = listed.rows
    assert row.shop_id == "PH1" and any("44" in reason for reason in row.reasons)


def test_a_restriction_in_force_is_kept_with_its_end(factory: sessionmaker[Session]) -> None:
    ago = lambda days: TODAY - dt.timedelta(days=days)  # noqa: E731
    load(factory, Kind.SHOPS, [shop("NOW"), shop("OVER"), shop("HIGH")])
    load(
        factory,
        Kind.METRICS,
        [
            *(metric("NOW", ago(d), ahr) for d, ahr in ((2, 160), (1, 152), (0, 112))),
            *(metric("OVER", ago(d), ahr) for d, ahr in ((20, 160), (19, 140), (0, 141))),
            *(metric("HIGH", ago(d), ahr) for d, ahr in ((1, 900), (0, 880))),
        ],
    )
    with factory() as session:
        kept = {h.shop_id: (h.restricted_until, h.restriction) for h in session.scalars(select(ShopHealth))}
        listed = at_risk(session, Lens(TODAY, Window.WEEK), reason="restricted")
    assert kept["NOW"] == (TODAY + dt.timedelta(days=7), 150)  # reached 150 today: 7 days
    assert kept["OVER"] == (None, None)  # 7 days from 19 days ago: lifted
    assert kept["HIGH"] == (None, None)
    assert [r.shop_id for r in listed.rows] == ["NOW"]
    assert any(f"{TODAY + dt.timedelta(days=7):%b %-d}" in reason for reason in listed.rows[0].reasons)


def test_restrictions_written_a_few_at_a_time_while_read_as_a_stream_are_all_kept(
    factory: sessionmaker[Session],
) -> None:
    ago = lambda days: TODAY - dt.timedelta(days=days)  # noqa: E731
    falls = {f"S{n}": (160, 150 - 10 * n) for n in range(5)}  # each reached 150 (or lower) today
    load(factory, Kind.SHOPS, [shop(shop_id) for shop_id in falls])
    rows = [
        metric(s, ago(d), ahr) for s, (before, now) in falls.items() for d, ahr in ((1, before), (0, now))
    ]
    load(factory, Kind.METRICS, rows)
    with factory() as session:
        kept = {h.shop_id: (h.restricted_until, h.restriction) for h in session.scalars(select(ShopHealth))}
        session.execute(update(ShopHealth).values(restricted_until=None, restriction=None))
        health._set_restrictions(session, None, TODAY, batch=2)  # reads and writes interleaved
        session.flush()
        session.expire_all()
        again = {h.shop_id: (h.restricted_until, h.restriction) for h in session.scalars(select(ShopHealth))}
    assert sum(1 for until, _ in kept.values() if until) == len(falls) and again == kept


def test_the_first_pages_stored_with_a_change_are_the_pages_a_request_would_read(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    load_demo(factory, DemoSize(shops=120, days=10), settings.today())
    lens = lens_for(settings)
    with factory() as session:
        shop_id = session.scalars(select(ShopHealth.shop_id).limit(1)).one()
        deauthorize(session, shop_id)  # a seller who lost access: its row carries when
    with transaction(factory) as session:
        data_changed(session, settings)
    with factory() as session:
        stored = {a.question: json.loads(a.body) for a in session.scalars(select(PortfolioAnswer))}
        at_risk_page = portfolio_service._at_risk(session, lens, tuple(Score), None, 0, PAGE_SIZE)
        list_page = portfolio_service._seller_list(session, ListFilter(), lens, 0, PAGE_SIZE)
        # every kind of value a row holds (dates, times, reasons), read back as it was
        everyone = explain(
            session, [seller_row(v) for v in session.execute(seller_select(lens.window))], lens
        )
    assert (
        PAGE.decode(stored[question_key(("atrisk", tuple(Score), "", 0, PAGE_SIZE, *lens.key()))])
        == at_risk_page
    )
    assert PAGE.decode(stored[question_key(("list", ListFilter(), 0, PAGE_SIZE, *lens.key()))]) == list_page
    assert at_risk_page.rows and at_risk_page.total > PAGE_SIZE
    page = Page(everyone, len(everyone), 0, len(everyone))
    assert any(r.restricted_until for r in everyone) and any(r.access_lost_at for r in everyone)
    assert any(r.why for r in everyone)
    assert PAGE.decode(json.loads(json.dumps(PAGE.encode(page)))) == page


def _multiset(groups: list[Group]) -> Counter[tuple[object, ...]]:
    return Counter((*astuple(g)[:-1], round(g.gmv, 2)) for g in groups)


# A group no shop is in: where it shows, stored groups were moved, not counted again.
_ZZ = Group(False, False, "ZZ", 0, None, None, None, None, None, 5, 0, 0.0)


def test_a_small_import_moves_the_stored_groups_as_a_full_count_would(factory: sessionmaker[Session]) -> None:
    load_demo(factory, DemoSize(shops=80, days=10), TODAY)
    with factory() as session:
        day = session.scalar(select(func.max(MetricSnapshot.date)))
        shop_ids = list(session.scalars(select(ShopHealth.shop_id).order_by(ShopHealth.shop_id).limit(4)))
    # Scores that move these sellers into other groups (critical, dropped, recovered).
    load(
        factory,
        Kind.METRICS,
        [metric(s, day, ahr, "1.0", 5) for s, ahr in zip(shop_ids, (0, 40, 990, 151), strict=True)],
    )
    with factory() as session:
        stamp = data_version(session)
        assert stamp is not None
        moved = stored(session, ("groups",), stamp, GROUPS)
        assert moved is not None and _multiset(moved) == _multiset(portfolio_service._groups(session))
    # They were moved, not counted again: a group only the stored answer holds stays.
    with transaction(factory) as session:
        row = session.get(PortfolioAnswer, "groups")
        assert row is not None
        row.body = json.dumps([*json.loads(row.body), *GROUPS.encode([_ZZ])])
    load(factory, Kind.METRICS, [metric(shop_ids[0], day, 500, "4.0", 5)])
    with factory() as session:
        stamp = data_version(session)
        assert stamp is not None
        regions = {g.region for g in stored(session, ("groups",), stamp, GROUPS) or []}
    assert "ZZ" in regions


@pytest.mark.parametrize("current", [True, False])
def test_moved_groups_are_used_only_while_their_stamp_is_current(
    factory: sessionmaker[Session], settings: Settings, current: bool
) -> None:
    load_demo(factory, DemoSize(shops=30, days=3), TODAY)
    with factory() as session:
        since = data_version(session)
    if not current:  # another writer renews the stamp after the groups were read
        with transaction(factory) as session:
            assign_owner(session, session.scalars(select(Shop.shop_id).limit(1)).one(), "U2", settings)
    with transaction(factory) as session:  # moved groups that add a group no shop is in
        data_changed(session, settings, Moved(since, [], [_ZZ]))
    with factory() as session:
        stamp = data_version(session)
        assert stamp is not None
        regions = {g.region for g in stored(session, ("groups",), stamp, GROUPS) or []}
    assert ("ZZ" in regions) is current  # a stale stamp: counted again, so no such group


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)  # SQLite lets one writer run
def test_a_writer_waits_for_one_that_renewed_the_stamp_and_keeps_its_change(
    engine: Engine, factory: sessionmaker[Session], settings: Settings
) -> None:
    load_demo(factory, DemoSize(shops=30, days=3), TODAY)
    with factory() as session:
        lost, owned = session.scalars(select(Shop.shop_id).where(Shop.authorized).limit(2)).all()
    import_like = factory()
    # A writer that moves a shop between groups and renews the stamp, not committed yet.
    assert set_authorization(import_like, lost, False, dt.datetime.now(dt.UTC))
    data_changed(import_like, settings)
    writer = import_like.connection().connection.dbapi_connection
    assert writer is not None
    blocker = writer.info.backend_pid  # the server process holding the stamp's lock
    failures: list[BaseException] = []

    def assign() -> None:  # an owner change carries the stored groups over to its own stamp
        try:
            with transaction(factory) as session:
                assign_owner(session, owned, "U9", settings)
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    thread = threading.Thread(target=assign)
    thread.start()
    try:
        # The owner change is waiting for the writer's lock (autocommit: a fresh view each time).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            waiting = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
            deadline = time.monotonic() + 10
            while not conn.execute(waiting, {"pid": blocker}).scalar() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert conn.execute(waiting, {"pid": blocker}).scalar(), "the owner change never waited"
    finally:
        import_like.commit()
        import_like.close()
        thread.join(timeout=10)
    assert not failures and not thread.is_alive()
    with factory() as session:
        stamp = data_version(session)
        assert stamp is not None
        groups = stored(session, ("groups",), stamp, GROUPS)
        assert groups is not None and _multiset(groups) == _multiset(portfolio_service._groups(session))
