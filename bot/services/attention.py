"""Which sellers need action, in SQL and in words: DOMAIN.md's one definition, for every list,
count, digest, App Home and DM.

A `Lens` is everything the answer depends on besides the data: the day (appeal deadlines and
restrictions count from it), the comparison window, the 48-point settings, and where lost
authorization starts counting. `needs` is the rule as one SQL condition over shops and their
`shop_health` row (lists page with it); `section_of` gives each seller's most urgent reason in
SQL (the digest); `bot.services.groups` answers the portfolio's totals from the stored GROUP BY
without a pass over the shops; `explain` puts each row's reasons into words with
`bot.domain.findings`, so the words and the SQL share thresholds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, or_, select
from sqlalchemy.orm import Session

from bot import domain
from bot.db.models import Shop, ShopHealth, Violation
from bot.domain import Reason, Score, Window
from bot.services.digest_records import SECTIONS, Section
from bot.services.filters import AnyRow, critical_band, drop, seller_row_of, then_column
from bot.services.records import SellerRow
from bot.settings import Settings

ALL_SCORES = tuple(Score)


@dataclass(frozen=True)
class Lens:
    today: dt.date
    window: Window = Window.DAY
    rules: domain.PointsRules = domain.DEFAULT_RULES
    uk_48_point: bool = False

    @property
    def since(self) -> dt.datetime:
        """Lost authorization counts from the start of the window's first day (UTC), so every
        question asked on one day gets the same answer."""
        days = 1 if self.window is Window.DAY else 7
        return dt.datetime.combine(self.today - dt.timedelta(days=days), dt.time(), dt.UTC)

    @property
    def appeals_until(self) -> dt.date:
        return self.today + dt.timedelta(days=domain.APPEAL_SOON_DAYS)

    def key(self) -> tuple[Any, ...]:
        """The lens in a cache key."""
        rules = self.rules
        return (
            self.today.isoformat(),
            self.window,
            rules.warning,
            rules.critical,
            rules.rise,
            self.uk_48_point,
        )


def lens_for(settings: Settings, window: Window = Window.DAY, today: dt.date | None = None) -> Lens:
    return Lens(
        today=today or settings.today(),
        window=window,
        rules=points_rules(settings),
        uk_48_point=settings.healthbot_uk_48_point,
    )


def points_rules(settings: Settings) -> domain.PointsRules:
    return domain.PointsRules(
        warning=settings.healthbot_points_warning,
        critical=settings.healthbot_points_critical,
        rise=settings.healthbot_points_rise,
    )


# ---- the rule in SQL ----


def points_region(lens: Lens) -> ColumnElement[bool]:
    return Shop.region.in_(domain.penalty_point_regions(uk_48_point=lens.uk_48_point))


def appeals_due(lens: Lens) -> Select[Any]:
    """Shops with an appeal whose last day falls within the next 7 days (an indexed range)."""
    return select(Violation.shop_id).where(
        Violation.appeal_until >= lens.today,
        Violation.appeal_until <= lens.appeals_until,
        Violation.notified_at <= lens.today,
    )


def _points_then(lens: Lens) -> Any:
    return ShopHealth.points_1d if lens.window is Window.DAY else ShopHealth.points_7d


def needs(lens: Lens, scores: Sequence[Score] = ALL_SCORES, *, appeals: bool = True) -> ColumnElement[bool]:
    """Needs action, as a condition over shops joined to `shop_health`. With fewer than all three
    scores, only those scores' reasons count (a 48-point shop's points count as its AHR); the
    reasons of no score (appeals, unless `appeals` is False, and lost access) count when all three
    are asked."""
    on_points = points_region(lens)
    parts: list[ColumnElement[bool]] = []
    if Score.AHR in scores:
        parts.append(and_(~on_points, or_(drop(Score.AHR, lens.window), critical_band(Score.AHR))))
        parts.append(crossed_or_restricted(lens))
        parts.append(points_trouble(lens))
    for score in (Score.SPS, Score.CHR):
        if score in scores:
            parts.append(or_(drop(score, lens.window), critical_band(score)))
    if tuple(scores) == ALL_SCORES:
        parts += [appeal_soon(lens), lost_access(lens)] if appeals else [lost_access(lens)]
    return or_(*parts) if parts else false()


def crossed_or_restricted(lens: Lens) -> ColumnElement[bool]:
    """AHR reached a milestone over the window, or a restriction is still in force."""
    then = then_column(lens.window, Score.AHR)
    crossed = or_(*(and_(then > m, ShopHealth.ahr <= m) for m in domain.MILESTONE_SCORES))
    return and_(
        Shop.authorized.is_(True),
        ~points_region(lens),
        or_(crossed, ShopHealth.restricted_until > lens.today),
    )


def near_milestone(lens: Lens) -> ColumnElement[bool]:
    """AHR within 10 points above a milestone: a warning (shown, never counted as needing action)."""
    ranges = [
        ShopHealth.ahr.between(m + 1, m + domain.MILESTONE_WARNING_POINTS) for m in domain.MILESTONE_SCORES
    ]
    return and_(Shop.authorized.is_(True), ~points_region(lens), or_(*ranges))


def points_trouble(lens: Lens) -> ColumnElement[bool]:
    """A 48-point shop at or above the critical points, or gaining the configured points."""
    rules = lens.rules
    return and_(
        Shop.authorized.is_(True),
        points_region(lens),
        or_(ShopHealth.points >= rules.critical, ShopHealth.points - _points_then(lens) >= rules.rise),
    )


def lost_access(lens: Lens) -> ColumnElement[bool]:
    return and_(Shop.authorized.is_(False), Shop.authorization_lost_at >= lens.since)


def appeal_soon(lens: Lens) -> ColumnElement[bool]:
    return and_(Shop.authorized.is_(True), Shop.shop_id.in_(appeals_due(lens)))


def in_critical_band(lens: Lens) -> ColumnElement[bool]:
    return or_(
        and_(~points_region(lens), critical_band(Score.AHR)),
        critical_band(Score.SPS),
        critical_band(Score.CHR),
    )


def section_of(lens: Lens) -> ColumnElement[int | None]:
    """A seller's most urgent reason in SQL, as the position of its digest section
    (`digest_records.SECTIONS`): the first that holds, in the order of `Reason`; None when none does.
    The same answer as `SECTION_OF[findings(...)[0].reason]`, for every seller at once."""
    on_points = points_region(lens)
    first = [
        (appeal_soon(lens), Section.APPEALS),
        (crossed_or_restricted(lens), Section.RESTRICTIONS),
        (near_milestone(lens), Section.NEAR_MILESTONE),
        (points_trouble(lens), Section.POINTS),
        (lost_access(lens), Section.ACCESS),
        (and_(~on_points, drop(Score.AHR, lens.window)), Section.AHR_DROP),
        (drop(Score.SPS, lens.window), Section.SPS_DROP),
        (drop(Score.CHR, lens.window), Section.CHR_DROP),
        (in_critical_band(lens), Section.CRITICAL),
    ]
    return case(*((condition, SECTIONS.index(section)) for condition, section in first), else_=None)


# `/health atrisk <word>`: the sellers with one kind of reason (the digest's sections link to them).
REASON_WORDS = {
    "appeals": (appeal_soon, "an appeal deadline within 7 days"),
    "restricted": (crossed_or_restricted, "a milestone reached or a restriction in force"),
    "near": (near_milestone, "AHR within 10 points of a milestone"),
    "points": (points_trouble, "48-point shops near the ban or gaining points"),
    "access": (lost_access, "authorization lost"),
    "critical": (in_critical_band, "a score in its critical band"),
}


# ---- reasons in words ----


def explain(
    session: Session, rows: Iterable[SellerRow], lens: Lens, scores: Sequence[Score] = ALL_SCORES
) -> list[SellerRow]:
    """The rows with their reasons (most urgent first) in the manager's words."""
    rows = list(rows)
    found = findings_of(session, rows, lens, scores)
    return [
        replace(
            row,
            reasons=tuple(f.text for f in found[row.shop_id]),
            why=tuple(f.reason for f in found[row.shop_id]),
        )
        for row in rows
    ]


