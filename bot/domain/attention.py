"""One definition of "needs action" (DOMAIN.md "One definition of needs action"), and how urgent each
reason is: the digest, the lists, the overview, App Home and DMs all name the same reasons.

Pure: the facts about one seller go in, its reasons come out. The SQL that counts the same sellers
over a whole portfolio lives in `bot.services.attention`, built from the same thresholds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.regions import (
    MILESTONE_WARNING_POINTS,
    POINTS_BAN,
    Milestone,
    PointsRules,
    crossed_milestones,
    milestone_warning,
    next_milestone,
)
from bot.domain.scores import (
    Level,
    Score,
    Window,
    action_required,
    ahr_band,
    ahr_level,
    chr_band,
    chr_level,
    delta,
    format_sps,
    sps_level,
)

APPEAL_SOON_DAYS = 7  # an appeal deadline within 7 days (deadline day included) needs action
DEFAULT_RULES = PointsRules()


class Reason(StrEnum):
    """Why a seller is on a list, most urgent first: the digest's "Act today" come first."""

    APPEAL = "appeal"  # an appeal deadline within 7 days
    MILESTONE = "milestone"  # AHR reached a milestone in the window
    RESTRICTED = "restricted"  # a restriction from an earlier milestone is still in force
    NEAR_MILESTONE = "near-milestone"  # within 10 points above a milestone: a warning, not counted
    POINTS = "points"  # a 48-point shop near the ban, or gaining points fast
    ACCESS = "access"  # the partner lost the shop's authorization in the window
    AHR_DROP = "ahr-drop"
    SPS_DROP = "sps-drop"
    CHR_DROP = "chr-drop"
    CRITICAL = "critical"  # a score in its critical band, with no fresher news

    @property
    def act_today(self) -> bool:
        return self in ACT_TODAY

    @property
    def counted(self) -> bool:
        """Whether the reason makes a seller "need action" (the overview's count and GMV)."""
        return self is not Reason.NEAR_MILESTONE


ACT_TODAY = frozenset(
    {Reason.APPEAL, Reason.MILESTONE, Reason.RESTRICTED, Reason.NEAR_MILESTONE, Reason.POINTS, Reason.ACCESS}
)
URGENCY = {reason: rank for rank, reason in enumerate(Reason)}


