"""Domain services on both backends, with data written through the real importer (tests/helpers.load)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot import services
from bot.domain import Score
from bot.health import record_refresh
from bot.importer import Kind
from bot.services import ListFilter, SortKey, Window
from tests.conftest import TODAY
from tests.helpers import account, load, metric, shop, violation

D1 = TODAY - dt.timedelta(days=1)
D7 = TODAY - dt.timedelta(days=7)


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def codes(page: services.Page) -> list[str]:
    return [r.shop_code for r in page.rows]


def seed(
    factory: sessionmaker[Session],
    shops: Sequence[dict[str, object]],
    metrics: Sequence[dict[str, object]] = (),
    accounts: Sequence[dict[str, object]] = (),
    violations: Sequence[dict[str, object]] = (),
) -> None:
    load(factory, Kind.SHOPS, shops)
    if metrics:
        load(factory, Kind.METRICS, metrics)
    if accounts:
        load(factory, Kind.ACCOUNTS, accounts)
    if violations:
        load(factory, Kind.VIOLATIONS, violations)


# ---- overview ----


@pytest.fixture
def banded(factory: sessionmaker[Session]) -> None:
    """One shop per overview boundary (DOMAIN.md:20-23)."""
    seed(
        factory,
        [
            shop("a1", "A1"),
            shop("a2", "A2"),
            shop("a3", "A3"),
            shop("a4", "A4"),
            shop("a5", "A5"),
            shop("a6", "A6"),
            shop("u1", "U1", authorized="false", chr_authorized="false"),
            shop("c1", "C1", chr_authorized="false"),
            shop("p1", "P1", region="PH"),
        ],
        [
            metric("a1", TODAY, 51, "2.5", 10),
            metric("a2", TODAY, 199, "3.4", 20),
            metric("a3", TODAY, 50, "2.4", 30),
            metric("a4", TODAY, 0, "0.1", 40),
            metric("a5", TODAY, 200, "0", 50),
            metric("a6", TODAY, 200, "3.5", 60),
            metric("u1", TODAY, 10, "1.0", 1000),
            metric("c1", TODAY, 300, "4.0", 70),
            metric("p1", TODAY, None, "4.5", 80),
        ],
        [
            account("a1", TODAY, "a1", 151),
            account("a2", TODAY, "a2", 199),
            account("a3", TODAY, "a3", 150),
            account("a4", TODAY, "a4", 0),
            account("a5", TODAY, "a5", 200),
            account("a6", TODAY, "a6main", 400),
            account("a6", TODAY, "a6promo", 140),  # the shop's CHR is its worst account
            account("u1", TODAY, "u1", 10),
            account("c1", TODAY, "c1", 10),  # hidden: no Data Compass scope
        ],
    )


def test_overview_counts_per_score(factory: sessionmaker[Session], banded: None) -> None:
    with factory() as session:
        data = services.overview(session)
    assert data.counts[Score.AHR] == (2, 2)  # 51, 199 | 50, 0
    assert data.counts[Score.SPS] == (2, 2)  # 2.5, 3.4 | 2.4, 0.1; 0 unscored left out
    assert data.counts[Score.CHR] == (2, 3)  # 151, 199 | 150, 0, worst account 140; c1 hidden
    assert data.unauthorized == 1
    assert data.total == 9
    assert data.needs_action == 3  # a3, a4 critical; a6 critical by its worst account
    assert data.gmv_at_risk == pytest.approx(30 + 40 + 60)
    assert data.window is Window.DAY


def test_overview_leaves_out_a_seller_without_shop_access_even_with_chr_scope(
    factory: sessionmaker[Session],
) -> None:
    # DOMAIN.md:23 "Sellers that have not authorized the partner are left out of every count."
    seed(
        factory,
        [shop("u2", "U2", authorized="false", chr_authorized="true"), shop("ok", "OK")],
        [metric("u2", TODAY, 10, "1.0", 500), metric("ok", TODAY, 300, "4.0", 5)],
        [account("u2", TODAY, "u2", 10), account("ok", TODAY, "ok", 300)],
    )
    with factory() as session:
        data = services.overview(session)
    assert data.unauthorized == 1
    assert data.counts == {Score.AHR: (0, 0), Score.SPS: (0, 0), Score.CHR: (0, 0)}
    assert data.needs_action == 0
    assert data.gmv_at_risk == 0


def test_overview_of_an_empty_portfolio(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        data = services.overview(session)
    assert data.total == 0 and data.needs_action == 0 and data.gmv_at_risk == 0
    assert all(v == (0, 0) for v in data.counts.values())
    assert data.freshness.refreshed_at is None


# ---- needs action: drops over 1 and 7 days ----


@pytest.fixture
def drops(factory: sessionmaker[Session]) -> None:
    seed(
        factory,
        [shop(s, s.upper()) for s in ("d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8")],
        [
            # d1: AHR fell 21 since yesterday, nothing over the week
            metric("d1", TODAY, 200, "4.0", 100),
            metric("d1", D1, 221, "4.0", 100),
            metric("d1", D7, 200, "4.0", 100),
            # d2: AHR fell 30 over the week only
            metric("d2", TODAY, 200, "4.0", 200),
            metric("d2", D1, 200, "4.0", 200),
            metric("d2", D7, 230, "4.0", 200),
            # d3: AHR fell exactly 20: never action
            metric("d3", TODAY, 200, "4.0", 300),
            metric("d3", D1, 220, "4.0", 300),
            metric("d3", D7, 220, "4.0", 300),
            # d4: SPS fell 0.6 since yesterday, 0.1 over the week
            metric("d4", TODAY, 300, "3.5", 400),
            metric("d4", D1, 300, "4.1", 400),
            metric("d4", D7, 300, "3.6", 400),
            # d5: CHR fell 21 over the week (see accounts)
            metric("d5", TODAY, 300, "4.0", 500),
            metric("d5", D1, 300, "4.0", 500),
            metric("d5", D7, 300, "4.0", 500),
            # d6: SPS became unscored: no flag
            metric("d6", TODAY, 300, "0", 600),
            metric("d6", D1, 300, "4.0", 600),
            metric("d6", D7, 300, "4.0", 600),
            # d7: AHR unknown yesterday: no 1-day delta; fell 50 over the week
            metric("d7", TODAY, 200, "4.0", 700),
            metric("d7", D1, None, "4.0", 700),
            metric("d7", D7, 250, "4.0", 700),
            # d8: SPS fell exactly 0.5 (3.1 -> 2.6, inexact in binary floats) and AHR rose
            metric("d8", TODAY, 400, "2.6", 800),
            metric("d8", D1, 300, "3.1", 800),
            metric("d8", D7, 300, "3.1", 800),
        ],
        [
            *(
                account(s, d, s, 300)
                for s in ("d1", "d2", "d3", "d4", "d6", "d7", "d8")
                for d in (TODAY, D1, D7)
            ),
            account("d5", TODAY, "d5", 300),
            account("d5", D1, "d5", 300),
            account("d5", D7, "d5", 321),
        ],
    )


def test_needs_action_over_one_day(factory: sessionmaker[Session], drops: None) -> None:
    with factory() as session:
        assert services.overview(session, Window.DAY).needs_action == 2
        page = services.at_risk(session, window=Window.DAY)
    assert codes(page) == ["D4", "D1"]  # highest GMV first
    assert page.rows[0].reasons == ("SPS fell since yesterday (4.1 → 3.5)",)
    assert page.rows[1].reasons == ("AHR fell 21 since yesterday (221 → 200)",)


def test_needs_action_over_seven_days(factory: sessionmaker[Session], drops: None) -> None:
    with factory() as session:
        data = services.overview(session, Window.WEEK)
        page = services.at_risk(session, window=Window.WEEK)
    assert data.needs_action == 3
    assert data.gmv_at_risk == pytest.approx(200 + 500 + 700)
    assert codes(page) == ["D7", "D5", "D2"]
    assert page.rows[0].reasons == ("AHR fell 50 in 7 days (250 → 200)",)
    assert page.rows[1].reasons == ("CHR fell 21 in 7 days (lowest account now 300)",)
    assert page.rows[2].reasons == ("AHR fell 30 in 7 days (230 → 200)",)
    assert (page.rows[2].ahr, page.rows[2].ahr_then) == (200, 230)


def test_at_risk_filtered_by_score(factory: sessionmaker[Session], drops: None) -> None:
    with factory() as session:
        assert codes(services.at_risk(session, scores=(Score.SPS,))) == ["D4"]
        assert codes(services.at_risk(session, scores=(Score.AHR,))) == ["D1"]
        assert codes(services.at_risk(session, scores=(Score.CHR,))) == []
        assert codes(services.at_risk(session, scores=(Score.CHR,), window=Window.WEEK)) == ["D5"]
        page = services.at_risk(session, scores=(Score.AHR, Score.CHR), window=Window.WEEK)
    assert codes(page) == ["D7", "D5", "D2"]


def test_at_risk_includes_critical_bands_with_reasons(factory: sessionmaker[Session], banded: None) -> None:
    with factory() as session:
        page = services.at_risk(session)
    assert codes(page) == ["A6", "A4", "A3"]
    assert page.rows[0].reasons == ("CHR 140 is Critical",)
    assert page.rows[1].reasons == (
        "AHR 0 is Deactivated",
        "SPS 0.1 is critical",
        "CHR 0 is Permanently suspended",
    )
    assert page.rows[2].reasons == ("AHR 50 is Poor", "SPS 2.4 is critical", "CHR 150 is Critical")
    assert page.total == 3 and page.remaining == 0


def test_at_risk_pages(factory: sessionmaker[Session]) -> None:
    ids = [f"r{n:02d}" for n in range(12)]
    seed(
        factory,
        [shop(i, i.upper()) for i in ids],
        [metric(i, TODAY, 10, "4.0", None if n == 0 else n * 100) for n, i in enumerate(ids)],
    )
    with factory() as session:
        first = services.at_risk(session, offset=0, limit=5)
        middle = services.at_risk(session, offset=5, limit=5)
        last = services.at_risk(session, offset=10, limit=5)
    assert codes(first) == ["R11", "R10", "R09", "R08", "R07"]
    assert (first.total, first.offset, first.limit, first.remaining) == (12, 0, 5, 7)
    assert codes(middle) == ["R06", "R05", "R04", "R03", "R02"]
    assert middle.remaining == 2
    assert codes(last) == ["R01", "R00"]  # unknown GMV last
    assert last.remaining == 0


# ---- the health list ----


@pytest.fixture
def portfolio(factory: sessionmaker[Session]) -> None:
    seed(
        factory,
        [
            shop("e1", "E1", "Aurora"),
            shop("f1", "F1", "Bloom"),
            shop("p1", "P1", "Cedar"),
            shop("x1", "X1", "Dune"),
            shop("n1", "N1", "Ember"),  # no data at all
            shop("e2", "E2", "Fable"),
            shop("u1", "U1", "Glow", authorized="false", chr_authorized="false"),
            shop("c1", "C1", "Harbor", chr_authorized="false"),
        ],
        [
            metric("e1", TODAY, 300, "4.6", 500),
            metric("f1", TODAY, 120, "3.0", 400),
            metric("f1", D7, 150, "3.0", 400),
            metric("p1", TODAY, 30, "1.5", 300),
            metric("x1", TODAY, 0, "0", 200),
            metric("e2", TODAY, 250, "3.6", 100),
            metric("e2", D1, 280, "3.6", 100),
            metric("e2", D7, 260, "3.6", 100),
            metric("u1", TODAY, 10, "1.0", 1000),
            metric("c1", TODAY, 210, "4.0", 50),
        ],
        [
            account("e1", TODAY, "e1", 250),
            account("f1", TODAY, "f1", 170),
            account("p1", TODAY, "p1", 100),
            account("x1", TODAY, "x1", 0),
            account("e2", TODAY, "e2", 200),
            account("u1", TODAY, "u1", 10),
            account("c1", TODAY, "c1", 5),
        ],
    )


def listed(factory: sessionmaker[Session], **filters: object) -> list[str]:
    with factory() as session:
        page = services.seller_list(session, ListFilter(**filters), limit=50)  # type: ignore[arg-type]
    assert page.total == len(page.rows)
    return codes(page)


@pytest.mark.parametrize(
    ("band", "expected"),
    [("excellent", {"E1", "E2", "C1"}), ("fair", {"F1"}), ("poor", {"P1"}), ("deactivated", {"X1"})],
)
def test_list_by_ahr_band(
    factory: sessionmaker[Session], portfolio: None, band: str, expected: set[str]
) -> None:
    assert set(listed(factory, ahr=band)) == expected


@pytest.mark.parametrize(
    ("band", "expected"),
    [
        ("0-2.5", {"P1"}),
        ("2.5-3.5", {"F1"}),
        ("3.5-4.5", {"E2", "C1"}),
        ("4.5-5", {"E1"}),
        ("unscored", {"X1", "N1"}),
    ],
)
def test_list_by_sps_band(
    factory: sessionmaker[Session], portfolio: None, band: str, expected: set[str]
) -> None:
    assert set(listed(factory, sps=band)) == expected


@pytest.mark.parametrize(
    ("band", "expected"),
    [("healthy", {"E1", "E2"}), ("careful", {"F1"}), ("critical", {"P1"}), ("suspended", {"X1"})],
)
def test_list_by_chr_band(
    factory: sessionmaker[Session], portfolio: None, band: str, expected: set[str]
) -> None:
    assert set(listed(factory, chr=band)) == expected


def test_list_by_action_and_window(factory: sessionmaker[Session], portfolio: None) -> None:
    assert listed(factory, action=(Score.AHR,)) == ["E2"]
    assert listed(factory, action=(Score.AHR,), window=Window.WEEK) == ["F1"]
    assert listed(factory, action=(Score.SPS, Score.CHR)) == []
    assert listed(factory, ahr="excellent", chr="healthy", action=(Score.AHR,)) == ["E2"]
    assert listed(factory, ahr="fair", sps="2.5-3.5", chr="careful") == ["F1"]
    assert listed(factory, ahr="fair", chr="healthy") == []
    with factory() as session:
        page = services.seller_list(session, ListFilter(action=(Score.AHR,)))
    assert page.rows[0].reasons == ("AHR fell 30 since yesterday (280 → 250)",)


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        (SortKey.GMV, True, ["E1", "F1", "P1", "X1", "E2", "C1", "N1", "U1"]),
        (SortKey.GMV, False, ["C1", "E2", "X1", "P1", "F1", "E1", "N1", "U1"]),
        (SortKey.AHR, True, ["E1", "E2", "C1", "F1", "P1", "X1", "N1", "U1"]),
        (SortKey.AHR, False, ["X1", "P1", "F1", "C1", "E2", "E1", "N1", "U1"]),
        (SortKey.CHR, True, ["E1", "E2", "F1", "P1", "X1", "C1", "N1", "U1"]),
        (SortKey.CHR, False, ["X1", "P1", "F1", "E2", "E1", "C1", "N1", "U1"]),
    ],
)
def test_list_sorts_with_unknowns_last(
    factory: sessionmaker[Session], portfolio: None, sort: SortKey, descending: bool, expected: list[str]
) -> None:
    # Hidden values (u1 not authorized, c1 without CHR scope) sort as unknown, after every known one.
    assert listed(factory, sort=sort, descending=descending) == expected


def test_list_sorts_by_sps_with_unscored_and_unknown_last(
    factory: sessionmaker[Session], portfolio: None
) -> None:
    # DOMAIN.md:16 SPS 0 means "not scored yet, never bad": it is not the worst score.
    desc = listed(factory, sort=SortKey.SPS, descending=True)
    asc = listed(factory, sort=SortKey.SPS, descending=False)
    assert desc[:5] == ["E1", "C1", "E2", "F1", "P1"]
    assert asc[:5] == ["P1", "F1", "E2", "C1", "E1"]
    assert set(desc[5:]) == set(asc[5:]) == {"X1", "N1", "U1"}


def test_list_paging(factory: sessionmaker[Session], portfolio: None) -> None:
    with factory() as session:
        page = services.seller_list(session, ListFilter(), offset=3, limit=2)
    assert codes(page) == ["X1", "E2"]
    assert (page.total, page.remaining) == (8, 3)


def test_list_filter_describe() -> None:
    text = ListFilter(
        ahr="fair", chr="critical", action=(Score.AHR, Score.SPS), window=Window.WEEK
    ).describe()
    assert "AHR fair" in text and "CHR critical" in text
    assert "action required on AHR/SPS" in text
    assert "vs 7 days ago" in text and "by gmv desc" in text


def test_unauthorized_list(factory: sessionmaker[Session], portfolio: None) -> None:
    with factory() as session:
        page = services.unauthorized(session)
    assert codes(page) == ["U1", "C1"]  # no shop access first, then missing CHR scope
    assert page.total == 2
    assert [(r.authorized, r.chr_authorized) for r in page.rows] == [(False, False), (True, False)]


# ---- one shop ----


@pytest.fixture
def detailed(factory: sessionmaker[Session]) -> None:
    history = [metric("s1", ago(d), 300 - d, "4.2", 1000) for d in range(40)]
    history[1] = metric("s1", D1, 310, "4.5", 900)
    seed(
        factory,
        [shop("s1", "S1", "Saffron Studio")],
        history,
        [
            account("s1", TODAY, "h1", 300),
            account("s1", D1, "h1", 310),
            account("s1", D7, "h1", 350),
            account("s1", TODAY, "h2", 180),
            account("s1", D7, "h2", 190),
        ],
        [
            violation("V1", "s1", ago(7), points=4),  # counted 7d and 60d, appealable (23 days left)
            violation("V2", "s1", ago(8), enforcement_status="Pending", appeal_status="Appealing", points=8),
            violation("V3", "s1", ago(60), enforcement_status="No action", points=12),  # past its deadline
            violation("V4", "s1", ago(61), points=20),  # outside 60 days
            violation(
                "V5", "s1", ago(3), enforcement_status="Revoked", appeal_status="Appeal succeeded", points=50
            ),
            violation(
                "V6",
                "s1",
                ago(20),
                appeal_status="Appeal failed (can appeal again)",
                appeal_rejected_at=ago(10).isoformat(),
                points=2,
            ),  # second appeal open 5 more days
            violation("V7", "s1", ago(181), points=100),  # beyond 180 days
            violation(
                "A1",
                "s1",
                ago(2),
                scope="account",
                tiktok_handle="h1",
                appeal_status="Not yet appealed",
                violation_status="Violation - Deduction",
                points=6,
            ),
            violation(
                "A2",
                "s1",
                ago(10),
                scope="account",
                tiktok_handle="h2",
                enforcement_status="Violation warning",
                appeal_status="Not yet appealed",
                violation_status="Violation - Warning",
                points=0,
            ),
        ],
    )


def test_shop_detail(factory: sessionmaker[Session], detailed: None) -> None:
    with factory() as session:
        detail = services.shop_detail(session, "s1", today=TODAY)
    assert detail is not None
    assert detail.shop.shop_name == "Saffron Studio"
    assert detail.health is not None and (detail.health.ahr, detail.health.ahr_1d, detail.health.ahr_7d) == (
        300,
        310,
        293,
    )
    assert len(detail.ahr_trend) == 30
    assert detail.ahr_trend[0] == (ago(29), 271)
    assert detail.ahr_trend[-1] == (TODAY, 300)
    assert detail.sps_trend[-2] == (D1, 45)
    assert [(a.tiktok_handle, a.chr, a.chr_1d, a.chr_7d) for a in detail.accounts] == [
        ("h1", 300, 310, 350),
        ("h2", 180, None, 190),
    ]
    sv = detail.shop_violations
    assert (sv.last_7d, sv.last_60d, sv.appealable) == (1, 4, 2)
    assert sv.nearest_deadline == TODAY + dt.timedelta(days=5)
    assert [v.violation_id for v, _ in sv.appealable_items] == ["V6", "V1"]
    assert sv.points_180d == 4 + 8 + 12 + 20 + 2  # revoked V5 restored, V7 expired
    av = detail.account_violations
    assert (av.last_7d, av.last_60d, av.appealable) == (1, 2, 1)
    assert av.nearest_deadline == TODAY + dt.timedelta(days=28)
    assert av.points_180d == 6
    assert detail.today == TODAY


def test_shop_detail_for_unknown_shop(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        assert services.shop_detail(session, "nope", today=TODAY) is None


def test_shop_detail_without_data(factory: sessionmaker[Session]) -> None:
    seed(factory, [shop("z", "Z")])
    with factory() as session:
        detail = services.shop_detail(session, "z", today=TODAY)
    assert detail is not None
    assert detail.ahr_trend == [] and detail.accounts == []
    assert detail.shop_violations.last_60d == 0 and detail.shop_violations.nearest_deadline is None


# ---- lookup ----


@pytest.fixture
def named(factory: sessionmaker[Session]) -> None:
    seed(
        factory,
        [
            shop("1001", "GLOW1", "Glow Beauty"),
            shop("1002", "GLOW2", "Glow Home"),
            shop("1003", "KITE1", "Kite Goods"),
            shop("1004", "CED1", "Cedar Kitchen"),
            shop("1005", "PCT1", "100% Cotton_Co"),
        ],
        [metric("1001", TODAY, 300, "4.0", 1)],
        [account("1003", TODAY, "kite.official", 300), account("1001", TODAY, "shared", 300)],
    )


@pytest.mark.parametrize(
    ("query", "shop_id"),
    [
        ("GLOW1", "1001"),  # code
        ("glow1", "1001"),  # code, any case
        ("  kite1 ", "1003"),
        ("1002", "1002"),  # shop ID
        ("Kite Goods", "1003"),  # exact name
        ("kite   goods", "1003"),  # exact name, spaces collapsed
        ("@kite.official", "1003"),  # handle
        ("@Kite.Official", "1003"),
        ("cedar", "1004"),  # one name fragment
        ("100%", "1005"),  # LIKE wildcards are literal
        ("cotton_co", "1005"),
    ],
)
def test_find_shop_one_match(factory: sessionmaker[Session], named: None, query: str, shop_id: str) -> None:
    with factory() as session:
        found = services.find_shop(session, query)
    assert found.shop is not None and found.shop.shop_id == shop_id
    assert found.suggestions == []


def test_find_shop_several_matches(factory: sessionmaker[Session], named: None) -> None:
    with factory() as session:
        found = services.find_shop(session, "glow")
    assert found.shop is None
    assert [s.shop_name for s in found.matches] == ["Glow Beauty", "Glow Home"]


def test_find_shop_wildcards_do_not_match_everything(factory: sessionmaker[Session], named: None) -> None:
    with factory() as session:
        assert services.find_shop(session, "%").shop is not None  # only "100% Cotton_Co" has a %
        assert services.find_shop(session, "_").shop is not None


def test_find_shop_suggests_close_names_for_a_typo(factory: sessionmaker[Session], named: None) -> None:
    with factory() as session:
        found = services.find_shop(session, "Kitee Goods")
    assert found.shop is None and found.matches == []
    assert found.suggestions and found.suggestions[0].shop_name == "Kite Goods"


@pytest.mark.parametrize("query", ["zzqxv", "@zzqxv", "", "   "])
def test_find_shop_nothing_for_gibberish(factory: sessionmaker[Session], named: None, query: str) -> None:
    with factory() as session:
        found = services.find_shop(session, query)
    assert (found.shop, found.matches, found.suggestions) == (None, [], [])


# ---- freshness ----


def test_freshness_after_an_import(factory: sessionmaker[Session], banded: None) -> None:
    with factory() as session:
        fresh = services.freshness(session)
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
        fresh = services.freshness(session, now=now)
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
        fresh = services.freshness(session, now=now)
        row = session.get(services.DataRefresh, "tiktok")
    assert fresh.failing_sources == ("never", "tiktok")
    assert row is not None and row.last_error == "401 Unauthorized"
    assert row.refreshed_at is not None
    assert services._aware(row.refreshed_at) == now - dt.timedelta(hours=2)
    # a later success clears the failure
    with factory() as session, session.begin():
        record_refresh(session, "tiktok", now=now)
    with factory() as session:
        assert services.freshness(session, now=now).failing_sources == ("never",)


def test_chr_drops_are_per_account(factory: sessionmaker[Session]) -> None:
    # DOMAIN.md: CHR action required when it fell by more than 20; each linked account counts, and a
    # missing value on either day (an account linked today) is no drop at all.
    from tests.helpers import account, load, metric, shop

    yesterday = TODAY - dt.timedelta(days=1)
    load(factory, Kind.SHOPS, [shop("A", "CA"), shop("B", "CB")])
    load(
        factory,
        Kind.METRICS,
        [metric(s, d, 300, "4.0", 10.0) for s in ("A", "B") for d in (yesterday, TODAY)],
    )
    load(
        factory,
        Kind.ACCOUNTS,
        [
            account("A", yesterday, "a1", 300),
            account("A", TODAY, "a1", 250),  # fell 50
            account("A", yesterday, "a2", 200),
            account("A", TODAY, "a2", 200),  # the lowest, steady
            account("B", yesterday, "b1", 300),
            account("B", TODAY, "b1", 300),
            account("B", TODAY, "b2", 150),  # new today: no delta
        ],
    )
    with factory() as session:
        page = services.at_risk(session, scores=(Score.CHR,))
    assert [(r.shop_code, r.reasons) for r in page.rows] == [
        ("CA", ("CHR fell 50 since yesterday (lowest account now 200)",)),
        ("CB", ("CHR 150 is Critical",)),
    ]


def test_overview_is_reused_only_while_the_data_is_unchanged(factory: sessionmaker[Session]) -> None:
    # The overview is cached against a data-version stamp; every write path renews the stamp.
    from bot.db import transaction
    from bot.health import data_version
    from jobs.sync import set_authorization
    from tests.helpers import load, metric, shop

    load(factory, Kind.SHOPS, [shop("A", "CA"), shop("B", "CB")])
    load(factory, Kind.METRICS, [metric("A", TODAY, 40, "4.0", 10.0), metric("B", TODAY, 300, "4.0", 5.0)])
    with factory() as session:
        first = services.overview(session)
        stamp = data_version(session)
    assert first.counts[Score.AHR] == (0, 1) and first.unauthorized == 0 and stamp
    with transaction(factory) as session:  # a webhook or sync takes access away
        assert set_authorization(session, "A", False, dt.datetime.now(dt.UTC))
    with factory() as session:
        second = services.overview(session)
        assert data_version(session) != stamp
    assert second.counts[Score.AHR] == (0, 0) and second.unauthorized == 1
    load(factory, Kind.METRICS, [metric("B", TODAY, 45, "4.0", 5.0)])  # an import
    with factory() as session:
        assert services.overview(session).counts[Score.AHR] == (0, 1)


def test_at_risk_pages_follow_owner_changes(factory: sessionmaker[Session]) -> None:
    # At-risk pages are cached too: assigning an owner renews the stamp, so rows show the new owner.
    from bot.db import transaction
    from bot.followup import assign_owner
    from tests.helpers import load, metric, shop

    load(factory, Kind.SHOPS, [shop("A", "CA")])
    load(factory, Kind.METRICS, [metric("A", TODAY, 40, "4.0", 10.0)])
    with factory() as session:
        assert [r.owner for r in services.at_risk(session).rows] == [None]
    with transaction(factory) as session:
        assign_owner(session, "A", "UNEW")
    with factory() as session:
        assert [r.owner for r in services.at_risk(session).rows] == ["UNEW"]
