"""The rules of shop health (DOMAIN.md): bands, thresholds, violation windows, appeal deadlines.

Pure functions over plain values; no database, no Slack. Each boundary cites DOMAIN.md.
SPS is handled in tenths (integer) so that comparisons at .5 are exact.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar


class Level(StrEnum):
    """Colour of a band: good (green), warning (yellow), critical (red), unknown (no data)."""

    GOOD = "good"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


class AhrBand(StrEnum):
    EXCELLENT = "Excellent"
    FAIR = "Fair"
    POOR = "Poor"
    DEACTIVATED = "Deactivated"


class ChrBand(StrEnum):
    HEALTHY = "Healthy"
    BE_CAREFUL = "Be careful"
    CRITICAL = "Critical"
    SUSPENDED = "Permanently suspended"


class SpsBand(StrEnum):
    """Partner Center's SPS filter bands, in tenths: [0,2.5) [2.5,3.5) [3.5,4.5) [4.5,5]."""

    BELOW_2_5 = "0-2.5"
    FROM_2_5 = "2.5-3.5"
    FROM_3_5 = "3.5-4.5"
    FROM_4_5 = "4.5-5"
    UNSCORED = "not scored"


class Score(StrEnum):
    AHR = "ahr"
    SPS = "sps"
    CHR = "chr"


# DOMAIN.md "Comparison and action required": strictly more than these drops.
AHR_DROP_LIMIT = 20
SPS_DROP_LIMIT_TENTHS = 5
CHR_DROP_LIMIT = 20
DROP_LIMITS = {Score.AHR: AHR_DROP_LIMIT, Score.SPS: SPS_DROP_LIMIT_TENTHS, Score.CHR: CHR_DROP_LIMIT}

AHR_START = 200
MILESTONE_WARNING_POINTS = 10
FIRST_APPEAL_DAYS = 30
SECOND_APPEAL_DAYS = 15
VIOLATION_WINDOWS = (7, 60)
POINTS_BAN = 48


# Every band as an inclusive range in the stored unit (SPS in tenths): the one place thresholds
# live. The SQL filters in bot.services read these same tables.
Range = tuple[int, int]
AHR_BANDS: dict[AhrBand, Range] = {
    AhrBand.EXCELLENT: (200, 1000),  # Excellent >= 200
    AhrBand.FAIR: (51, 199),  # Fair 51..199
    AhrBand.POOR: (1, 50),  # Poor 1..50
    AhrBand.DEACTIVATED: (0, 0),  # Deactivated 0
}
SPS_BANDS: dict[SpsBand, Range] = {
    SpsBand.BELOW_2_5: (1, 24),  # [0, 2.5) among scored shops
    SpsBand.FROM_2_5: (25, 34),
    SpsBand.FROM_3_5: (35, 44),
    SpsBand.FROM_4_5: (45, 50),
    SpsBand.UNSCORED: (0, 0),  # 0 or missing means "not scored yet", never "bad"
}
CHR_BANDS: dict[ChrBand, Range] = {
    ChrBand.HEALTHY: (200, 1000),  # Healthy >= 200
    ChrBand.BE_CAREFUL: (151, 199),  # Be careful 151..199
    ChrBand.CRITICAL: (1, 150),  # Critical 1..150
    ChrBand.SUSPENDED: (0, 0),  # Permanently suspended 0
}
# Overview ("notably abnormal"): one warning and one critical range per score.
LEVELS: dict[Score, dict[Level, Range]] = {
    Score.AHR: {Level.GOOD: (200, 1000), Level.WARNING: (51, 199), Level.CRITICAL: (0, 50)},
    Score.SPS: {Level.GOOD: (35, 50), Level.WARNING: (25, 34), Level.CRITICAL: (1, 24)},  # 0 excluded
    Score.CHR: {Level.GOOD: (200, 1000), Level.WARNING: (151, 199), Level.CRITICAL: (0, 150)},
}


K = TypeVar("K")


def _find(table: dict[K, Range], value: int) -> K | None:
    return next((key for key, (low, high) in table.items() if low <= value <= high), None)


def level(score: Score, value: int | None) -> Level:
    found = None if value is None else _find(LEVELS[score], value)
    return found or Level.UNKNOWN


