"""Regions and milestones (DOMAIN.md "Regions", "How AHR moves", "Restrictions in force"): which
shops use the 48-point system and how they are warned, the AHR milestones, the restrictions they
bring and until when, and the recovery a seller's orders buy back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.scores import Level

MILESTONE_WARNING_POINTS = 10
POINTS_BAN = 48

# Seed 003 names Indonesia among the founding 48-point markets; the UK is a setting.
POINT_SYSTEM_REGIONS = frozenset({"ID", "PH", "MY", "TH", "VN", "SG"})


@dataclass(frozen=True, slots=True)
class PointsRules:
    """How a 48-point shop is warned (DOMAIN.md "Regions"): the seeds give only the ban at 48, so
    these three numbers are settings, named on the card."""

    warning: int = 24  # 24..critical-1 points: warning
    critical: int = 36  # within 12 of the ban: critical, needs action
    rise: int = 6  # points added over the comparison window that need action

    def level(self, points: int | None) -> Level:
        if points is None:
            return Level.UNKNOWN
        if points >= self.critical:
            return Level.CRITICAL
        return Level.WARNING if points >= self.warning else Level.GOOD

    def rose(self, now: int | None, then: int | None) -> bool:
        return now is not None and then is not None and now - then >= self.rise


def penalty_point_regions(*, uk_48_point: bool = False) -> frozenset[str]:
    """Every region code on the 48-point system (upper case), for SQL filters."""
    return POINT_SYSTEM_REGIONS | {"UK", "GB"} if uk_48_point else POINT_SYSTEM_REGIONS


def uses_penalty_points(region: str, *, uk_48_point: bool = False) -> bool:
    """48-point regions add penalty points instead of losing AHR; the UK is configurable."""
    return region.upper() in penalty_point_regions(uk_48_point=uk_48_point)


@dataclass(frozen=True, slots=True)
class Milestone:
    score: int
    restriction: str
    days: int | None = None  # how long the restriction lasts; None: permanent (deactivation)


_US_MILESTONES = (
    Milestone(150, "7 days without creating listings or joining mega campaigns", 7),
    Milestone(100, "14 days without creating listings or joining mega campaigns", 14),
    Milestone(50, "28 days without creating listings or joining mega campaigns", 28),
    Milestone(0, "permanent deactivation"),
)
_EU_MILESTONES = (
    _US_MILESTONES[0],
    _US_MILESTONES[1],
    Milestone(50, "14 days without listing changes and 28 days without withdrawals", 28),
    _US_MILESTONES[3],
)
MILESTONES: dict[str, tuple[Milestone, ...]] = {"US": _US_MILESTONES, "FR": _EU_MILESTONES}
# Every score that is a milestone in some region, lowest first (for SQL over all regions at once).
MILESTONE_SCORES: tuple[int, ...] = tuple(sorted({m.score for ms in MILESTONES.values() for m in ms}))


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


def can_recover(ahr: int | None) -> bool:
    """Whether points coming back (deductions leaving the window, gains from orders) can lift the
    score: not once deactivated, since AHR 0 is permanent (DOMAIN.md, milestones)."""
    return ahr is None or ahr > 0


def recovery(ahr: int, completed_orders_per_week: int | None, region: str = "US") -> Recovery | None:
    """How long recent completed orders take to lift the score above the milestone it fell through.

    None when the score is above every milestone (nothing to recover), deactivated (permanent), or
    the order rate is unknown.
    """
    above = [m for m in milestones_for(region) if m.score >= ahr]
    if not can_recover(ahr) or not above or completed_orders_per_week is None:
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


@dataclass(frozen=True, slots=True)
class Restriction:
    """A restriction a milestone brought: from the day the AHR reached it, until `until` (the day
    it lifts: in force while today < until). A policy quiz may shorten it (Seller Center)."""

    milestone: Milestone
    start: dt.date
    until: dt.date

    def in_force(self, today: dt.date) -> bool:
        return self.start <= today < self.until


def restrictions(history: Sequence[tuple[dt.date, int | None]], region: str = "US") -> list[Restriction]:
    """Every restriction the AHR history brought (DOMAIN.md "Restrictions in force"): each day the
    score reached a milestone from above (150 -> 150 is reached; 150 -> 149 is not again).
    Days without a value are skipped over: 160, -, 140 reached 150 on the day of the 140."""
    found = []
    before: int | None = None
    for day, ahr in sorted(history):
        if ahr is None:
            continue
        for milestone in crossed_milestones(before, ahr, region):
            if milestone.days is not None:
                found.append(Restriction(milestone, day, day + dt.timedelta(days=milestone.days)))
        before = ahr
    return found


def restriction_in_force(
    history: Sequence[tuple[dt.date, int | None]], region: str, today: dt.date
) -> Restriction | None:
    """The restriction in force today (the one lifting last, when several overlap), or None."""
    current = [r for r in restrictions(history, region) if r.in_force(today)]
    return max(current, key=lambda r: (r.until, -r.milestone.score), default=None)
