"""The rule of "needs action" over the stored GROUP BY (`bot.services.portfolio.groups`): shops
alike in everything the rule reads form one group, and the rule is worked out once per group for
a lens, so every count of the overview and the at-risk pages costs a pass over a few thousand
groups, not over the portfolio.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot import domain
from bot.db.models import Shop, ShopHealth
from bot.domain import Level, Score, Window
from bot.services.attention import ALL_SCORES, Lens, appeals_due, needs
from bot.services.health import flag, milestone_flag


@dataclass(frozen=True)
class Group:
    """Shops alike in everything the rule reads, and how many there are, with their GMV."""

    authorized: bool
    chr_authorized: bool
    region: str
    flags: int | None
    points: int | None
    points_1d: int | None
    points_7d: int | None
    restricted_until: dt.date | None
    lost_at: dt.datetime | None
    shops: int
    listed: int  # with a shop_health row
    gmv: float

    def key(self) -> tuple[Any, ...]:
        """What the shops of the group are alike in (GROUP_COLUMNS' values)."""
        return (
            self.authorized, self.chr_authorized, self.region, self.flags, self.points, self.points_1d,
            self.points_7d, self.restricted_until, self.lost_at,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class GroupReasons:
    """What makes a group of alike shops need action, by kind: its AHR (or penalty points), SPS,
    CHR, and lost access (a reason of no score). Appeals due are counted beside the groups
    (`appeals_only`)."""

    ahr: bool
    sps: bool
    chr: bool
    lost: bool

    def needs(self, scores: Sequence[Score] = ALL_SCORES) -> bool:
        """`needs` for these scores (the reasons of no score count when all three are asked)."""
        return (
            (self.ahr and Score.AHR in scores)
            or (self.sps and Score.SPS in scores)
            or (self.chr and Score.CHR in scores)
            or (self.lost and len(scores) == len(ALL_SCORES))
        )


def group_reasons(group: Group, lens: Lens) -> GroupReasons:
    """`needs`, taken apart by score, for a group of alike shops: worked out once per group, then
    asked for any set of scores."""
    flags = group.flags or 0
    window = lens.window
    if not group.authorized:
        lost = group.lost_at is not None and group.lost_at >= lens.since
        return GroupReasons(False, False, False, lost)
    on_points = domain.uses_penalty_points(group.region, uk_48_point=lens.uk_48_point)
    if not on_points:
        restricted = group.restricted_until is not None and group.restricted_until > lens.today
        ahr = bool(
            flags & (flag(Score.AHR, window) | flag(Score.AHR, Level.CRITICAL) | milestone_flag(window))
        )
        ahr = ahr or restricted
    elif group.points is not None:
        then = group.points_1d if window is Window.DAY else group.points_7d
        ahr = lens.rules.level(group.points) is Level.CRITICAL or lens.rules.rose(group.points, then)
    else:
        ahr = False
    sps = bool(flags & (flag(Score.SPS, window) | flag(Score.SPS, Level.CRITICAL)))
    chr_ = group.chr_authorized and bool(flags & (flag(Score.CHR, window) | flag(Score.CHR, Level.CRITICAL)))
    return GroupReasons(ahr, sps, chr_, False)


GROUP_COLUMNS = (
    Shop.authorized,
    Shop.chr_authorized,
    Shop.region,
    ShopHealth.flags,
    ShopHealth.points,
    ShopHealth.points_1d,
    ShopHealth.points_7d,
    ShopHealth.restricted_until,
    Shop.authorization_lost_at,
)


def appeals_only(session: Session, lens: Lens) -> tuple[int, float]:
    """The authorized shops that need action only for an appeal due, and their GMV: what the
    groups do not count (one aggregate over the indexed range of appeal deadlines)."""
    otherwise = case((needs(lens, appeals=False), 1), else_=0)  # NULL (no health row) is "no"
    shops, gmv = session.execute(
        select(func.count(), func.coalesce(func.sum(ShopHealth.gmv_7d), 0.0))
        .select_from(Shop)
        .join(ShopHealth, ShopHealth.shop_id == Shop.shop_id, isouter=True)
        .where(Shop.authorized.is_(True), Shop.shop_id.in_(appeals_due(lens)), otherwise == 0)
    ).one()
    return int(shops), float(gmv or 0)


def as_group(row: Sequence[Any]) -> Group:
    authorized, chr_authorized, region, flags, p0, p1, p7, until, lost, shops, listed, gmv = row
    if isinstance(until, str):
        until = dt.date.fromisoformat(until)
    if isinstance(lost, str):
        lost = dt.datetime.fromisoformat(lost)
    if lost is not None and lost.tzinfo is None:
        lost = lost.replace(tzinfo=dt.UTC)
    return Group(
        bool(authorized),
        bool(chr_authorized),
        str(region),
        flags,
        p0,
        p1,
        p7,
        until,
        lost,
        int(shops),
        int(listed),
        float(gmv or 0),
    )