def ahr_band(ahr: int | None) -> AhrBand | None:
    return None if ahr is None else _find(AHR_BANDS, ahr)


def ahr_level(ahr: int | None) -> Level:
    return level(Score.AHR, ahr)


def sps_scored(sps_tenths: int | None) -> bool:
    # 0 or missing means "not scored yet", never "bad".
    return sps_tenths is not None and sps_tenths > 0


def sps_band(sps_tenths: int | None) -> SpsBand:
    return (_find(SPS_BANDS, sps_tenths) if sps_tenths is not None else None) or SpsBand.UNSCORED


def sps_level(sps_tenths: int | None) -> Level:
    return level(Score.SPS, sps_tenths)


def chr_band(chr_: int | None) -> ChrBand | None:
    return None if chr_ is None else _find(CHR_BANDS, chr_)


def chr_level(chr_: int | None) -> Level:
    return level(Score.CHR, chr_)


def delta(today: int | None, then: int | None) -> int | None:
    """Today minus then; a missing value on either day means no delta."""
    if today is None or then is None:
        return None
    return today - then


def action_required(score: Score, today: int | None, then: int | None) -> bool:
    """True when the score fell by strictly more than its limit (values in tenths for SPS)."""
    if score is Score.SPS and not (sps_scored(today) and sps_scored(then)):
        return False  # becoming scored or unscored is not a drop in performance
    change = delta(today, then)
    return change is not None and change < -DROP_LIMITS[score]


def sps_tenths(value: float | str | None) -> int | None:
    if value is None or value == "":
        return None
    return round(float(value) * 10)


def format_sps(tenths: int | None) -> str:
    if tenths is None:
        return "-"
    if tenths == 0:
        return "not scored yet"
    return f"{tenths / 10:.1f}"


# ---- Status vocabulary (Seller Center's own words, matched loosely) ----

_SEPARATORS = re.compile(r"[\s_\-]+")


def normalize_status(text: str) -> str:
    """Lower case, with spaces, hyphens and underscores alike: 'Appeal_failed' == 'appeal failed'."""
    return _SEPARATORS.sub(" ", text.strip().lower()).replace("( ", "(").replace(" )", ")")


ENFORCEMENT_STATUSES = {
    normalize_status(s): s
    for s in (
        "Enforced",
        "No action",
        "Pending",
        "Revoked",
        "Enforcement pending",
        "Violation warning",
    )
}
APPEAL_STATUSES = {
    normalize_status(s): s
    for s in (
        "Not appealed",
        "Not yet appealed",
        "Appealing",
        "Appeal failed (can appeal again)",
        "Appeal failed",
        "Appeal succeeded",
    )
}
VIOLATION_STATUSES = {normalize_status(s): s for s in ("Violation - Deduction", "Violation - Warning")}

SHOP_COUNTED = {"Enforced", "No action", "Pending"}
ACCOUNT_COUNTED = {"Enforced", "Enforcement pending", "Violation warning"}
SHOP_APPEALABLE = {"Not appealed", "Appeal failed (can appeal again)"}


@dataclass(frozen=True, slots=True)
class ViolationFacts:
    """What the rules need to know about one violation."""

    scope: str  # "shop" | "account"
    notified_at: dt.date
    enforcement_status: str
    appeal_status: str
    appeal_rejected_at: dt.date | None = None
    violation_status: str | None = None


def in_last_days(notified_at: dt.date, today: dt.date, days: int) -> bool:
    """'Last N days' includes the notice N days ago (day 7 counts, day 8 does not)."""
    return today - dt.timedelta(days=days) <= notified_at <= today


def counted(v: ViolationFacts) -> bool:
    allowed = SHOP_COUNTED if v.scope == "shop" else ACCOUNT_COUNTED
    return v.enforcement_status in allowed


def appeal_deadline(v: ViolationFacts) -> dt.date:
    """Last calendar day to appeal: 30 days from notice, or 15 days from the first rejection."""
    if v.appeal_rejected_at is not None and v.appeal_status == "Appeal failed (can appeal again)":
        return v.appeal_rejected_at + dt.timedelta(days=SECOND_APPEAL_DAYS)
    return v.notified_at + dt.timedelta(days=FIRST_APPEAL_DAYS)