def findings_of(
    session: Session, rows: Sequence[SellerRow], lens: Lens, scores: Sequence[Score] = ALL_SCORES
) -> dict[str, list[domain.Finding]]:
    """Each row's findings (`bot.domain.findings`), the nearest appeal read for them all at once."""
    appeals = nearest_appeals(session, [r.shop_id for r in rows], lens)
    return {
        row.shop_id: [
            f
            for f in domain.findings(
                facts(row, lens, appeals.get(row.shop_id)),
                today=lens.today,
                window=lens.window,
                since=lens.since,
                rules=lens.rules,
            )
            if _about(f.reason, scores)
        ]
        for row in rows
    }


def card_findings(found: AnyRow, violations: Iterable[Any], lens: Lens) -> list[domain.Finding]:
    """One seller's findings (`findings_of`) from the rows its card has already read: the shop with
    its health (`lookup.SHOP_ROW`) and its violations of the last 180 days (every appeal still
    open is among them). A shop without health has none (as `seller_select`, which joins it)."""
    due = [
        (v.appeal_until, -v.points, v.violation_id, v.policy)  # `nearest_appeals`' order
        for v in violations
        if v.appeal_until is not None
        and lens.today <= v.appeal_until <= lens.appeals_until
        and v.notified_at <= lens.today
    ]
    nearest = min(due, default=None)
    appeal = domain.Appeal(nearest[0], nearest[3], -nearest[1]) if nearest else None
    row = seller_row_of(found, lens.window)
    return domain.findings(
        facts(row, lens, appeal), today=lens.today, window=lens.window, since=lens.since, rules=lens.rules
    )


