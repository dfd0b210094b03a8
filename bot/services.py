"""Domain services: plain functions over a session that answer the bot's questions. No Slack.

Overview, at-risk and list read the derived `shop_health` table (one row per shop); a shop's card
reads its own history and violations.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar, cast

from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from bot import domain, followup
from bot.domain import Score
from bot.health import data_version
from bot.models import (
    AccountSnapshot,
    Acknowledgement,
    DataRefresh,
    MetricSnapshot,
    Shop,
    ShopHealth,
    Snooze,
    Violation,
)

STALE_AFTER = dt.timedelta(hours=36)
T = TypeVar("T")


class Window(StrEnum):
    """Comparison window: yesterday (1d) or last 7 days (7d)."""

    DAY = "1d"
    WEEK = "7d"

    @property
    def label(self) -> str:
        return "vs yesterday" if self is Window.DAY else "vs 7 days ago"


class SortKey(StrEnum):
    GMV = "gmv"
    AHR = "ahr"
    SPS = "sps"
    CHR = "chr"


# ---- freshness ----


@dataclass(frozen=True)
class Freshness:
    data_date: dt.date | None
    refreshed_at: dt.datetime | None
    stale_sources: tuple[str, ...] = ()
    failing_sources: tuple[str, ...] = ()


def freshness(session: Session, now: dt.datetime | None = None) -> Freshness:
    now = now or dt.datetime.now(dt.UTC)
    rows = list(session.scalars(select(DataRefresh)))
    stamps = [_aware(r.refreshed_at) for r in rows if r.refreshed_at]
    return Freshness(
        data_date=max((r.data_date for r in rows if r.data_date), default=None),
        refreshed_at=max(stamps, default=None),
        stale_sources=tuple(
            sorted(r.source for r in rows if r.refreshed_at and now - _aware(r.refreshed_at) > STALE_AFTER)
        ),
        failing_sources=tuple(sorted(r.source for r in rows if r.last_error)),
    )


def _aware(stamp: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


# ---- rows shared by lists ----


@dataclass(frozen=True)
class SellerRow:
    shop_id: str
    shop_code: str
    shop_name: str
    region: str
    authorized: bool
    chr_authorized: bool
    owner: str | None
    ahr: int | None
    ahr_then: int | None
    sps_tenths: int | None
    sps_tenths_then: int | None
    chr: int | None
    chr_then: int | None
    gmv_7d: float | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    rows: list[SellerRow]
    total: int
    offset: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.offset - len(self.rows))


def _then(window: Window, score: Score) -> Any:
    column = {"ahr": "ahr", "sps": "sps_tenths", "chr": "chr"}[score.value]
    suffix = "_1d" if window is Window.DAY else "_7d"
    return getattr(ShopHealth, column + suffix)


def _now(score: Score) -> Any:
    return {Score.AHR: ShopHealth.ahr, Score.SPS: ShopHealth.sps_tenths, Score.CHR: ShopHealth.chr}[score]


def _visible(score: Score) -> ColumnElement[bool]:
    """Scores the partner may see: all need shop access; CHR also needs the Data Compass scope.

    A seller who has not authorized the partner is left out of every count (DOMAIN.md), even
    when a Data Compass grant makes its CHR readable.
    """
    if score is Score.CHR:
        return and_(Shop.authorized.is_(True), Shop.chr_authorized.is_(True))
    return Shop.authorized.is_(True)


def _drop(score: Score, window: Window) -> ColumnElement[bool]:
    now, then = _now(score), _then(window, score)
    condition = and_(now.is_not(None), then.is_not(None), now - then < -domain.DROP_LIMITS[score])
    if score is Score.SPS:
        condition = and_(condition, now > 0, then > 0)  # unscored is never a drop
    return and_(_visible(score), condition)


def _in_level(score: Score, level: domain.Level) -> ColumnElement[bool]:
    return _band(_now(score), domain.LEVELS[score][level], _visible(score))


def critical_band(score: Score) -> ColumnElement[bool]:
    return _in_level(score, domain.Level.CRITICAL)


def warning_band(score: Score) -> ColumnElement[bool]:
    return _in_level(score, domain.Level.WARNING)


def needs_action(scores: Sequence[Score], window: Window) -> ColumnElement[bool]:
    return or_(*(or_(_drop(s, window), critical_band(s)) for s in scores))


def seller_select(window: Window) -> Any:
    return select(
        Shop.shop_id,
        Shop.shop_code,
        Shop.shop_name,
        Shop.region,
        Shop.authorized,
        Shop.chr_authorized,
        Shop.owner,
        ShopHealth.ahr,
        _then(window, Score.AHR),
        ShopHealth.sps_tenths,
        _then(window, Score.SPS),
        ShopHealth.chr,
        _then(window, Score.CHR),
        ShopHealth.gmv_7d,
    ).join(ShopHealth, ShopHealth.shop_id == Shop.shop_id)


def _to_row(values: Sequence[Any], window: Window, scores: Sequence[Score] = ()) -> SellerRow:
    row = SellerRow(*values)
    if not scores:
        return row
    return replace(row, reasons=tuple(reasons_for(row, window, scores)))


def reasons_for(row: SellerRow, window: Window, scores: Sequence[Score] = tuple(Score)) -> list[str]:
    """Why a seller needs action, in the manager's words."""
    reasons: list[str] = []
    when = "since yesterday" if window is Window.DAY else "in 7 days"
    if Score.AHR in scores and row.authorized:
        change = domain.delta(row.ahr, row.ahr_then)
        if domain.action_required(Score.AHR, row.ahr, row.ahr_then):
            reasons.append(f"AHR fell {-change if change else 0} {when} ({row.ahr_then} → {row.ahr})")
        if domain.ahr_level(row.ahr) is domain.Level.CRITICAL:
            reasons.append(f"AHR {row.ahr} is {domain.ahr_band(row.ahr)}")
    if Score.SPS in scores and row.authorized:
        if domain.action_required(Score.SPS, row.sps_tenths, row.sps_tenths_then):
            reasons.append(
                f"SPS fell {when} ({domain.format_sps(row.sps_tenths_then)} → {domain.format_sps(row.sps_tenths)})"
            )
        if domain.sps_level(row.sps_tenths) is domain.Level.CRITICAL:
            reasons.append(f"SPS {domain.format_sps(row.sps_tenths)} is critical")
    if Score.CHR in scores and row.authorized and row.chr_authorized:
        change = domain.delta(row.chr, row.chr_then)
        if domain.action_required(Score.CHR, row.chr, row.chr_then):
            reasons.append(f"CHR fell {-change if change else 0} {when} (lowest account now {row.chr})")
        if domain.chr_level(row.chr) is domain.Level.CRITICAL:
            reasons.append(f"CHR {row.chr} is {domain.chr_band(row.chr)}")
    return reasons


