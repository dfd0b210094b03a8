"""One seller's card: its scores and their history, CHR per TikTok account, violations with their
appeal deadlines, what happens next without anyone acting, and the team's follow-up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from bot import domain
from bot.db.models import (
    AccountSnapshot,
    DataRefresh,
    MetricSnapshot,
    Violation,
)
from bot.db.together import Together
from bot.services import dispatch
from bot.services.attention import Lens, card_findings
from bot.services.followup import TEAM, team_state
from bot.services.health import freshness_of
from bot.services.lookup import health_scores, shop_info, shop_row
from bot.services.records import (
    AccountHealth,
    GivenCounts,
    ShopDetail,
    ViolationItem,
    ViolationSummary,
)


class ViolationRow(Protocol):
    """What the card reads of a violation: a `Violation`, or the card's record of its columns."""

    @property
    def violation_id(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def policy(self) -> str: ...
    @property
    def points(self) -> int: ...
    @property
    def notified_at(self) -> dt.date: ...
    @property
    def enforcement_status(self) -> str: ...
    @property
    def appeal_status(self) -> str: ...
    @property
    def appeal_rejected_at(self) -> dt.date | None: ...
    @property
    def violation_status(self) -> str | None: ...


def next_point_expiry(violations: Sequence[ViolationRow], today: dt.date) -> tuple[dt.date, int] | None:
    """The next day deductions expire from the 180-day window, and how many points come back then."""
    window = dt.timedelta(days=domain.WINDOW_DAYS)
    by_day: dict[dt.date, int] = {}
    for v in violations:
        expires = v.notified_at + window
        if v.points > 0 and v.enforcement_status != "Revoked" and expires > today:
            by_day[expires] = by_day.get(expires, 0) + v.points
    if not by_day:
        return None
    first = min(by_day)
    return first, by_day[first]


def violation_facts(v: ViolationRow) -> domain.ViolationFacts:
    return domain.ViolationFacts(
        scope=v.scope,
        notified_at=v.notified_at,
        enforcement_status=v.enforcement_status,
        appeal_status=v.appeal_status,
        appeal_rejected_at=v.appeal_rejected_at,
        violation_status=v.violation_status,
    )


def _item(v: ViolationRow) -> ViolationItem:
    return ViolationItem(v.violation_id, v.scope, v.policy, v.points, v.notified_at)


def summarize_violations(violations: Sequence[ViolationRow], today: dt.date) -> ViolationSummary:
    facts = [(v, violation_facts(v)) for v in violations]
    counted = [f for _, f in facts if domain.counted(f)]
    open_appeals = sorted(
        ((_item(v), domain.appeal_until(f) or today) for v, f in facts if domain.appealable(f, today)),
        key=lambda item: item[1],
    )
    recent = sorted(
        (_item(v) for v, f in facts if domain.counted(f) and domain.in_last_days(f.notified_at, today, 7)),
        key=lambda item: (-item.points, item.notified_at, item.violation_id),
    )
    # A deduction leaves the rolling window exactly 180 days after it happened (next_point_expiry).
    window_start = today - dt.timedelta(days=domain.WINDOW_DAYS)
    points = sum(
        v.points
        for v, f in facts
        if f.enforcement_status != "Revoked" and window_start < f.notified_at <= today
    )
    return ViolationSummary(
        last_7d=sum(domain.in_last_days(f.notified_at, today, 7) for f in counted),
        last_60d=sum(domain.in_last_days(f.notified_at, today, 60) for f in counted),
        appealable=len(open_appeals),
        nearest_deadline=open_appeals[0][1] if open_appeals else None,
        appealable_items=open_appeals,
        points_180d=points,
        recent=recent,
    )


# The newest counts a Health List gave for a shop without violation rows: the day is found first
# (a part has no ORDER BY or LIMIT), the shop's having none checked once before any row is read.
_GIVEN_DAY = (
    select(func.max(MetricSnapshot.date))
    .where(
        MetricSnapshot.shop_id == bindparam("shop_id"),
        MetricSnapshot.date <= bindparam("as_of"),
        or_(
            MetricSnapshot.violations_7d.is_not(None),
            MetricSnapshot.violations_60d.is_not(None),
            MetricSnapshot.violations_appealable.is_not(None),
        ),
        ~select(Violation.violation_id).where(Violation.shop_id == bindparam("shop_id")).exists(),
    )
    .scalar_subquery()
)

# The card's reads in one statement (`Together`: one round trip, not seven): the shop's scores of
# its last days, its accounts' CHR on three days, its violations of 180 days, the data sources'
# refreshes for the footer, the team's state, the violation counts a Health List gave (for a
# shop without violation rows), and (given a zone) the dispatch watch. Built once:
# building costs more than running them.
_PARTS = {
    "team": TEAM,  # first: the widest, it gives the slots their types with the fewest NULLs
    "history": select(
        MetricSnapshot.date, MetricSnapshot.ahr, MetricSnapshot.sps_tenths, MetricSnapshot.completed_orders_7d
    ).where(
        MetricSnapshot.shop_id == bindparam("shop_id"),
        MetricSnapshot.date >= bindparam("trend_since"),
        MetricSnapshot.date <= bindparam("as_of"),
    ),
    "accounts": select(AccountSnapshot.tiktok_handle, AccountSnapshot.date, AccountSnapshot.chr).where(
        AccountSnapshot.shop_id == bindparam("shop_id"),
        AccountSnapshot.date.in_(bindparam("days", expanding=True)),
    ),
    "violations": select(
        Violation.violation_id,
        Violation.scope,
        Violation.policy,
        Violation.points,
        Violation.notified_at,
        Violation.enforcement_status,
        Violation.appeal_status,
        Violation.appeal_rejected_at,
        Violation.violation_status,
        Violation.appeal_until,
    ).where(
        Violation.shop_id == bindparam("shop_id"), Violation.notified_at >= bindparam("violations_since")
    ),
    "refreshes": select(*DataRefresh.__table__.columns),
    "given": select(
        MetricSnapshot.date,
        MetricSnapshot.violations_7d,
        MetricSnapshot.violations_60d,
        MetricSnapshot.violations_appealable,
    ).where(MetricSnapshot.shop_id == bindparam("shop_id"), MetricSnapshot.date == _GIVEN_DAY),
}
_CARD = Together(**_PARTS)
_CARD_AND_DISPATCH = Together(**_PARTS, dispatch=dispatch.CARD_DISPATCH)


def shop_detail(
    session: Session,
    shop_id: str,
    *,
    today: dt.date,
    trend_days: int = 30,
    lens: Lens | None = None,
    default_zone: str | None = None,
    now: dt.datetime | None = None,
) -> ShopDetail | None:
    """Everything the card shows of one seller; with a lens, also why to act (`card_findings`);
    with a zone (HEALTHBOT_TIMEZONE), also the dispatch watch at `now`."""
    # No statement when the lookup that found the shop has read it (and its health) already.
    shop = shop_row(session, shop_id)
    if shop is None:
        return None
    health = shop if shop.health_of is not None else None
    as_of = health.as_of if health and health.as_of else today
    days = {as_of: 0, as_of - dt.timedelta(days=1): 1, as_of - dt.timedelta(days=7): 2}
    now = now or dt.datetime.now(dt.UTC)
    params = {
        "shop_id": shop_id,
        "ids": [shop_id],
        "trend_since": as_of - dt.timedelta(days=trend_days - 1),
        "as_of": as_of,
        "days": list(days),
        "violations_since": today - dt.timedelta(days=180),
        **(dispatch.card_dispatch_params(shop_id, now, default_zone) if default_zone else {}),
    }
    card = _CARD_AND_DISPATCH if default_zone else _CARD
    read = card.split(session.connection().execute(card.statement, params))
    history = sorted(read["history"], key=lambda h: h.date)
    by_handle: dict[str, list[int | None]] = {}
    for handle, day, chr_ in read["accounts"]:
        by_handle.setdefault(handle, [None, None, None])[days[day]] = chr_
    violations = sorted(read["violations"], key=lambda v: (v.notified_at, v.violation_id))
    late_dispatch, sources = (
        dispatch.card_dispatch(session, shop_id, now, default_zone, read=read["dispatch"][0])
        if default_zone
        else (None, None)
    )
    return ShopDetail(
        shop=shop_info(shop),
        health=health_scores(health) if health else None,
        ahr_trend=[(h.date, h.ahr) for h in history],
        sps_trend=[(h.date, h.sps_tenths) for h in history],
        accounts=[AccountHealth(h, *values) for h, values in sorted(by_handle.items())],
        shop_violations=summarize_violations([v for v in violations if v.scope == "shop"], today),
        account_violations=summarize_violations([v for v in violations if v.scope == "account"], today),
        freshness=freshness_of(read["refreshes"]),
        today=today,
        completed_orders_7d=next((h.completed_orders_7d for h in history if h.date == as_of), None),
        # A deactivated shop gets nothing back: no outlook of points leaving the window.
        next_expiry=next_point_expiry([v for v in violations if v.scope == "shop"], today)
        if domain.can_recover(health.ahr if health else None)
        else None,
        given_counts=next((GivenCounts(*given) for given in read["given"]), None),
        findings=card_findings(shop, violations, lens) if lens and health else [],
        team=team_state(read["team"][0], today),
        late_dispatch=late_dispatch,
        sources=sources,
    )