SCORE_REASONS = {
    Score.AHR: {Reason.AHR_DROP, Reason.MILESTONE, Reason.RESTRICTED, Reason.POINTS, Reason.NEAR_MILESTONE},
    Score.SPS: {Reason.SPS_DROP},
    Score.CHR: {Reason.CHR_DROP},
}


def _about(reason: Reason, scores: Sequence[Score]) -> bool:
    if tuple(scores) == ALL_SCORES:
        return True
    if reason is Reason.CRITICAL:
        return True  # its text names the score; the row is listed because one asked-for score is
    return any(reason in SCORE_REASONS[s] for s in scores)


def facts(row: SellerRow, lens: Lens, appeal: domain.Appeal | None = None) -> domain.Facts:
    return domain.Facts(
        region=row.region,
        authorized=row.authorized,
        chr_authorized=row.chr_authorized,
        points_region=domain.uses_penalty_points(row.region, uk_48_point=lens.uk_48_point),
        ahr=row.ahr,
        ahr_then=row.ahr_then,
        sps_tenths=row.sps_tenths,
        sps_tenths_then=row.sps_tenths_then,
        chr=row.chr,
        chr_then=row.chr_then,
        points=row.points,
        points_then=row.points_then,
        restricted_until=row.restricted_until,
        restriction=row.restriction,
        appeal=appeal,
        access_lost_at=row.access_lost_at,
    )


MAX_IN_LIST = 1000  # beyond this many shops a range read and a filter beat an IN list (and its limits)


def nearest_appeals(session: Session, shop_ids: Sequence[str], lens: Lens) -> dict[str, domain.Appeal]:
    """Each shop's open appeal whose last day is nearest, from today to 7 days on (the only ones a
    reason is made of): an indexed range, narrowed to the shops asked for."""
    wanted = set(shop_ids)
    if not wanted:
        return {}
    query = (
        select(Violation.shop_id, Violation.appeal_until, Violation.policy, Violation.points)
        .where(
            Violation.appeal_until >= lens.today,
            Violation.appeal_until <= lens.appeals_until,
            Violation.notified_at <= lens.today,
        )
        .order_by(Violation.shop_id, Violation.appeal_until, Violation.points.desc(), Violation.violation_id)
    )
    if len(wanted) <= MAX_IN_LIST:
        query = query.where(Violation.shop_id.in_(sorted(wanted)))
    nearest: dict[str, domain.Appeal] = {}
    for shop_id, until, policy, points in session.execute(query):
        if until is not None and shop_id in wanted:
            nearest.setdefault(shop_id, domain.Appeal(until, policy, points))
    return nearest
