"""One seller's card data (bot.services.shop_card.shop_detail) on both backends, from imported data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.domain import PointsRules, Reason, Window
from bot.ingest.demo import DemoSize, load_demo
from bot.services.attention import Lens, findings_of
from bot.services.filters import seller_row, seller_select
from bot.services.lookup import find_shop
from bot.services.shop_card import shop_detail
from tests.conftest import TODAY
from tests.services.conftest import seed
from tests.support.data import account, metric, shop, violation
from tests.support.statements import statements_sent

D1 = TODAY - dt.timedelta(days=1)
D7 = TODAY - dt.timedelta(days=7)


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


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
        detail = shop_detail(session, "s1", today=TODAY)
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


def test_a_card_after_its_lookup_is_one_statement_more(
    factory: sessionmaker[Session], detailed: None
) -> None:
    with factory() as session:
        alone = shop_detail(session, "s1", today=TODAY, default_zone="UTC")
    with statements_sent(factory.kw["bind"]) as sent, factory() as session:
        found = find_shop(session, "s1")
        assert found.shop is not None
        after_lookup = shop_detail(session, found.shop.shop_id, today=TODAY, default_zone="UTC")
    # The lookup's (the shop with its health), then everything else the card shows in one.
    assert len(sent) == 2, [statement for statement, _ in sent]
    assert after_lookup == alone
    assert after_lookup is not None and after_lookup.team is not None and after_lookup.sources is not None


@pytest.mark.parametrize("old_violation", [False, True], ids=["no violation rows", "one beyond 180 days"])
def test_a_shop_without_violation_rows_shows_the_counts_a_health_list_gave(
    factory: sessionmaker[Session], old_violation: bool
) -> None:
    counts = {"violations_7d": 2, "violations_60d": 5, "violations_appealable": 1}
    seed(
        factory,
        [shop("s1", "S1")],
        [
            {**metric("s1", ago(3), 500), **counts},
            {**metric("s1", ago(2), 500), "violations_7d": 1},  # the newest day that gave any
            metric("s1", ago(1), 500),
            metric("s1", TODAY, 500),
        ],
        [],
        [violation("V1", "s1", ago(200))] if old_violation else [],
    )
    with factory() as session:
        detail = shop_detail(session, "s1", today=TODAY)
    assert detail is not None
    given = detail.given_counts
    if old_violation:  # the shop has violation rows: its own are shown, not the list's counts
        assert given is None
    else:
        assert given is not None and (given.day, given.last_7d, given.last_60d, given.appealable) == (
            ago(2),
            1,
            None,
            None,
        )


def test_shop_detail_for_unknown_shop(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        assert shop_detail(session, "nope", today=TODAY) is None


def test_shop_detail_without_data(factory: sessionmaker[Session]) -> None:
    seed(factory, [shop("z", "Z")])
    with factory() as session:
        detail = shop_detail(session, "z", today=TODAY)
    assert detail is not None
    assert detail.ahr_trend == [] and detail.accounts == []
    assert detail.shop_violations.last_60d == 0 and detail.shop_violations.nearest_deadline is None


# ---- the card's reasons, from what it has read ----


@pytest.mark.parametrize(
    "lens",
    [
        Lens(TODAY),
        Lens(TODAY, Window.WEEK),
        Lens(TODAY, uk_48_point=True),
        Lens(TODAY + dt.timedelta(days=2), rules=PointsRules(warning=8, critical=12, rise=2)),
    ],
    ids=["day", "week", "uk-48-point", "later-strict-points"],
)
def test_the_cards_reasons_are_the_lists_reasons(factory: sessionmaker[Session], lens: Lens) -> None:
    # The card works its reasons out from the shop, health and violations it has read; the lists
    # read them with `seller_select` and `nearest_appeals`. Every seller gets the same, in order.
    load_demo(factory, DemoSize(shops=200, days=30), TODAY)
    with factory() as session:
        rows = [seller_row(v) for v in session.execute(seller_select(lens.window))]
        listed = findings_of(session, rows, lens)
        on_cards = {
            row.shop_id: detail.findings
            for row in rows
            if (detail := shop_detail(session, row.shop_id, today=lens.today, lens=lens)) is not None
        }
    assert on_cards == listed
    reasons = {f.reason for found in listed.values() for f in found}
    assert {Reason.APPEAL, Reason.CRITICAL, Reason.AHR_DROP} <= reasons  # the demo has every kind
