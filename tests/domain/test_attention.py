"""DOMAIN.md "One definition of needs action", "Restrictions in force" and "Regions": each reason,
its boundaries, and the order the digest acts on them."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain import Appeal, Facts, PointsRules, Reason, Window, findings, most_urgent, needs_action

TODAY = dt.date(2026, 11, 28)
NOW = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(hours=24)


def facts(**extra: object) -> Facts:
    values: dict[str, object] = {
        "region": "US",
        "authorized": True,
        "chr_authorized": True,
        "points_region": False,
        "ahr": 400,
        "ahr_then": 400,
        "sps_tenths": 45,
        "sps_tenths_then": 45,
        "chr": 400,
        "chr_then": 400,
    }
    values.update(extra)
    return Facts(**values)  # type: ignore[arg-type]


def reasons(f: Facts, window: Window = Window.DAY, rules: PointsRules | None = None) -> list[Reason]:
    return [
        x.reason for x in findings(f, today=TODAY, window=window, since=SINCE, rules=rules or PointsRules())
    ]


def test_a_healthy_seller_needs_nothing() -> None:
    assert reasons(facts()) == []
    assert not needs_action(findings(facts(), today=TODAY, window=Window.DAY, since=SINCE))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"ahr": 379}, [Reason.AHR_DROP]),  # fell 21: more than 20
        ({"ahr": 380}, []),  # fell exactly 20: not more than 20
        ({"sps_tenths": 39}, [Reason.SPS_DROP]),  # fell 0.6
        ({"sps_tenths": 40}, []),  # fell exactly 0.5
        ({"sps_tenths": 0}, []),  # became unscored: not a drop in performance
        ({"sps_tenths": 24, "sps_tenths_then": 24}, [Reason.CRITICAL]),  # 2.4: critical
        ({"sps_tenths": 25, "sps_tenths_then": 25}, []),  # 2.5: warning only
        ({"chr": 379}, [Reason.CHR_DROP]),
        ({"chr": 150, "chr_then": 150}, [Reason.CRITICAL]),  # Critical 1..150
        ({"chr": 151, "chr_then": 151}, []),  # Be careful
        ({"chr": 10, "chr_then": 400, "chr_authorized": False}, []),  # no Data Compass scope: not ours to see
        ({"ahr": 50, "ahr_then": 50}, [Reason.CRITICAL]),  # Poor 1..50 (no news: still critical)
        ({"ahr": 51, "ahr_then": 51}, [Reason.NEAR_MILESTONE]),  # Fair, 1 above 50
        ({"ahr": None}, []),  # a missing value means no delta
    ],
)
def test_score_rules(extra: dict[str, object], expected: list[Reason]) -> None:
    assert reasons(facts(**extra)) == expected


def test_reaching_a_milestone_is_one_reason_with_the_restriction_and_its_end() -> None:
    until = TODAY + dt.timedelta(days=14)
    found = findings(
        facts(ahr=100, ahr_then=112, restricted_until=until, restriction=100),
        today=TODAY,
        window=Window.DAY,
        since=SINCE,
    )
    assert [f.reason for f in found] == [Reason.MILESTONE]  # not also a "drop" or "near a milestone"
    assert found[0].text == (
        "AHR 112 → 100: reached 100: restricted until Dec 12 "
        "(14 days without creating listings or joining mega campaigns)"
    )
    # 151 -> 150 reaches 150; a fall that stays above it does not.
    assert reasons(facts(ahr=150, ahr_then=151)) == [Reason.MILESTONE]
    assert reasons(facts(ahr=0, ahr_then=30)) == [Reason.MILESTONE]  # deactivated: permanent


def test_a_restriction_in_force_needs_action_until_the_day_it_lifts() -> None:
    restricted = facts(ahr=140, ahr_then=140, restricted_until=TODAY + dt.timedelta(days=1), restriction=150)
    found = findings(restricted, today=TODAY, window=Window.DAY, since=SINCE)
    assert found[0].reason is Reason.RESTRICTED and "Restricted until Nov 29 (reached 150)" in found[0].text
    lifted = facts(ahr=140, ahr_then=140, restricted_until=TODAY, restriction=150)
    assert reasons(lifted) == []


def test_within_ten_points_of_a_milestone_is_a_warning_not_counted() -> None:
    found = findings(facts(ahr=160, ahr_then=160), today=TODAY, window=Window.DAY, since=SINCE)
    assert [f.reason for f in found] == [Reason.NEAR_MILESTONE]
    assert not needs_action(found)
    assert reasons(facts(ahr=161, ahr_then=161)) == []


@pytest.mark.parametrize(("days", "flagged"), [(-1, False), (0, True), (1, True), (7, True), (8, False)])
def test_an_appeal_deadline_within_seven_days(days: int, flagged: bool) -> None:
    appeal = Appeal(until=TODAY + dt.timedelta(days=days), policy="Late dispatch", points=12)
    assert (Reason.APPEAL in reasons(facts(appeal=appeal))) is flagged


def test_the_appeal_text_names_the_policy_points_and_day() -> None:
    appeal = Appeal(until=TODAY + dt.timedelta(days=3), policy="Late dispatch", points=12)
    (found,) = findings(facts(appeal=appeal), today=TODAY, window=Window.DAY, since=SINCE)
    assert found.text == "Appeal Late dispatch (12 pts) by Dec 1, in 3 days"
    warning = Appeal(until=TODAY, policy="Prohibited product", points=0)  # a first offence costs nothing
    (found,) = findings(facts(appeal=warning), today=TODAY, window=Window.DAY, since=SINCE)
    assert found.text == "Appeal Prohibited product (a warning, no points) by Nov 28, today"


def test_48_point_shops_are_never_flagged_on_ahr() -> None:
    points = {"points_region": True, "region": "PH", "ahr": 5, "ahr_then": 300}
    assert reasons(facts(**points, points=10, points_then=10)) == []
    assert reasons(facts(**points, points=36, points_then=36)) == [Reason.POINTS]  # critical at 36
    assert reasons(facts(**points, points=35, points_then=35)) == []  # warning 24..35: not counted
    assert reasons(facts(**points, points=16, points_then=10)) == [Reason.POINTS]  # rose by 6
    assert reasons(facts(**points, points=15, points_then=10)) == []
    strict = PointsRules(warning=20, critical=30, rise=3)
    assert reasons(facts(**points, points=30, points_then=30), rules=strict) == [Reason.POINTS]
    (found,) = findings(
        facts(**points, points=44, points_then=44), today=TODAY, window=Window.DAY, since=SINCE
    )
    assert found.text == "44/48 penalty points: 4 from the ban"


def test_lost_authorization_in_the_window_needs_action() -> None:
    lost = facts(authorized=False, access_lost_at=NOW - dt.timedelta(hours=3), ahr=10, ahr_then=400)
    assert reasons(lost) == [Reason.ACCESS]  # and nothing about its (hidden) scores
    assert reasons(facts(authorized=False, access_lost_at=SINCE - dt.timedelta(minutes=1))) == []


def test_reasons_come_most_urgent_first() -> None:
    appeal = Appeal(until=TODAY + dt.timedelta(days=2), policy="Counterfeit", points=20)
    found = findings(
        facts(ahr=379, sps_tenths=20, appeal=appeal), today=TODAY, window=Window.DAY, since=SINCE
    )
    assert [f.reason for f in found] == [Reason.APPEAL, Reason.AHR_DROP, Reason.SPS_DROP, Reason.CRITICAL]
    assert most_urgent(found) is Reason.APPEAL
    assert Reason.APPEAL.act_today and not Reason.AHR_DROP.act_today


def test_the_seven_day_window_says_so() -> None:
    (found,) = findings(facts(ahr=300), today=TODAY, window=Window.WEEK, since=SINCE)
    assert found.text == "AHR fell 100 in 7 days (400 → 300)"
