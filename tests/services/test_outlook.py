"""The AHR outlook: recovery from completed orders, expiring deductions, milestone warnings, and the
48-point regions that never get AHR advice (DOMAIN.md "How AHR moves", "Regions")."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import domain
from bot.commands.registry import answer
from bot.db.models import MetricSnapshot, Violation
from bot.domain import Milestone
from bot.ingest.formats import Kind
from bot.services.attention import Lens
from bot.services.digest import build_digest
from bot.services.digest_records import Section
from bot.services.shop_card import next_point_expiry, shop_detail
from bot.settings import Settings
from tests.support.data import load, metric, shop, violation

TODAY = dt.date(2026, 11, 24)
DAY = dt.timedelta(days=1)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


# ---- weekly gain: +4 per 200 completed orders, at most +20 a week ----


@pytest.mark.parametrize(
    ("orders", "gain"),
    [
        (0, 0),
        (199, 0),
        (200, 4),
        (399, 4),
        (400, 8),
        (999, 16),
        (1000, 20),
        (1199, 20),
        (1200, 20),
        (10**6, 20),
    ],
)
def test_weekly_gain(orders: int, gain: int) -> None:
    assert domain.weekly_gain(orders) == gain


# ---- recovery: points and weeks to climb back above the milestone the score is at or below ----


@pytest.mark.parametrize(
    ("ahr", "orders", "milestone", "needed", "gain", "weeks"),
    [
        (150, 200, 150, 1, 4, 1),  # on the milestone: one point lifts it above
        (149, 200, 150, 2, 4, 1),
        (120, 1000, 150, 31, 20, 2),
        (120, 1200, 150, 31, 20, 2),  # the +20 cap: more orders do not help
        (101, 200, 150, 50, 4, 13),  # ceil(50 / 4)
        (100, 400, 100, 1, 8, 1),
        (99, 400, 100, 2, 8, 1),
        (50, 200, 50, 1, 4, 1),
        (1, 200, 50, 50, 4, 13),
    ],
)
def test_recovery(ahr: int, orders: int, milestone: int, needed: int, gain: int, weeks: int) -> None:
    estimate = domain.recovery(ahr, orders)
    assert estimate is not None
    assert (estimate.milestone.score, estimate.points_needed, estimate.weekly_gain) == (
        milestone,
        needed,
        gain,
    )
    assert estimate.weeks == weeks and estimate.reachable


def test_recovery_below_200_orders_a_week_is_not_reachable() -> None:
    estimate = domain.recovery(120, 199)
    assert estimate is not None
    assert estimate.weekly_gain == 0 and estimate.weeks is None and not estimate.reachable
    assert domain.recovery(120, 200).reachable  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("ahr", "orders"),
    [(0, 5000), (151, 5000), (199, 5000), (200, 5000), (700, 5000), (120, None), (0, None)],
    ids=["deactivated", "151", "199", "200", "700", "orders-unknown", "deactivated-unknown"],
)
def test_no_recovery_estimate(ahr: int, orders: int | None) -> None:
    # Deactivated is permanent; above 150 there is nothing to climb back over; no pace, no estimate.
    assert domain.recovery(ahr, orders) is None


def test_recovery_beyond_180_days_is_not_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    # With the US table a score is at most 50 points below the milestone above it, so +4/week always
    # gets there in 13 weeks. A region table with a wider gap reaches the 180-day limit:
    # 25 weeks = 175 days is reachable, 26 weeks = 182 days is not.
    monkeypatch.setitem(
        domain.MILESTONES, "ZZ", (Milestone(150, "x"), Milestone(0, "permanent deactivation"))
    )
    inside = domain.recovery(51, 200, "ZZ")
    assert inside is not None and (inside.points_needed, inside.weeks) == (100, 25)
    outside = domain.recovery(50, 200, "ZZ")
    assert outside is not None and outside.points_needed == 101
    assert outside.weeks is None and not outside.reachable
    faster = domain.recovery(50, 400, "ZZ")  # +8/week: 13 weeks
    assert faster is not None and faster.weeks == 13


# ---- milestone warning: within 10 points above a milestone ----


@pytest.mark.parametrize(
    ("ahr", "warned"),
    [(161, False), (160, True), (151, True), (150, False), (111, False), (110, True), (61, False), (60, True),
     (11, False), (10, True), (1, True), (0, False)],
)  # fmt: skip
def test_milestone_warning_exactly_10_points_above(ahr: int, warned: bool) -> None:
    assert domain.milestone_warning(ahr) is warned


# ---- deductions leaving the 180-day window ----


def _violation(days: int, points: int, status: str = "Enforced") -> Violation:
    return Violation(
        violation_id=f"v{days}-{points}-{status}",
        shop_id="S",
        scope="shop",
        policy="Late dispatch",
        notified_at=days_ago(days),
        enforcement_status=status,
        appeal_status="Not appealed",
        points=points,
    )


def test_next_point_expiry_sums_the_oldest_day_and_skips_revoked() -> None:
    violations = [
        _violation(175, 6, "Revoked"),  # a successful appeal: never counted
        _violation(178, 0),  # a warning takes no points
        _violation(170, 4),
        _violation(170, 2),
        _violation(100, 8),
    ]
    assert next_point_expiry(violations, TODAY) == (TODAY + dt.timedelta(days=10), 6)


def test_next_point_expiry_day_boundary() -> None:
    assert next_point_expiry([_violation(179, 3)], TODAY) == (TODAY + DAY, 3)
    assert next_point_expiry([_violation(180, 3)], TODAY) is None  # it left today
    assert next_point_expiry([_violation(181, 3), _violation(20, 5)], TODAY) == (
        TODAY + dt.timedelta(days=160),
        5,
    )
    assert next_point_expiry([], TODAY) is None


# ---- the shop card's Outlook section, from imported data ----


def _metrics(shop_id: str, ahr: int, *, orders: int | None, days: int = 8) -> list[dict[str, object]]:
    rows = []
    for n in range(days):
        row = metric(shop_id, days_ago(n), ahr, "4.5", 5000.0)
        row["completed_orders_7d"] = orders
        rows.append(row)
    return rows


def _card(factory: sessionmaker[Session], settings: Settings, code: str) -> tuple[str, str]:
    with factory() as session:
        reply = answer(session, f"shop {code}", settings=settings, today=TODAY)
    return json.dumps(reply.blocks, ensure_ascii=False), reply.text


def test_card_outlook_shows_recovery_and_expiring_points(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "US1", region="US")])
    load(factory, Kind.METRICS, _metrics("S1", 140, orders=450))
    load(
        factory,
        Kind.VIOLATIONS,
        [
            violation("V1", "S1", days_ago(170), points=4),
            violation("V2", "S1", days_ago(170), points=2, policy="Misleading listing"),
            violation("V3", "S1", days_ago(175), points=9, enforcement_status="Revoked"),
            violation("V4", "S1", days_ago(20), points=8),
        ],
    )
    text, _ = _card(factory, settings, "US1")
    assert "*Outlook*" in text
    assert f"6 deducted points leave the 180-day window on {TODAY + dt.timedelta(days=10):%b %-d, %Y}" in text
    # 450 orders: +8/week; 140 -> above 150 needs 11 points: 2 weeks.
    assert (
        "At 450 completed orders a week (+8/week, max +20): back above 150 in about 2 weeks (11 points)"
        in text
    )
    assert "*Next milestone*\\n100 in 40 points" in text


def test_card_outlook_not_reachable_below_200_orders(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "US1")])
    load(factory, Kind.METRICS, _metrics("S1", 104, orders=199))
    text, _ = _card(factory, settings, "US1")
    assert (
        "At 199 completed orders a week (+0/week, max +20): back above 150 is not reachable in 180 days"
        in text
    )
    # 104 is within 10 points of 100.
    assert ":warning: 100 in 4 points" in text


def test_card_outlook_caps_the_weekly_gain(factory: sessionmaker[Session], settings: Settings) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "US1")])
    load(factory, Kind.METRICS, _metrics("S1", 60, orders=1200))
    text, _ = _card(factory, settings, "US1")
    assert (
        "At 1,200 completed orders a week (+20/week, max +20): back above 100 in about 3 weeks (41 points)"
        in text
    )


@pytest.mark.parametrize("ahr", [151, 0])
def test_card_has_no_recovery_line_above_150_or_when_deactivated(
    factory: sessionmaker[Session], settings: Settings, ahr: int
) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "US1")])
    load(factory, Kind.METRICS, _metrics("S1", ahr, orders=1000))
    text, _ = _card(factory, settings, "US1")
    assert "back above" not in text and "*Outlook*" not in text


def test_card_has_no_recovery_line_without_the_order_count(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "US1")])
    load(factory, Kind.METRICS, _metrics("S1", 120, orders=None))
    text, _ = _card(factory, settings, "US1")
    assert "back above" not in text


def test_48_point_card_shows_penalty_points_never_ahr_advice(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    # DOMAIN.md "Regions": a PH shop counts penalty points toward 48, even with an AHR and orders imported.
    load(factory, Kind.SHOPS, [shop("S1", "PH1", region="PH")])
    load(factory, Kind.METRICS, _metrics("S1", 104, orders=1000))
    load(
        factory,
        Kind.VIOLATIONS,
        [violation("V1", "S1", days_ago(170), points=12), violation("V2", "S1", days_ago(30), points=24)],
    )
    text, summary = _card(factory, settings, "PH1")
    assert (
        "*Penalty points* (48-point system)\\n🔴 *36* / 48 in 180 days" in text and "critical at 36" in text
    )
    assert "milestone" not in text.lower() and "Outlook" not in text and "back above" not in text
    assert "AHR" not in text and "AHR" not in summary
    assert "36/48 penalty points" in summary


def test_48_point_shop_gets_no_ahr_milestone_advice_in_the_digest(factory: sessionmaker[Session]) -> None:
    # Regression guard (bot/services/digest.py build_digest, fixed): DOMAIN.md "never show AHR advice to a 48-point
    # shop", yet a PH shop whose (imported) AHR falls through 150 is listed as "reached 150,
    # 7 days without creating listings ...". Fix: skip the AHR sections (and notify_milestones)
    # when domain.uses_penalty_points(row.region).
    load(factory, Kind.SHOPS, [shop("S1", "PH1", region="PH"), shop("S2", "US2", region="US")])
    load(
        factory,
        Kind.METRICS,
        [metric(s, days_ago(1), 160, "4.5", 10.0) for s in ("S1", "S2")]
        + [metric(s, TODAY, 140, "4.5", 10.0) for s in ("S1", "S2")],
    )
    with factory() as session:
        digest = build_digest(session, Lens(today=TODAY))
    assert [r.shop_code for r in digest.sections[Section.RESTRICTIONS]] == ["US2"]
    for rows in digest.sections.values():
        for row in rows:
            if row.shop_code == "PH1":
                assert "AHR" not in " ".join(row.reasons)


def test_points_leave_the_total_on_the_day_the_outlook_names(factory: sessionmaker[Session]) -> None:
    # Regression guard (bot/services/shop_card.py summarize_violations, `points_180d`, fixed): deductions "expire exactly
    # 180 days after" (DOMAIN.md), and next_point_expiry says so (they leave on notice + 180 days),
    # but points_180d uses in_last_days(..., 180), which still counts a notice 180 days old, so on
    # the day the points were promised to leave, a 48-point card still counts them. Fix: count
    # `today - 180 days < notified_at <= today` (and query `notified_at > today - 180` in shop_detail).
    load(factory, Kind.SHOPS, [shop("S1", "PH1", region="PH")])
    load(factory, Kind.VIOLATIONS, [violation("V1", "S1", days_ago(180), points=12)])
    with factory() as session:
        before = shop_detail(session, "S1", today=TODAY - DAY)
        on_the_day = shop_detail(session, "S1", today=TODAY)
    assert before is not None and on_the_day is not None
    assert before.next_expiry == (TODAY, 12)
    assert before.shop_violations.points_180d == 12
    assert on_the_day.next_expiry is None
    assert on_the_day.shop_violations.points_180d == 0


# ---- completed_orders_7d: an optional metrics column ----


def _orders(factory: sessionmaker[Session], day: dt.date) -> int | None:
    with factory() as session:
        return session.scalar(
            select(MetricSnapshot.completed_orders_7d).where(
                MetricSnapshot.shop_id == "S1", MetricSnapshot.date == day
            )
        )


def test_completed_orders_column_is_imported_and_read_by_the_card(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "US1")])
    load(factory, Kind.METRICS, _metrics("S1", 120, orders=640, days=2))
    with factory() as session:
        detail = shop_detail(session, "S1", today=TODAY)
    assert detail is not None and detail.completed_orders_7d == 640
    # A metrics file without the column updates the scores and leaves the stored orders alone.
    load(factory, Kind.METRICS, [metric("S1", TODAY, 118, "4.4", 4000.0)])
    assert _orders(factory, TODAY) == 640
    with factory() as session:
        detail = shop_detail(session, "S1", today=TODAY)
    assert detail is not None and detail.completed_orders_7d == 640
    assert detail.health is not None and detail.health.ahr == 118
    # The card reads the newest data day's count, not an older one.
    newer = metric("S1", TODAY + DAY, 118, "4.4", 4000.0)
    newer["completed_orders_7d"] = 200
    load(factory, Kind.METRICS, [newer])
    with factory() as session:
        detail = shop_detail(session, "S1", today=TODAY + DAY)
    assert detail is not None and detail.completed_orders_7d == 200


def test_completed_orders_column_from_a_csv_file(factory: sessionmaker[Session], write_csv) -> None:  # type: ignore[no-untyped-def]
    from bot.ingest.importer import import_files

    load(factory, Kind.SHOPS, [shop("S1", "US1")])
    good = write_csv(
        "metrics.csv",
        "date,shop_id,ahr,sps,gmv_7d,completed_orders_7d",
        f"{TODAY},S1,120,4.5,100,800",
    )
    (result,) = import_files(factory, [good])
    assert result.committed and not result.errors
    assert _orders(factory, TODAY) == 800
    bad = write_csv(
        "bad.csv",
        "date,shop_id,ahr,sps,gmv_7d,completed_orders_7d",
        f"{TODAY},S1,120,4.5,100,many",
        f"{TODAY},S1,120,4.5,100,-1",
    )
    (result,) = import_files(factory, [bad])
    assert not result.committed
    assert [(e.line, e.column) for e in result.errors] == [
        (2, "completed_orders_7d"),
        (3, "completed_orders_7d"),
    ]
    assert _orders(factory, TODAY) == 800
    without = write_csv("plain.csv", "date,shop_id,ahr,sps,gmv_7d", f"{TODAY},S1,121,4.5,100")
    (result,) = import_files(factory, [without])
    assert result.committed
    assert _orders(factory, TODAY) == 800


# ---- appeal countdowns on the card (DOMAIN.md "Appeal deadlines") ----


def _appeals_card(factory: sessionmaker[Session], settings: Settings, rows: list[dict[str, object]]) -> str:
    load(factory, Kind.SHOPS, [shop("S1", "US1")])
    load(factory, Kind.METRICS, _metrics("S1", 300, orders=None, days=2))
    load(factory, Kind.VIOLATIONS, rows)
    text, _ = _card(factory, settings, "US1")
    return text


def _appealable_lines(text: str) -> list[str]:
    blocks = json.loads(text)
    (section,) = [b for b in blocks if "*Appealable violations*" in b.get("text", {}).get("text", "")]
    return list(section["text"]["text"].split("\n")[1:])


def test_card_lists_appealable_violations_with_deadline_and_days_left(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    text = _appeals_card(
        factory,
        settings,
        [
            violation("V20", "S1", days_ago(20), policy="Day 20"),
            violation("V29", "S1", days_ago(29), policy="Day 29"),
            violation("V30", "S1", days_ago(30), policy="Day 30"),  # the 30th day: last chance
            violation("V31", "S1", days_ago(31), policy="Day 31"),  # too late, whatever its status
            violation("VAP", "S1", days_ago(3), policy="Appealing now", appeal_status="Appealing"),
            violation("VOK", "S1", days_ago(3), policy="Won", appeal_status="Appeal succeeded"),
        ],
    )
    assert _appealable_lines(text) == [
        f"• Day 30 (shop, 4 pts): appeal by {TODAY:%b %-d} (0 days left)",
        f"• Day 29 (shop, 4 pts): appeal by {TODAY + DAY:%b %-d} (1 day left)",
        f"• Day 20 (shop, 4 pts): appeal by {TODAY + 10 * DAY:%b %-d} (10 days left)",
    ]
    assert f"Appealable 3 · 0; nearest deadline {TODAY:%b %-d} (0 days left)" in text


def test_second_appeal_within_15_days_of_the_rejection(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    again = "Appeal failed (can appeal again)"
    text = _appeals_card(
        factory,
        settings,
        [
            violation("R5", "S1", days_ago(40), policy="Rejected 5 days ago", appeal_status=again,
                      appeal_rejected_at=days_ago(5).isoformat()),
            violation("R15", "S1", days_ago(45), policy="Rejected 15 days ago", appeal_status=again,
                      appeal_rejected_at=days_ago(15).isoformat()),
            violation("R16", "S1", days_ago(35), policy="Rejected 16 days ago", appeal_status=again,
                      appeal_rejected_at=days_ago(16).isoformat()),
            violation("RF", "S1", days_ago(10), policy="Failed for good", appeal_status="Appeal failed",
                      appeal_rejected_at=days_ago(2).isoformat()),
        ],
    )  # fmt: skip
    assert _appealable_lines(text) == [
        f"• Rejected 15 days ago (shop, 4 pts): appeal by {TODAY:%b %-d} (0 days left)",
        f"• Rejected 5 days ago (shop, 4 pts): appeal by {TODAY + 10 * DAY:%b %-d} (10 days left)",
    ]


def test_account_violation_appeal_countdown(factory: sessionmaker[Session], settings: Settings) -> None:
    account = {"scope": "account", "tiktok_handle": "@alpha", "violation_status": "Violation - Deduction",
               "appeal_status": "Not yet appealed", "points": 10}  # fmt: skip
    text = _appeals_card(
        factory,
        settings,
        [
            violation("A30", "S1", days_ago(30), policy="Account day 30", **account),
            violation("A31", "S1", days_ago(31), policy="Account day 31", **account),
            violation(
                "AW",
                "S1",
                days_ago(3),
                policy="Warning only",
                **{**account, "violation_status": "Violation - Warning"},
            ),
        ],
    )
    assert _appealable_lines(text) == [
        f"• Account day 30 (account, 10 pts): appeal by {TODAY:%b %-d} (0 days left)"
    ]
    assert "Appealable 0 · 1" in text


def test_uk_follows_the_48_point_setting_in_the_digest(factory: sessionmaker[Session]) -> None:
    # DOMAIN.md "Regions": the seeds disagree on the UK, so it is configurable; when it is a
    # 48-point region, the digest gives its shops no AHR milestone advice either.
    load(factory, Kind.SHOPS, [shop("UK1", "GB1", region="UK")])
    load(
        factory,
        Kind.METRICS,
        [
            metric("UK1", TODAY - dt.timedelta(days=1), 160, "4.0", 10.0),
            metric("UK1", TODAY, 140, "4.0", 10.0),
        ],
    )
    with factory() as session:
        as_ahr = build_digest(session, Lens(today=TODAY))
        as_points = build_digest(session, Lens(today=TODAY, uk_48_point=True))
    assert [r.shop_code for r in as_ahr.sections[Section.RESTRICTIONS]] == ["GB1"]
    assert as_points.sections[Section.RESTRICTIONS] == [] and as_points.sections[Section.AHR_DROP] == []