@dataclass(frozen=True, slots=True)
class Appeal:
    """A seller's nearest open appeal: its last day, the policy and the points at stake."""

    until: dt.date
    policy: str
    points: int


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rule reads about one seller, compared over one window (values `then` are the
    window's start). SPS in tenths; CHR is the worst linked account, `chr_then` that account's
    value less its largest fall, so `chr - chr_then` is the largest per-account change."""

    region: str
    authorized: bool
    chr_authorized: bool
    points_region: bool
    ahr: int | None = None
    ahr_then: int | None = None
    sps_tenths: int | None = None
    sps_tenths_then: int | None = None
    chr: int | None = None
    chr_then: int | None = None
    points: int | None = None  # 48-point shops: penalty points in the last 180 days
    points_then: int | None = None
    restricted_until: dt.date | None = None  # the end of the restriction in force (the day it lifts)
    restriction: int | None = None  # the milestone (score) that brought it
    appeal: Appeal | None = None
    access_lost_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    reason: Reason
    text: str


def findings(
    facts: Facts,
    *,
    today: dt.date,
    window: Window,
    since: dt.datetime,
    rules: PointsRules = DEFAULT_RULES,
) -> list[Finding]:
    """Every reason the seller is on a list, most urgent first, in the manager's words.

    `since`: the start of the window for lost authorization (the previous digest, or a day or a
    week before now). A 48-point shop is never flagged or advised on AHR (DOMAIN.md "Regions").
    """
    found: list[Finding] = []
    when = "since yesterday" if window is Window.DAY else "in 7 days"
    if facts.access_lost_at is not None and facts.access_lost_at >= since and not facts.authorized:
        found.append(
            Finding(Reason.ACCESS, f"Shop access lost {facts.access_lost_at:%b %-d}: request it again")
        )
    if not facts.authorized:
        return found
    appeal = facts.appeal
    if appeal is not None and 0 <= (appeal.until - today).days <= APPEAL_SOON_DAYS:
        left = (appeal.until - today).days
        due = "today" if left == 0 else "tomorrow" if left == 1 else f"in {left} days"
        stake = f"{appeal.points} pts" if appeal.points else "a warning, no points"
        found.append(
            Finding(Reason.APPEAL, f"Appeal {appeal.policy} ({stake}) by {appeal.until:%b %-d}, {due}")
        )
    if facts.points_region:
        found += _points(facts, rules, when)
    else:
        found += _ahr(facts, today, when)
    if action_required(Score.SPS, facts.sps_tenths, facts.sps_tenths_then):
        found.append(
            Finding(
                Reason.SPS_DROP,
                f"SPS fell {when} ({format_sps(facts.sps_tenths_then)} → {format_sps(facts.sps_tenths)})",
            )
        )
    if sps_level(facts.sps_tenths) is Level.CRITICAL:
        found.append(Finding(Reason.CRITICAL, f"SPS {format_sps(facts.sps_tenths)} is critical"))
    if facts.chr_authorized:
        if action_required(Score.CHR, facts.chr, facts.chr_then):
            fall = -(delta(facts.chr, facts.chr_then) or 0)
            found.append(Finding(Reason.CHR_DROP, f"CHR fell {fall} {when} (lowest account now {facts.chr})"))
        if chr_level(facts.chr) is Level.CRITICAL:
            found.append(Finding(Reason.CRITICAL, f"CHR {facts.chr} is {chr_band(facts.chr)}"))
    return sorted(found, key=lambda f: URGENCY[f.reason])


def _ahr(facts: Facts, today: dt.date, when: str) -> list[Finding]:
    found = []
    ahr, then = facts.ahr, facts.ahr_then
    crossed = crossed_milestones(then, ahr, facts.region)
    in_force = facts.restricted_until is not None and today < facts.restricted_until
    if crossed:
        found.append(Finding(Reason.MILESTONE, _reached(crossed[-1], then, ahr, facts.restricted_until)))
    elif in_force:
        assert facts.restricted_until is not None
        found.append(
            Finding(
                Reason.RESTRICTED,
                f"Restricted until {facts.restricted_until:%b %-d} (reached {facts.restriction}): "
                "no new listings or mega campaigns",
            )
        )
    if action_required(Score.AHR, ahr, then) and not crossed:
        found.append(Finding(Reason.AHR_DROP, f"AHR fell {-(delta(ahr, then) or 0)} {when} ({then} → {ahr})"))
    if ahr_level(ahr) is Level.CRITICAL and not crossed:
        found.append(Finding(Reason.CRITICAL, f"AHR {ahr} is {ahr_band(ahr)}"))
    if ahr is not None and not crossed and milestone_warning(ahr, facts.region):
        milestone = next_milestone(ahr, facts.region)
        assert milestone is not None
        found.append(
            Finding(
                Reason.NEAR_MILESTONE,
                f"AHR {ahr} is {ahr - milestone.score} above {milestone.score} "
                f"(within {MILESTONE_WARNING_POINTS}): {milestone.restriction} if it falls",
            )
        )
    return found


def _reached(milestone: Milestone, then: int | None, ahr: int | None, until: dt.date | None) -> str:
    text = f"AHR {then} → {ahr}: reached {milestone.score}"
    if milestone.days is None:
        return f"{text}: {milestone.restriction}"
    end = f" until {until:%b %-d}" if until is not None else f" for {milestone.days} days"
    return f"{text}: restricted{end} ({milestone.restriction})"


def _points(facts: Facts, rules: PointsRules, when: str) -> list[Finding]:
    points, then = facts.points, facts.points_then
    if points is None:
        return []
    if rules.level(points) is Level.CRITICAL:
        return [
            Finding(
                Reason.POINTS, f"{points}/{POINTS_BAN} penalty points: {POINTS_BAN - points} from the ban"
            )
        ]
    if rules.rose(points, then):
        assert then is not None
        return [Finding(Reason.POINTS, f"{points - then} penalty points {when} (now {points}/{POINTS_BAN})")]
    return []


def needs_action(found: list[Finding]) -> bool:
    return any(f.reason.counted for f in found)


def most_urgent(found: list[Finding]) -> Reason | None:
    return min((f.reason for f in found), key=URGENCY.__getitem__, default=None)