# ---- overview ----


@dataclass(frozen=True)
class Overview:
    window: Window
    counts: dict[Score, tuple[int, int]]  # (warning, critical)
    needs_action: int
    unauthorized: int
    total: int
    without_chr_scope: int  # authorized, but no Data Compass scope: no CHR
    gmv_at_risk: float
    freshness: Freshness


# Answers per (database, question, data version). One is reused only while the stamp that every
# health, access or owner write renews is unchanged, so no replica serves stale answers.
_CACHE: dict[tuple[Any, ...], Any] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 256


def _cached(session: Session, question: tuple[Any, ...], compute: Callable[[], T]) -> T:
    stamp = data_version(session)
    if stamp is None:  # no stamp yet (an empty database): nothing to key on
        return compute()
    key = (str(session.connection().engine.url), stamp, *question)
    with _CACHE_LOCK:
        if key in _CACHE:
            return cast(T, _CACHE[key])
    value = compute()
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = value
    return value


def overview(session: Session, window: Window = Window.DAY) -> Overview:
    values = _cached(session, ("overview", window), lambda: _overview_counts(session, window))
    unauthorized, total, flagged, no_chr_scope, gmv = values[:5]
    counts = {score: (int(values[5 + 2 * i]), int(values[6 + 2 * i])) for i, score in enumerate(Score)}
    return Overview(
        window=window,
        counts=counts,
        needs_action=int(flagged),
        unauthorized=int(unauthorized),
        total=int(total),
        without_chr_scope=int(no_chr_scope),
        gmv_at_risk=float(gmv or 0),
        freshness=freshness(session),
    )