def appealable(v: ViolationFacts, today: dt.date) -> bool:
    """Appealable by its status and still inside its deadline (DOMAIN.md 'Violations')."""
    if v.scope == "shop":
        by_status = v.appeal_status in SHOP_APPEALABLE and in_last_days(v.notified_at, today, 60)
    else:
        by_status = v.violation_status == "Violation - Deduction" and v.appeal_status == "Not yet appealed"
    return by_status and today <= appeal_deadline(v)


def days_left_to_appeal(v: ViolationFacts, today: dt.date) -> int:
    return (appeal_deadline(v) - today).days


# ---- Regions and milestones ----

POINT_SYSTEM_REGIONS = frozenset({"PH", "MY", "TH", "VN", "SG"})


def uses_penalty_points(region: str, *, uk_48_point: bool = False) -> bool:
    """48-point regions add penalty points instead of losing AHR; the UK is configurable."""
    region = region.upper()
    return region in POINT_SYSTEM_REGIONS or (uk_48_point and region in {"UK", "GB"})


@dataclass(frozen=True, slots=True)
class Milestone:
    score: int
    restriction: str


_US_MILESTONES = (
    Milestone(150, "7 days without creating listings or joining mega campaigns"),
    Milestone(100, "14 days without creating listings or joining mega campaigns"),
    Milestone(50, "28 days without creating listings or joining mega campaigns"),
    Milestone(0, "permanent deactivation"),
)
_EU_MILESTONES = (
    _US_MILESTONES[0],
    _US_MILESTONES[1],
    Milestone(50, "14 days without listing changes and 28 days without withdrawals"),
    _US_MILESTONES[3],
)
MILESTONES: dict[str, tuple[Milestone, ...]] = {"US": _US_MILESTONES, "FR": _EU_MILESTONES}


def milestones_for(region: str) -> tuple[Milestone, ...]:
    return MILESTONES.get(region.upper(), _US_MILESTONES)


def next_milestone(ahr: int, region: str = "US") -> Milestone | None:
    """The highest milestone strictly below the score: the next one a falling score meets."""
    for milestone in milestones_for(region):
        if ahr > milestone.score:
            return milestone
    return None


def milestone_warning(ahr: int, region: str = "US") -> bool:
    """Sellers are warned within 10 points above a milestone (exactly 10 above included)."""
    milestone = next_milestone(ahr, region)
    return milestone is not None and ahr - milestone.score <= MILESTONE_WARNING_POINTS


GAIN_PER_ORDERS = (4, 200)  # +4 AHR per 200 completed orders
MAX_WEEKLY_GAIN = 20
WINDOW_DAYS = 180


def weekly_gain(completed_orders_per_week: int) -> int:
    """AHR gained in a week from completed orders: +4 per full 200, at most +20."""
    points, orders = GAIN_PER_ORDERS
    return min(MAX_WEEKLY_GAIN, points * (completed_orders_per_week // orders))


@dataclass(frozen=True, slots=True)
class Recovery:
    milestone: Milestone  # the milestone to climb back above
    points_needed: int
    weekly_gain: int
    weeks: int | None  # None: not reachable within the 180-day window at this pace

    @property
    def reachable(self) -> bool:
        return self.weeks is not None


def recovery(ahr: int, completed_orders_per_week: int | None, region: str = "US") -> Recovery | None:
    """How long recent completed orders take to lift the score above the milestone it fell through.

    None when the score is above every milestone (nothing to recover), deactivated (permanent), or
    the order rate is unknown.
    """
    above = [m for m in milestones_for(region) if m.score >= ahr]
    if ahr <= 0 or not above or completed_orders_per_week is None:  # 0 is permanent
        return None
    milestone = min(above, key=lambda m: m.score)  # the nearest one at or above today's score
    needed = milestone.score + 1 - ahr
    gain = weekly_gain(completed_orders_per_week)
    weeks = -(-needed // gain) if gain else None
    if weeks is not None and weeks * 7 > WINDOW_DAYS:
        weeks = None
    return Recovery(milestone, needed, gain, weeks)


def crossed_milestones(before: int | None, after: int | None, region: str = "US") -> list[Milestone]:
    """Milestones a score fell onto or through between two days (150 -> 150 is not a crossing)."""
    if before is None or after is None:
        return []
    return [m for m in milestones_for(region) if after <= m.score < before]
