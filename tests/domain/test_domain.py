"""Pure rule tests for bot.domain: every boundary in DOMAIN.md, each citing its line."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import domain
from bot.domain import AhrBand, ChrBand, Level, Score, SpsBand, ViolationFacts

TODAY = dt.date(2026, 11, 24)


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


# ---- AHR bands and levels ----


@pytest.mark.parametrize(
    ("ahr", "band"),
    [
        (0, AhrBand.DEACTIVATED),  # DOMAIN.md:15 "Deactivated 0"
        (1, AhrBand.POOR),  # DOMAIN.md:15 "Poor 1..50"
        (50, AhrBand.POOR),
        (51, AhrBand.FAIR),  # DOMAIN.md:15 "Fair 51..199"
        (199, AhrBand.FAIR),
        (200, AhrBand.EXCELLENT),  # DOMAIN.md:15 "Excellent >= 200"
        (1000, AhrBand.EXCELLENT),
        (None, None),
    ],
)
def test_ahr_band_boundaries(ahr: int | None, band: AhrBand | None) -> None:
    assert domain.ahr_band(ahr) == band


@pytest.mark.parametrize(
    ("ahr", "level"),
    [
        (0, Level.CRITICAL),  # DOMAIN.md:20 "critical = 0..50 (Deactivated included)"
        (1, Level.CRITICAL),
        (50, Level.CRITICAL),
        (51, Level.WARNING),  # DOMAIN.md:20 "warning = Fair 51..199"
        (199, Level.WARNING),
        (200, Level.GOOD),
        (None, Level.UNKNOWN),
    ],
)
def test_ahr_overview_levels(ahr: int | None, level: Level) -> None:
    assert domain.ahr_level(ahr) is level


# ---- SPS (tenths) ----


@pytest.mark.parametrize(
    ("tenths", "level"),
    [
        (0, Level.UNKNOWN),  # DOMAIN.md:21 "0 = unscored is excluded" (never critical)
        (None, Level.UNKNOWN),  # DOMAIN.md:16 "0 or missing means not scored yet"
        (1, Level.CRITICAL),  # DOMAIN.md:21 "critical = 0.1..2.4"
        (24, Level.CRITICAL),
        (25, Level.WARNING),  # DOMAIN.md:21 "warning = 2.5..3.4"
        (34, Level.WARNING),
        (35, Level.GOOD),
        (50, Level.GOOD),
    ],
)
def test_sps_overview_levels(tenths: int | None, level: Level) -> None:
    assert domain.sps_level(tenths) is level


@pytest.mark.parametrize(
    ("tenths", "band"),
    [
        (0, SpsBand.UNSCORED),  # DOMAIN.md:16 "0 or missing means not scored yet, never bad"
        (None, SpsBand.UNSCORED),
        (1, SpsBand.BELOW_2_5),  # DOMAIN.md:16 "filter bands [0,2.5) [2.5,3.5) [3.5,4.5) [4.5,5]"
        (24, SpsBand.BELOW_2_5),
        (25, SpsBand.FROM_2_5),
        (34, SpsBand.FROM_2_5),
        (35, SpsBand.FROM_3_5),
        (44, SpsBand.FROM_3_5),
        (45, SpsBand.FROM_4_5),
        (50, SpsBand.FROM_4_5),
    ],
)
def test_sps_filter_bands(tenths: int | None, band: SpsBand) -> None:
    assert domain.sps_band(tenths) is band


def test_sps_scored_only_above_zero() -> None:
    # DOMAIN.md:16 "0 or missing means *not scored yet*"
    assert not domain.sps_scored(0)
    assert not domain.sps_scored(None)
    assert domain.sps_scored(1)


@pytest.mark.parametrize(
    ("text", "tenths"),
    [
        ("3.1", 31),
        ("2.6", 26),
        ("0.1", 1),
        ("2.4", 24),
        ("2.5", 25),
        ("5", 50),
        ("0", 0),
        ("", None),
        (None, None),
    ],
)
def test_sps_tenths_parses_exactly(text: str | None, tenths: int | None) -> None:
    # DOMAIN.md:16 "0.0..5.0, one decimal": decimals are held as exact tenths
    assert domain.sps_tenths(text) == tenths


def test_format_sps() -> None:
    # DOMAIN.md:16 "0 ... means not scored yet"
    assert domain.format_sps(0) == "not scored yet"
    assert domain.format_sps(None) == "-"
    assert domain.format_sps(31) == "3.1"
    assert domain.format_sps(50) == "5.0"


# ---- CHR ----


@pytest.mark.parametrize(
    ("chr_", "band", "level"),
    [
        (0, ChrBand.SUSPENDED, Level.CRITICAL),  # DOMAIN.md:17 "Permanently suspended 0"; :22 critical 0..150
        (1, ChrBand.CRITICAL, Level.CRITICAL),  # DOMAIN.md:17 "Critical 1..150"
        (150, ChrBand.CRITICAL, Level.CRITICAL),
        (151, ChrBand.BE_CAREFUL, Level.WARNING),  # DOMAIN.md:17 "Be careful 151..199"; :22 warning
        (199, ChrBand.BE_CAREFUL, Level.WARNING),
        (200, ChrBand.HEALTHY, Level.GOOD),  # DOMAIN.md:17 "Healthy >= 200"
        (None, None, Level.UNKNOWN),
    ],
)
def test_chr_bands_and_levels(chr_: int | None, band: ChrBand | None, level: Level) -> None:
    assert domain.chr_band(chr_) == band
    assert domain.chr_level(chr_) is level


# ---- action required ----


def test_delta_is_today_minus_then() -> None:
    # DOMAIN.md:26 "Delta = today minus then"
    assert domain.delta(170, 200) == -30
    assert domain.delta(200, 170) == 30
    # DOMAIN.md:31 "A missing value on either day means no delta"
    assert domain.delta(None, 200) is None
    assert domain.delta(200, None) is None


@pytest.mark.parametrize(
    ("today", "then", "flag"),
    [
        (180, 200, False),  # DOMAIN.md:27 fell exactly 20: not "more than 20"
        (179, 200, True),  # DOMAIN.md:27 fell 21: delta < -20
        (0, 1000, True),
        (250, 200, False),  # a rise is never action
        (None, 200, False),  # DOMAIN.md:31 missing today
        (180, None, False),  # DOMAIN.md:31 missing then
        (None, None, False),
    ],
)
def test_ahr_action_required(today: int | None, then: int | None, flag: bool) -> None:
    assert domain.action_required(Score.AHR, today, then) is flag


@pytest.mark.parametrize(
    ("today", "then", "flag"),
    [
        (180, 200, False),  # DOMAIN.md:29 CHR fell exactly 20
        (179, 200, True),  # DOMAIN.md:29 CHR fell 21
        (0, 21, True),  # 0 - 21 = -21 < -20
        (0, 20, False),
        (None, 200, False),  # DOMAIN.md:31
        (200, None, False),
    ],
)
def test_chr_action_required(today: int | None, then: int | None, flag: bool) -> None:
    assert domain.action_required(Score.CHR, today, then) is flag


@pytest.mark.parametrize(
    ("today", "then", "flag"),
    [
        ("3.0", "3.5", False),  # DOMAIN.md:28 fell exactly 0.5: not "more than 0.5"
        ("2.9", "3.5", True),  # DOMAIN.md:28 fell 0.6
        ("2.6", "3.1", False),  # exactly 0.5, inexact in binary (3.1 - 2.6 = 0.5000000000000004)
        ("2.5", "3.1", True),  # 0.6 through inexact floats
        ("0.1", "0.7", True),  # 0.1 - 0.7 = -0.6 in floats is -0.6000000000000001
        ("0.2", "0.7", False),
        ("4.4", "4.9", False),
        ("4.3", "4.9", True),
        ("0", "3.5", False),  # DOMAIN.md:16 to unscored is not "bad": never flags
        ("2.0", "0", False),  # from unscored never flags
        ("0", "0", False),
        ("", "3.5", False),  # DOMAIN.md:31 missing today
        ("3.5", "", False),  # DOMAIN.md:31 missing then
    ],
)
def test_sps_action_required_in_exact_tenths(today: str, then: str, flag: bool) -> None:
    assert domain.action_required(Score.SPS, domain.sps_tenths(today), domain.sps_tenths(then)) is flag


def test_drop_limits_are_the_documented_ones() -> None:
    # DOMAIN.md:27-29: more than 20 AHR, more than 0.5 SPS, more than 20 CHR
    assert domain.DROP_LIMITS == {Score.AHR: 20, Score.SPS: 5, Score.CHR: 20}


# ---- violation windows and counting ----


@pytest.mark.parametrize(
    ("age", "days", "inside"),
    [
        (0, 7, True),
        (7, 7, True),  # DOMAIN.md:36 "Last 7 days": the notice 7 days ago counts
        (8, 7, False),  # day 8 does not
        (60, 60, True),  # DOMAIN.md:36-37 "Last 60 days"
        (61, 60, False),
        (-1, 7, False),  # a notice in the future is not in the last days
    ],
)
def test_in_last_days(age: int, days: int, inside: bool) -> None:
    assert domain.in_last_days(ago(age), TODAY, days) is inside


@pytest.mark.parametrize(
    ("status", "is_counted"),
    [
        ("Enforced", True),  # DOMAIN.md:36 Enforced, No action or Pending
        ("No action", True),
        ("Pending", True),
        ("Revoked", False),  # DOMAIN.md:35 "Revoked ... never counted"
        ("Enforcement pending", False),  # an account status is not a shop status
        ("Violation warning", False),
    ],
)
def test_shop_violation_counted_statuses(status: str, is_counted: bool) -> None:
    facts = ViolationFacts("shop", TODAY, status, "Not appealed")
    assert domain.counted(facts) is is_counted


@pytest.mark.parametrize(
    ("status", "is_counted"),
    [
        ("Enforced", True),  # DOMAIN.md:41 "7-day and 60-day counts take all three"
        ("Enforcement pending", True),
        ("Violation warning", True),
        ("Revoked", False),
        ("No action", False),
        ("Pending", False),
    ],
)
def test_account_violation_counted_statuses(status: str, is_counted: bool) -> None:
    facts = ViolationFacts(
        "account", TODAY, status, "Not yet appealed", violation_status="Violation - Deduction"
    )
    assert domain.counted(facts) is is_counted


# ---- appealable ----


@pytest.mark.parametrize(
    ("appeal_status", "ok"),
    [
        ("Not appealed", True),  # DOMAIN.md:38
        ("Appeal failed (can appeal again)", True),  # DOMAIN.md:38
        ("Appealing", False),
        ("Appeal failed", False),
        ("Appeal succeeded", False),
        ("Not yet appealed", True),  # DOMAIN.md "Status words": the other page's words, the same status
        ("Failed appeal (can appeal again)", True),  # ...and the seed 000 wording
        ("failed_APPEAL (can-appeal again)", True),  # any case; spaces, hyphens and underscores alike
    ],
)
def test_shop_appealable_statuses(appeal_status: str, ok: bool) -> None:
    facts = ViolationFacts("shop", ago(3), "Enforced", appeal_status)
    assert domain.appealable(facts, TODAY) is ok


@pytest.mark.parametrize(
    ("violation_status", "appeal_status", "ok"),
    [
        ("Violation - Deduction", "Not yet appealed", True),  # DOMAIN.md:42
        ("Violation - Warning", "Not yet appealed", False),
        (None, "Not yet appealed", False),
        ("Violation - Deduction", "Appealing", False),
        ("Violation - Deduction", "Appeal failed", False),
        ("Violation - Deduction", "Not appealed", True),  # DOMAIN.md "Status words": the same status
        ("Violation - Deduction", "Appeal succeeded", False),
    ],
)
def test_account_appealable_statuses(violation_status: str | None, appeal_status: str, ok: bool) -> None:
    facts = ViolationFacts("account", ago(3), "Enforced", appeal_status, violation_status=violation_status)
    assert domain.appealable(facts, TODAY) is ok


@pytest.mark.parametrize(("age", "ok"), [(0, True), (29, True), (30, True), (31, False), (45, False)])
def test_first_appeal_deadline_30_calendar_days(age: int, ok: bool) -> None:
    # DOMAIN.md:44 "the first appeal within **30 calendar days** of the violation notice"
    shop = ViolationFacts("shop", ago(age), "Enforced", "Not appealed")
    account = ViolationFacts(
        "account", ago(age), "Enforced", "Not yet appealed", violation_status="Violation - Deduction"
    )
    assert domain.appeal_deadline(shop) == ago(age) + dt.timedelta(days=30)
    assert domain.appealable(shop, TODAY) is ok
    assert domain.appealable(account, TODAY) is ok


@pytest.mark.parametrize(("since_rejection", "ok"), [(0, True), (14, True), (15, True), (16, False)])
def test_second_appeal_within_15_days_of_rejection(since_rejection: int, ok: bool) -> None:
    # DOMAIN.md:44-45 "a second within **15 calendar days** of the first rejection"
    rejected = ago(since_rejection)
    facts = ViolationFacts(
        "shop",
        ago(since_rejection + 20),
        "Enforced",
        "Appeal failed (can appeal again)",
        appeal_rejected_at=rejected,
    )
    assert domain.appeal_deadline(facts) == rejected + dt.timedelta(days=15)
    assert domain.appealable(facts, TODAY) is ok
    assert domain.days_left_to_appeal(facts, TODAY) == 15 - since_rejection


def test_second_appeal_window_can_run_past_the_first_30_days() -> None:
    # DOMAIN.md:44-45: rejected on day 25, the second appeal is open until day 40
    facts = ViolationFacts(
        "shop", ago(38), "Enforced", "Appeal failed (can appeal again)", appeal_rejected_at=ago(13)
    )
    assert domain.appealable(facts, TODAY)


def test_shop_appealable_only_within_60_days() -> None:
    # DOMAIN.md:38 "Appealable: in the last 60 days" (and DOMAIN.md:45 never past the deadline)
    old = ViolationFacts(
        "shop", ago(61), "Enforced", "Appeal failed (can appeal again)", appeal_rejected_at=ago(1)
    )
    assert not domain.appealable(old, TODAY)
    recent = ViolationFacts(
        "shop", ago(60), "Enforced", "Appeal failed (can appeal again)", appeal_rejected_at=ago(1)
    )
    assert domain.appealable(recent, TODAY)


def test_days_left_to_appeal() -> None:
    facts = ViolationFacts("shop", ago(10), "Enforced", "Not appealed")
    assert domain.days_left_to_appeal(facts, TODAY) == 20


# ---- status vocabulary ----


@pytest.mark.parametrize(
    ("raw", "canonical", "vocabulary"),
    [
        ("APPEAL_FAILED (can appeal again)", "Appeal failed (can appeal again)", domain.APPEAL_STATUSES),
        ("appeal-failed ( can-appeal-again )", "Appeal failed (can appeal again)", domain.APPEAL_STATUSES),
        ("  Not   yet_appealed ", "Not appealed", domain.APPEAL_STATUSES),  # DOMAIN.md "Status words"
        ("Failed appeal (can appeal again)", "Appeal failed (can appeal again)", domain.APPEAL_STATUSES),
        ("not-appealed", "Not appealed", domain.APPEAL_STATUSES),
        ("no_action", "No action", domain.ENFORCEMENT_STATUSES),
        ("ENFORCEMENT-PENDING", "Enforcement pending", domain.ENFORCEMENT_STATUSES),
        ("violation_warning", "Violation warning", domain.ENFORCEMENT_STATUSES),
        ("violation_-_deduction", "Violation - Deduction", domain.VIOLATION_STATUSES),
        ("Violation Deduction", "Violation - Deduction", domain.VIOLATION_STATUSES),
        ("violation-warning", "Violation - Warning", domain.VIOLATION_STATUSES),
    ],
)
def test_normalize_status_spaces_hyphens_underscores_case_alike(
    raw: str, canonical: str, vocabulary: dict[str, str]
) -> None:
    # PRODUCT.md: "matched case-insensitively with spaces, hyphens and underscores alike"
    assert vocabulary[domain.normalize_status(raw)] == canonical


def test_normalize_status_keeps_distinct_statuses_apart() -> None:
    assert domain.normalize_status("Appeal failed") != domain.normalize_status(
        "Appeal failed (can appeal again)"
    )
    assert domain.normalize_status("Pending") != domain.normalize_status("Enforcement pending")
    assert len(set(domain.APPEAL_STATUSES.values())) == 5  # "Not yet appealed" is "Not appealed"
    assert domain.APPEAL_STATUSES[domain.normalize_status("Appeal failed")] == "Appeal failed"
    assert len(domain.ENFORCEMENT_STATUSES) == 6


# ---- milestones ----


@pytest.mark.parametrize(
    ("ahr", "score"),
    [
        (1000, 150),
        (151, 150),
        (150, 100),  # reached 150 already: the next one a falling score meets is 100
        (101, 100),
        (100, 50),
        (51, 50),
        (50, 0),
        (1, 0),
        (0, None),  # DOMAIN.md:61 "0 -> permanent deactivation": nothing below
    ],
)
def test_next_milestone(ahr: int, score: int | None) -> None:
    milestone = domain.next_milestone(ahr)
    assert (milestone.score if milestone else None) == score


@pytest.mark.parametrize(
    ("ahr", "warned"),
    [
        (160, True),  # DOMAIN.md:61 "warned within **10 points** above a milestone": exactly 10 above
        (161, False),  # 11 above
        (151, True),
        (110, True),
        (111, False),
        (60, True),
        (61, False),
        (10, True),
        (11, False),
        (0, False),
        (300, False),
    ],
)
def test_milestone_warning(ahr: int, warned: bool) -> None:
    assert domain.milestone_warning(ahr) is warned


def test_crossed_milestones() -> None:
    # DOMAIN.md:61 "reaching 150 -> ..."
    assert [m.score for m in domain.crossed_milestones(151, 150)] == [150]
    assert domain.crossed_milestones(150, 150) == []
    assert [m.score for m in domain.crossed_milestones(160, 40)] == [150, 100, 50]
    assert [m.score for m in domain.crossed_milestones(1, 0)] == [0]
    assert domain.crossed_milestones(140, 160) == []  # rising is not crossing
    assert domain.crossed_milestones(None, 40) == []
    assert domain.crossed_milestones(160, None) == []


def test_us_milestone_texts() -> None:
    # DOMAIN.md:61 US: 150 -> 7 days, 100 -> 14 days, 50 -> 28 days, 0 -> permanent deactivation
    us = {m.score: m.restriction for m in domain.milestones_for("US")}
    assert set(us) == {150, 100, 50, 0}
    assert "7 days" in us[150]
    assert "14 days" in us[100]
    assert "28 days" in us[50]
    assert "permanent deactivation" in us[0]


def test_fr_milestone_at_50_differs() -> None:
    # DOMAIN.md:62 "The EU text (France, July 2025) differs at 50"
    fr = {m.score: m.restriction for m in domain.milestones_for("FR")}
    us = {m.score: m.restriction for m in domain.milestones_for("US")}
    assert fr[50] != us[50]
    assert "withdrawals" in fr[50]
    assert "listing changes" in fr[50]
    assert fr[150] == us[150] and fr[100] == us[100] and fr[0] == us[0]
    assert domain.next_milestone(55, "fr") == domain.next_milestone(55, "FR")
    assert domain.next_milestone(55, "FR") != domain.next_milestone(55, "US")


def test_unknown_region_defaults_to_us_milestones() -> None:
    # DOMAIN.md:62 "a per-region table, US by default"
    assert domain.milestones_for("ZZ") == domain.milestones_for("US")


# ---- regions ----


@pytest.mark.parametrize("region", ["ID", "PH", "MY", "TH", "VN", "SG", "ph", "sg", "id"])
def test_penalty_point_regions(region: str) -> None:
    # DOMAIN.md:66 "48-point system ... Indonesia, Philippines, Malaysia, Thailand, Vietnam, Singapore"
    assert domain.uses_penalty_points(region)
    assert domain.uses_penalty_points(region, uk_48_point=True)


@pytest.mark.parametrize("region", ["US", "FR", "DE"])
def test_ahr_regions(region: str) -> None:
    # DOMAIN.md:65 "AHR (start at 200, lose points): United States, France, Germany"
    assert not domain.uses_penalty_points(region)
    assert not domain.uses_penalty_points(region, uk_48_point=True)


def test_uk_is_configurable() -> None:
    # DOMAIN.md:66 "the seeds disagree on the UK, so the UK is configurable"
    assert not domain.uses_penalty_points("UK")
    assert domain.uses_penalty_points("UK", uk_48_point=True)
    assert domain.uses_penalty_points("GB", uk_48_point=True)


def test_constants() -> None:
    # DOMAIN.md:15 "new shops start at 200"; :66 "48 = permanent ban"; :44-45 30 and 15 days
    assert domain.AHR_START == 200
    assert domain.POINTS_BAN == 48
    assert domain.FIRST_APPEAL_DAYS == 30
    assert domain.SECOND_APPEAL_DAYS == 15
    assert domain.MILESTONE_WARNING_POINTS == 10