def _overview_counts(session: Session, window: Window) -> Sequence[Any]:
    def count(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    needs = needs_action(tuple(Score), window)
    columns = [count(Shop.authorized.is_(False)), func.count(), count(needs)]
    columns.append(count(and_(Shop.authorized.is_(True), Shop.chr_authorized.is_(False))))
    columns.append(func.coalesce(func.sum(case((needs, ShopHealth.gmv_7d), else_=0.0)), 0.0))
    for score in Score:
        columns += [count(warning_band(score)), count(critical_band(score))]
    query = (
        select(*columns).select_from(Shop).join(ShopHealth, ShopHealth.shop_id == Shop.shop_id, isouter=True)
    )
    return tuple(session.execute(query).one())


# ---- at-risk and the health list ----


def at_risk(
    session: Session,
    *,
    scores: Sequence[Score] = tuple(Score),
    window: Window = Window.DAY,
    offset: int = 0,
    limit: int = 10,
) -> Page:
    """Sellers needing action (drop beyond the limit, or a critical band), highest GMV first."""
    question = ("atrisk", tuple(scores), window, offset, limit)
    return _cached(session, question, lambda: _at_risk(session, scores, window, offset, limit))


def _at_risk(session: Session, scores: Sequence[Score], window: Window, offset: int, limit: int) -> Page:
    condition = needs_action(scores, window)
    total = session.scalar(
        select(func.count())
        .select_from(Shop)
        .join(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
        .where(condition)
    )
    query = (
        seller_select(window)
        .where(condition)
        .order_by(ShopHealth.gmv_7d.desc().nulls_last(), Shop.shop_code)
        .offset(offset)
        .limit(limit)
    )
    rows = [_to_row(values, window, scores) for values in session.execute(query)]
    return Page(rows=rows, total=int(total or 0), offset=offset, limit=limit)


# The list filters' words for DOMAIN.md's bands (the ranges themselves live in bot.domain).
AHR_BANDS: dict[str, domain.Range] = {band.value.lower(): bounds for band, bounds in domain.AHR_BANDS.items()}
SPS_BANDS: dict[str, domain.Range] = {
    ("unscored" if band is domain.SpsBand.UNSCORED else band.value): bounds
    for band, bounds in domain.SPS_BANDS.items()
}
CHR_BANDS: dict[str, domain.Range] = {
    {domain.ChrBand.BE_CAREFUL: "careful", domain.ChrBand.SUSPENDED: "suspended"}.get(
        band, band.value.lower()
    ): bounds
    for band, bounds in domain.CHR_BANDS.items()
}


@dataclass(frozen=True)
class ListFilter:
    ahr: str | None = None
    sps: str | None = None
    chr: str | None = None
    action: tuple[Score, ...] = ()
    window: Window = Window.DAY
    sort: SortKey = SortKey.GMV
    descending: bool = True

    def describe(self) -> str:
        parts = [
            f"{name.upper()} {value}"
            for name, value in (("ahr", self.ahr), ("sps", self.sps), ("chr", self.chr))
            if value
        ]
        if self.action:
            parts.append("action required on " + "/".join(s.value.upper() for s in self.action))
        parts.append(f"{self.window.label}, by {self.sort.value} {'desc' if self.descending else 'asc'}")
        return "; ".join(parts)


def _band(column: Any, bounds: tuple[int, int], visible: ColumnElement[bool]) -> ColumnElement[bool]:
    low, high = bounds
    return and_(visible, column >= low, column <= high)


def seller_list(session: Session, filters: ListFilter, *, offset: int = 0, limit: int = 10) -> Page:
    """Partner Center's Health List: any combination of band and action filters, sorted."""
    conditions: list[ColumnElement[bool]] = []
    if filters.ahr:
        conditions.append(_band(ShopHealth.ahr, AHR_BANDS[filters.ahr], _visible(Score.AHR)))
    if filters.sps:
        sps = ShopHealth.sps_tenths
        if filters.sps == "unscored":
            conditions.append(and_(_visible(Score.SPS), or_(sps.is_(None), sps == 0)))
        else:
            conditions.append(_band(sps, SPS_BANDS[filters.sps], _visible(Score.SPS)))
    if filters.chr:
        conditions.append(_band(ShopHealth.chr, CHR_BANDS[filters.chr], _visible(Score.CHR)))
    if filters.action:
        conditions.append(or_(*(_drop(s, filters.window) for s in filters.action)))
    where = and_(*conditions) if conditions else ~false()
    total = session.scalar(
        select(func.count())
        .select_from(Shop)
        .join(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
        .where(where)
    )
    sort_column = {
        SortKey.GMV: ShopHealth.gmv_7d,
        SortKey.AHR: ShopHealth.ahr,
        SortKey.SPS: ShopHealth.sps_tenths,
        SortKey.CHR: ShopHealth.chr,
    }[filters.sort]
    # Hidden scores sort as unknown: an unauthorized seller's value is not ours to rank, and an
    # unscored SPS (0) is not a bad one, so both go last in either direction.
    visible = _visible(Score.CHR if filters.sort is SortKey.CHR else Score.AHR)
    if filters.sort is SortKey.SPS:
        visible = and_(visible, ShopHealth.sps_tenths > 0)
    key = case((visible, sort_column), else_=None)
    order = key.desc() if filters.descending else key.asc()
    query = (
        seller_select(filters.window)
        .where(where)
        .order_by(order.nulls_last(), Shop.shop_code)
        .offset(offset)
        .limit(limit)
    )
    scores = filters.action or tuple(Score)
    rows = [_to_row(values, filters.window, scores) for values in session.execute(query)]
    return Page(rows=rows, total=int(total or 0), offset=offset, limit=limit)


def unauthorized(session: Session, *, offset: int = 0, limit: int = 10) -> Page:
    where = or_(Shop.authorized.is_(False), Shop.chr_authorized.is_(False))
    total = session.scalar(select(func.count()).select_from(Shop).where(where))
    query = (
        seller_select(Window.DAY)
        .where(where)
        .order_by(Shop.authorized, Shop.shop_name)
        .offset(offset)
        .limit(limit)
    )
    rows = [SellerRow(*values) for values in session.execute(query)]
    return Page(rows=rows, total=int(total or 0), offset=offset, limit=limit)


# ---- one shop ----


@dataclass(frozen=True)
class AccountHealth:
    tiktok_handle: str
    chr: int | None
    chr_1d: int | None
    chr_7d: int | None


@dataclass(frozen=True)
class ViolationSummary:
    last_7d: int
    last_60d: int
    appealable: int
    nearest_deadline: dt.date | None
    appealable_items: list[tuple[Violation, dt.date]] = field(default_factory=list)
    points_180d: int = 0


@dataclass(frozen=True)
class ShopDetail:
    shop: Shop
    health: ShopHealth | None
    ahr_trend: list[tuple[dt.date, int | None]]
    sps_trend: list[tuple[dt.date, int | None]]
    accounts: list[AccountHealth]
    shop_violations: ViolationSummary
    account_violations: ViolationSummary
    freshness: Freshness
    today: dt.date
    completed_orders_7d: int | None = None
    next_expiry: tuple[dt.date, int] | None = None  # when the oldest deductions leave the window
    acknowledgement: Acknowledgement | None = None
    snooze: Snooze | None = None


def next_point_expiry(violations: Sequence[Violation], today: dt.date) -> tuple[dt.date, int] | None:
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


def violation_facts(v: Violation) -> domain.ViolationFacts:
    return domain.ViolationFacts(
        scope=v.scope,
        notified_at=v.notified_at,
        enforcement_status=v.enforcement_status,
        appeal_status=v.appeal_status,
        appeal_rejected_at=v.appeal_rejected_at,
        violation_status=v.violation_status,
    )


def summarize_violations(violations: Sequence[Violation], today: dt.date) -> ViolationSummary:
    facts = [(v, violation_facts(v)) for v in violations]
    counted = [f for _, f in facts if domain.counted(f)]
    open_appeals = sorted(
        ((v, domain.appeal_deadline(f)) for v, f in facts if domain.appealable(f, today)),
        key=lambda item: item[1],
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
    )


def shop_detail(session: Session, shop_id: str, *, today: dt.date, trend_days: int = 30) -> ShopDetail | None:
    shop = session.get(Shop, shop_id)
    if shop is None:
        return None
    health = session.get(ShopHealth, shop_id)
    as_of = health.as_of if health and health.as_of else today
    since = as_of - dt.timedelta(days=trend_days - 1)
    history = session.execute(
        select(MetricSnapshot.date, MetricSnapshot.ahr, MetricSnapshot.sps_tenths)
        .where(MetricSnapshot.shop_id == shop_id, MetricSnapshot.date >= since, MetricSnapshot.date <= as_of)
        .order_by(MetricSnapshot.date)
    ).all()
    days = {as_of: 0, as_of - dt.timedelta(days=1): 1, as_of - dt.timedelta(days=7): 2}
    by_handle: dict[str, list[int | None]] = {}
    for handle, day, chr_ in session.execute(
        select(AccountSnapshot.tiktok_handle, AccountSnapshot.date, AccountSnapshot.chr).where(
            AccountSnapshot.shop_id == shop_id, AccountSnapshot.date.in_(days)
        )
    ):
        by_handle.setdefault(handle, [None, None, None])[days[day]] = chr_
    violations = list(
        session.scalars(
            select(Violation)
            .where(Violation.shop_id == shop_id, Violation.notified_at >= today - dt.timedelta(days=180))
            .order_by(Violation.notified_at)
        )
    )
    return ShopDetail(
        shop=shop,
        health=health,
        ahr_trend=[(d, a) for d, a, _ in history],
        sps_trend=[(d, s) for d, _, s in history],
        accounts=[AccountHealth(h, *values) for h, values in sorted(by_handle.items())],
        shop_violations=summarize_violations([v for v in violations if v.scope == "shop"], today),
        account_violations=summarize_violations([v for v in violations if v.scope == "account"], today),
        freshness=freshness(session),
        today=today,
        completed_orders_7d=session.scalar(
            select(MetricSnapshot.completed_orders_7d).where(
                MetricSnapshot.shop_id == shop_id, MetricSnapshot.date == as_of
            )
        ),
        next_expiry=next_point_expiry([v for v in violations if v.scope == "shop"], today),
        acknowledgement=session.scalars(
            select(Acknowledgement)
            .where(Acknowledgement.shop_id == shop_id)
            .order_by(Acknowledgement.acknowledged_at.desc())
            .limit(1)
        ).first(),
        snooze=_active_snooze(session.get(Snooze, shop_id), health, today),
    )


def _active_snooze(snooze: Snooze | None, health: ShopHealth | None, today: dt.date) -> Snooze | None:
    """The snooze only while it holds: an ended one is not shown on the card."""
    if snooze is None or not followup.snooze_state(snooze, health, today).active:
        return None
    return snooze


# ---- lookup ----


@dataclass(frozen=True)
class Lookup:
    shop: Shop | None
    matches: list[Shop]
    suggestions: list[Shop]


def find_shop(session: Session, query: str, *, limit: int = 5) -> Lookup:
    """By code, ID, exact name, @handle, name fragment, or fuzzy name with the closest suggestions."""
    text = " ".join(query.split())
    if not text:
        return Lookup(None, [], [])
    if text.startswith("@"):
        handle = text[1:]
        shop_ids = session.scalars(
            select(AccountSnapshot.shop_id)
            .where(func.lower(AccountSnapshot.tiktok_handle) == handle.lower())
            .distinct()
        ).all()
        shops = list(session.scalars(select(Shop).where(Shop.shop_id.in_(shop_ids))))
        if len(shops) == 1:
            return Lookup(shops[0], shops, [])
        if shops:
            return Lookup(None, shops, [])
        text = handle
    lowered = text.lower()
    exact = list(
        session.scalars(
            select(Shop)
            .where(
                or_(
                    func.lower(Shop.shop_code) == lowered,
                    Shop.shop_id == text,
                    func.lower(Shop.shop_name) == lowered,
                )
            )
            .limit(limit + 1)
        )
    )
    if len(exact) == 1:
        return Lookup(exact[0], exact, [])
    if exact:
        return Lookup(None, exact, [])
    pattern = "%" + lowered.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    partial = list(
        session.scalars(
            select(Shop)
            .where(func.lower(Shop.shop_name).like(pattern, escape="\\"))
            .order_by(Shop.shop_name)
            .limit(limit + 1)
        )
    )
    if len(partial) == 1:
        return Lookup(partial[0], partial, [])
    if partial:
        return Lookup(None, partial[:limit], [])
    names = {
        shop_id: shop_name for shop_id, shop_name in session.execute(select(Shop.shop_id, Shop.shop_name))
    }
    best = process.extract(text, names, scorer=fuzz.WRatio, limit=limit, score_cutoff=50)
    shop_ids = [key for _, _, key in best]
    by_id = {s.shop_id: s for s in session.scalars(select(Shop).where(Shop.shop_id.in_(shop_ids)))}
    return Lookup(None, [], [by_id[i] for i in shop_ids if i in by_id])
