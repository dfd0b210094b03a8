"""Regions and milestones (DOMAIN.md "Regions", "How AHR moves"): which shops use the 48-point
system, the AHR milestones and their restrictions, and the recovery a seller's orders buy back."""

from __future__ import annotations

from dataclasses import dataclass

MILESTONE_WARNING_POINTS = 10
POINTS_BAN = 48

# Seed 003 names Indonesia among the founding 48-point markets though its table leaves it out.
POINT_SYSTEM_REGIONS = frozenset({"ID", "PH", "MY", "TH", "VN", "SG"})


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
