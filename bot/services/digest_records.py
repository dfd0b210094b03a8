"""The digest's and the portfolio trend's records: plain data, as in `bot.services.records`.

The sections of a digest in the order they are shown (what must be done today first), which
reason goes where, and one day's digest; a channel's subscription; the portfolio over time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain import AhrBand, Reason
from bot.services.records import SellerRow


class Section(StrEnum):
    """The digest's sections, in the order they are shown: what must be done today first."""

    APPEALS = "Appeal deadlines within 7 days"
    RESTRICTIONS = "Milestones reached, restrictions in force"
    NEAR_MILESTONE = "Within 10 points of a milestone"
    POINTS = "48-point shops near the ban"
    ACCESS = "Authorization lost"
    AHR_DROP = "AHR fell more than 20"
    SPS_DROP = "SPS fell more than 0.5"
    CHR_DROP = "CHR fell more than 20"
    CRITICAL = "Still in a critical band"

    @property
    def act_today(self) -> bool:
        return self in ACT_TODAY

    @property
    def word(self) -> str:
        """The `/health atrisk` word that lists every seller with this section's reason."""
        return SECTION_WORDS[self]


ACT_TODAY = (Section.APPEALS, Section.RESTRICTIONS, Section.NEAR_MILESTONE, Section.POINTS, Section.ACCESS)
SECTIONS = tuple(Section)  # a section's position, as `bot.services.attention.section_of` gives it
SECTION_OF: dict[Reason, Section] = {
    Reason.APPEAL: Section.APPEALS,
    Reason.MILESTONE: Section.RESTRICTIONS,
    Reason.RESTRICTED: Section.RESTRICTIONS,
    Reason.NEAR_MILESTONE: Section.NEAR_MILESTONE,
    Reason.POINTS: Section.POINTS,
    Reason.ACCESS: Section.ACCESS,
    Reason.AHR_DROP: Section.AHR_DROP,
    Reason.SPS_DROP: Section.SPS_DROP,
    Reason.CHR_DROP: Section.CHR_DROP,
    Reason.CRITICAL: Section.CRITICAL,
}
SECTION_WORDS: dict[Section, str] = {
    Section.APPEALS: "appeals",
    Section.RESTRICTIONS: "restricted",
    Section.NEAR_MILESTONE: "near",
    Section.POINTS: "points",
    Section.ACCESS: "access",
    Section.AHR_DROP: "ahr",
    Section.SPS_DROP: "sps",
    Section.CHR_DROP: "chr",
    Section.CRITICAL: "critical",
}


@dataclass
class Digest:
    """One day's digest: the sellers that need action under their most urgent reason (each once,
    its other reasons on the same row), and the same headline numbers as the overview."""

    day: dt.date
    # each section's top rows, and every seller of it a channel may follow in a digest thread
    sections: dict[Section, list[SellerRow]] = field(default_factory=dict)
    counts: dict[Section, int] = field(default_factory=dict)  # every seller of each section
    needs_action: int = 0  # as the overview counts them (snoozed included)
    gmv_at_risk: float = 0.0  # likewise
    groups: list[tuple[str, int]] = field(default_factory=list)  # (policy, sellers) hit the same day
    snoozed: int = 0  # sellers left out because someone snoozed them
    security: list[tuple[str, str, str, int]] = field(default_factory=list)  # open Security Center items

    @property
    def shop_ids(self) -> set[str]:
        return {row.shop_id for rows in self.sections.values() for row in rows}

    @property
    def sellers(self) -> int:
        return sum(self.count(section) for section in Section)

    def count(self, section: Section) -> int:
        return self.counts.get(section, len(self.sections.get(section, ())))

    @property
    def quiet(self) -> bool:
        return not any(self.sections.values()) and not self.security and not self.groups


@dataclass(frozen=True)
class Subscription:
    """A channel's daily digest: when (HH:MM local time) and in which zone."""

    channel_id: str
    post_at: str
    timezone: str
    skip_quiet_days: bool


@dataclass(frozen=True, slots=True)
class PortfolioDay:
    """One day of the portfolio: sellers per AHR band, and those whose scores needed action."""

    day: dt.date
    bands: dict[AhrBand, int]
    at_risk: int
    gmv_at_risk: float

    @property
    def scored(self) -> int:
        return sum(self.bands.values())


@dataclass(frozen=True, slots=True)
class PortfolioTrend:
    days: int
    points: list[PortfolioDay]  # one per calendar day of the period, oldest first; empty days have zeros

    @property
    def first(self) -> PortfolioDay | None:
        return next((p for p in self.points if p.scored or p.at_risk), None)

    @property
    def last(self) -> PortfolioDay | None:
        return next((p for p in reversed(self.points) if p.scored or p.at_risk), None)
