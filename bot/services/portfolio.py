"""Portfolio-wide questions: the overview, sellers needing action, the Health List, sellers without
access, and one person's own sellers. All read the derived `shop_health` table (one row per shop).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, true
from sqlalchemy.orm import Session

from bot import domain
from bot.db.models import Shop, ShopHealth
from bot.domain import Level, Reason, Score, SortKey, Window
from bot.services.attention import ALL_SCORES, REASON_WORDS, Lens, explain, lens_for, needs
from bot.services.cache import Codec, cached, store, stored
from bot.services.filters import (
    AHR_BANDS,
    CHR_BANDS,
    SPS_BANDS,
    band,
    critical_band,
    drop,
    seller_row,
    seller_select,
    visible,
    warning_band,
)
from bot.services.groups import GROUP_COLUMNS, Group, appeals_only, as_group, group_reasons
from bot.services.health import bump_data_version, data_version, flag, freshness
from bot.services.records import ListFilter, Overview, Page, SellerRow
from bot.settings import Settings

OWN_LIMIT = 25
PAGE_SIZE = 10  # rows per page of every list (the commands' page size)


def overview(session: Session, lens: Lens) -> Overview:
    totals = portfolio_totals(session, lens)
    return Overview(
        window=lens.window,
        counts={score: (totals[f"warning {score}"], totals[f"critical {score}"]) for score in Score},
        needs_action=totals[needs_key(ALL_SCORES)],
        unauthorized=totals["unauthorized"],
        total=totals["total"],
        without_chr_scope=totals["without chr scope"],
        gmv_at_risk=float(totals["gmv at risk"]),
        freshness=freshness(session),
        points=(totals["warning points"], totals["critical points"]),
        points_shops=totals["points shops"],
    )


def needs_key(scores: Sequence[Score]) -> str:
    return f"needs {','.join(s.value for s in scores)}"


def _score_sets() -> list[tuple[Score, ...]]:
    """Every non-empty set of scores, in the registry's order (AHR, SPS, CHR)."""
    return [combo for n in range(1, len(Score) + 1) for combo in itertools.combinations(Score, n)]


def groups(session: Session) -> list[Group]:
    """The portfolio as groups of shops alike in everything the rules read (a few hundred at L):
    one GROUP BY over access, region, the health flags, points, restrictions and lost access.
    Stored with every data change, so no request pays for it."""
    return cached(session, ("groups",), lambda: _groups(session), GROUPS)


def groups_of(session: Session, shop_ids: Select[Any]) -> list[Group]:
    """The groups of some shops only (`shop_ids` selects them): what a small change moves."""
    return _groups(session, Shop.shop_id.in_(shop_ids))


def _groups(session: Session, where: ColumnElement[bool] | None = None) -> list[Group]:
    query = (
        select(
            *GROUP_COLUMNS,
            func.count(),
            func.count(ShopHealth.shop_id),
            func.coalesce(func.sum(ShopHealth.gmv_7d), 0.0),
        )
        .select_from(Shop)
        .join(ShopHealth, ShopHealth.shop_id == Shop.shop_id, isouter=True)
        .group_by(*GROUP_COLUMNS)
    )
    if where is not None:
        query = query.where(where)
    return [as_group(row) for row in session.execute(query)]


@dataclass(frozen=True)
class Moved:
    """The only shops a change touched, as their groups before and after it. `since`: the stamp
    read before the groups were (None only when no shop moved, as when an owner changes), which
    must still be the stamp when the change is stored: a writer that committed in between makes
    the groups count again."""

    since: str | None
    before: list[Group]
    after: list[Group]


NONE_MOVED = Moved(None, [], [])


def _moved(every: list[Group], before: list[Group], after: list[Group]) -> list[Group] | None:
    """The portfolio's groups with some shops moved from `before` to `after` (None: they do not
    add up, so the caller counts again)."""
    counts: dict[tuple[Any, ...], tuple[Group, int, int, float]] = {}
    for sign, groups in ((1, every), (-1, before), (1, after)):
        for g in groups:
            alike, shops, listed, gmv = counts.get(g.key(), (g, 0, 0, 0.0))
            counts[g.key()] = (alike, shops + sign * g.shops, listed + sign * g.listed, gmv + sign * g.gmv)
    if any(shops < 0 or listed < 0 for _, shops, listed, _ in counts.values()):
        return None
    return [
        replace(alike, shops=shops, listed=listed, gmv=gmv)
        for alike, shops, listed, gmv in counts.values()
        if shops
    ]


def portfolio_totals(session: Session, lens: Lens) -> dict[str, Any]:
    """Every count the overview and the at-risk pages show, for one lens: the stored groups with
    the rules applied, and the shops with an appeal due (an indexed range) added where nothing
    else counted them."""
    return cached(session, ("totals", *lens.key()), lambda: _totals(session, lens), TOTALS)


def _totals(session: Session, lens: Lens, every: list[Group] | None = None) -> dict[str, Any]:
    every = groups(session) if every is None else every
    if any(g.flags is None and g.listed for g in every):
        return _totals_by_rows(session, lens)  # rows from before flags existed: count them in SQL
    totals: dict[str, Any] = {
        "unauthorized": 0, "total": 0, "listed": 0, "without chr scope": 0, "gmv at risk": 0.0,
        "points shops": 0, "warning points": 0, "critical points": 0,
        **{f"{level} {score}": 0 for score in Score for level in ("warning", "critical")},
        **{needs_key(scores): 0 for scores in _score_sets()},
    }  # fmt: skip
    # Worked out once, not per group: the keys and flag bits each score's bands count.
    bands = [
        (f"warning {score}", f"critical {score}", flag(score, Level.WARNING), flag(score, Level.CRITICAL))
        for score in Score
    ]
    keys = [(scores, needs_key(scores)) for scores in _score_sets()]
    points_regions = domain.penalty_point_regions(uk_48_point=lens.uk_48_point)
    for group in every:
        shops, flags, authorized = group.shops, group.flags or 0, group.authorized
        totals["total"] += shops
        totals["listed"] += group.listed
        reasons = group_reasons(group, lens)
        if not authorized:
            totals["unauthorized"] += shops
            if reasons.lost:  # a reason of no score: counted when all three scores are asked
                totals[needs_key(ALL_SCORES)] += shops
            continue
        if not group.chr_authorized:
            totals["without chr scope"] += shops
        on_points = group.region.upper() in points_regions
        seen = (not on_points, True, group.chr_authorized)  # no AHR for a 48-point shop
        for (warning, critical, warning_bit, critical_bit), shown in zip(bands, seen, strict=True):
            if shown and flags & warning_bit:
                totals[warning] += shops
            if shown and flags & critical_bit:
                totals[critical] += shops
        if on_points:
            totals["points shops"] += shops
            level = lens.rules.level(group.points)
            if level is Level.WARNING:
                totals["warning points"] += shops
            elif level is Level.CRITICAL:
                totals["critical points"] += shops
        if reasons.ahr or reasons.sps or reasons.chr:
            for scores, key in keys:
                if reasons.needs(scores):
                    totals[key] += shops
            totals["gmv at risk"] += group.gmv
    shops, gmv = appeals_only(session, lens)
    totals[needs_key(ALL_SCORES)] += shops
    totals["gmv at risk"] += gmv
    return totals


def _totals_by_rows(session: Session, lens: Lens) -> dict[str, Any]:
    """The same counts evaluated row by row in SQL (one pass over the portfolio)."""

    def count(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    on_points = Shop.region.in_(domain.penalty_point_regions(uk_48_point=lens.uk_48_point))
    authorized_points = and_(Shop.authorized.is_(True), on_points)
    rules = lens.rules
    columns: dict[str, Any] = {
        "unauthorized": count(Shop.authorized.is_(False)),
        "total": func.count(),
        "listed": func.count(ShopHealth.shop_id),  # the Health List joins shops to their health row
        "without chr scope": count(and_(Shop.authorized.is_(True), Shop.chr_authorized.is_(False))),
        "gmv at risk": func.coalesce(
            func.sum(case((and_(Shop.authorized.is_(True), needs(lens)), ShopHealth.gmv_7d), else_=0.0)), 0.0
        ),
        "points shops": count(authorized_points),
        "warning points": count(
            and_(authorized_points, ShopHealth.points >= rules.warning, ShopHealth.points < rules.critical)
        ),
        "critical points": count(and_(authorized_points, ShopHealth.points >= rules.critical)),
    }
    for score in Score:
        shown = ~on_points if score is Score.AHR else true()
        columns[f"warning {score}"] = count(and_(shown, warning_band(score)))
        columns[f"critical {score}"] = count(and_(shown, critical_band(score)))
    for scores in _score_sets():
        columns[needs_key(scores)] = count(needs(lens, scores))
    query = select(*(c.label(f"c{i}") for i, c in enumerate(columns.values()))).select_from(Shop)
    query = query.join(ShopHealth, ShopHealth.shop_id == Shop.shop_id, isouter=True)
    values = session.execute(query).one()
    return {
        name: (float(value or 0) if name.startswith("gmv") else int(value or 0))
        for name, value in zip(columns, values, strict=True)
    }


def _count(session: Session, where: ColumnElement[bool]) -> int:
    total = session.scalar(
        select(func.count())
        .select_from(Shop)
        .join(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
        .where(where)
    )
    return int(total or 0)


def at_risk(
    session: Session,
    lens: Lens,
    *,
    scores: Sequence[Score] = ALL_SCORES,
    reason: str | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> Page[SellerRow]:
    """Sellers needing action (or, with `reason`, those with one kind of reason: a word of
    `attention.REASON_WORDS`), highest GMV first, each with its reasons."""
    scores = tuple(s for s in Score if s in scores)  # the same question in any order
    question = _at_risk_question(lens, scores, reason, offset, limit)
    return cached(session, question, lambda: _at_risk(session, lens, scores, reason, offset, limit), PAGE)


def _at_risk_question(
    lens: Lens, scores: Sequence[Score], reason: str | None, offset: int, limit: int
) -> tuple[Any, ...]:
    return ("atrisk", tuple(scores), reason or "", offset, limit, *lens.key())


def _at_risk(
    session: Session,
    lens: Lens,
    scores: Sequence[Score],
    reason: str | None,
    offset: int,
    limit: int,
    totals: dict[str, Any] | None = None,
) -> Page[SellerRow]:
    condition = REASON_WORDS[reason][0](lens) if reason else needs(lens, scores)
    query = (
        seller_select(lens.window)
        .where(condition)
        .order_by(ShopHealth.gmv_7d.desc().nulls_last(), Shop.shop_code)
        .offset(offset)
        .limit(limit)
    )
    rows = explain(session, [seller_row(values) for values in session.execute(query)], lens, scores)
    if reason:
        total = _count(session, condition)
    else:
        total = (totals or portfolio_totals(session, lens))[needs_key(scores)]
    return Page(rows=rows, total=total, offset=offset, limit=limit)


def seller_list(
    session: Session, filters: ListFilter, lens: Lens, *, offset: int = 0, limit: int = PAGE_SIZE
) -> Page[SellerRow]:
    """Partner Center's Health List: any combination of band and action filters, sorted; each row
    with its reasons to act, if any."""
    lens = replace(lens, window=filters.window)
    question = _list_question(filters, lens, offset, limit)
    return cached(session, question, lambda: _seller_list(session, filters, lens, offset, limit), PAGE)


def _list_question(filters: ListFilter, lens: Lens, offset: int, limit: int) -> tuple[Any, ...]:
    return ("list", filters, offset, limit, *lens.key())


def _seller_list(
    session: Session,
    filters: ListFilter,
    lens: Lens,
    offset: int,
    limit: int,
    totals: dict[str, Any] | None = None,
) -> Page[SellerRow]:
    conditions: list[ColumnElement[bool]] = []
    if filters.ahr:
        conditions.append(band(ShopHealth.ahr, AHR_BANDS[filters.ahr], visible(Score.AHR)))
    if filters.sps:
        sps = ShopHealth.sps_tenths
        if filters.sps == "unscored":
            conditions.append(and_(visible(Score.SPS), or_(sps.is_(None), sps == 0)))
        else:
            conditions.append(band(sps, SPS_BANDS[filters.sps], visible(Score.SPS)))
    if filters.chr:
        conditions.append(band(ShopHealth.chr, CHR_BANDS[filters.chr], visible(Score.CHR)))
    if filters.action:
        conditions.append(or_(*(drop(s, filters.window) for s in filters.action)))
    where = and_(*conditions) if conditions else ~false()
    sort_column = {
        SortKey.GMV: ShopHealth.gmv_7d,
        SortKey.AHR: ShopHealth.ahr,
        SortKey.SPS: ShopHealth.sps_tenths,
        SortKey.CHR: ShopHealth.chr,
    }[filters.sort]
    # Hidden scores sort as unknown: an unauthorized seller's value is not ours to rank, and an
    # unscored SPS (0) is not a bad one, so both go last in either direction.
    shown = visible(Score.CHR if filters.sort is SortKey.CHR else Score.AHR)
    if filters.sort is SortKey.SPS:
        shown = and_(shown, ShopHealth.sps_tenths > 0)
    key = case((shown, sort_column), else_=None)
    order = key.desc() if filters.descending else key.asc()
    query = (
        seller_select(filters.window)
        .where(where)
        .order_by(order.nulls_last(), Shop.shop_code)
        .offset(offset)
        .limit(limit)
    )
    rows = explain(session, [seller_row(values) for values in session.execute(query)], lens)
    total = _count(session, where) if conditions else (totals or portfolio_totals(session, lens))["listed"]
    return Page(rows=rows, total=total, offset=offset, limit=limit)


def unauthorized(session: Session, *, offset: int = 0, limit: int = PAGE_SIZE) -> Page[SellerRow]:
    """Sellers the partner cannot fully see: without a Seller Center role first (nothing is
    visible), then those missing only the Data Compass scope (no CHR); by name within each."""
    where = or_(Shop.authorized.is_(False), Shop.chr_authorized.is_(False))
    total = session.scalar(select(func.count()).select_from(Shop).where(where))
    query = (
        seller_select(Window.DAY)
        .where(where)
        .order_by(Shop.authorized, Shop.shop_name, Shop.shop_code)
        .offset(offset)
        .limit(limit)
    )
    rows = [seller_row(values) for values in session.execute(query)]
    return Page(rows=rows, total=int(total or 0), offset=offset, limit=limit)


def access_gaps(session: Session) -> tuple[int, int]:
    """(sellers without a Seller Center role, sellers missing only the Data Compass scope)."""
    counts = dict(
        session.execute(
            select(Shop.authorized, func.count())
            .where(or_(Shop.authorized.is_(False), Shop.chr_authorized.is_(False)))
            .group_by(Shop.authorized)
        ).all()
    )
    return int(counts.get(False, 0)), int(counts.get(True, 0))


def own_sellers(session: Session, user_id: str, lens: Lens, *, limit: int = OWN_LIMIT) -> Page[SellerRow]:
    """The user's sellers (`Shop.owner`), worst first.

    Order: needing action, then a warning band, then not authorized (the partner cannot see
    them), then the rest; within each, highest GMV first, as in every list of sellers needing
    action (DOMAIN.md).
    """
    mine = Shop.owner == user_id
    warning = or_(*(warning_band(score) for score in Score))
    rank = case((needs(lens), 0), (warning, 1), (Shop.authorized.is_(False), 2), else_=3)
    query = (
        seller_select(lens.window)
        .where(mine)
        .order_by(rank, ShopHealth.gmv_7d.desc().nulls_last(), Shop.shop_code)
        .limit(limit)
    )
    rows = explain(session, [seller_row(values) for values in session.execute(query)], lens)
    return Page(rows=rows, total=_count(session, mine), offset=0, limit=limit)


def data_changed(session: Session, settings: Settings | None = None, moved: Moved | None = None) -> None:
    """Seller health, access or owners changed in the caller's transaction: renew the data-version
    stamp and store the portfolio's groups for it (what every count is made from) and, given the
    settings the app answers with, the totals of the overview and at-risk pages and the first
    page of `atrisk` and `list` as the commands ask by default (today, compared with the day
    before), so they commit with the change and no request in any worker or replica pays for
    them (a week's comparison is worked out from the groups when first asked: about 0.1 s at L).
    Call once per transaction.

    `moved`: the only shops changed, as their groups before and after (a small import), or none
    at all (`NONE_MOVED`: an owner changed). The stored groups are then moved, not counted again
    (the GROUP BY takes about 0.3 s at L), when no other writer has renewed the stamp since the
    moved groups were read; otherwise they are counted again. The stamp is read locked, as the
    bump would lock it: on PostgreSQL, where writers run side by side, one that has renewed it is
    waited for and its stamp read, so no change is left out."""
    before = data_version(session, lock=True) if moved is not None else None
    stamp = bump_data_version(session)
    session.flush()
    every = None
    if moved is not None and before is not None and moved.since in (None, before):
        previous = stored(session, ("groups",), before, GROUPS)
        every = _moved(previous, moved.before, moved.after) if previous is not None else None
    if every is None:
        every = _groups(session)
    answers: dict[tuple[Any, ...], tuple[Any, Codec[Any]]] = {("groups",): (every, GROUPS)}
    if settings is not None:
        lens = lens_for(settings)
        totals = _totals(session, lens, every)
        answers[("totals", *lens.key())] = (totals, TOTALS)
        first = _at_risk(session, lens, ALL_SCORES, None, 0, PAGE_SIZE, totals)
        answers[_at_risk_question(lens, ALL_SCORES, None, 0, PAGE_SIZE)] = (first, PAGE)
        listed = _seller_list(session, ListFilter(), lens, 0, PAGE_SIZE, totals)
        answers[_list_question(ListFilter(), lens, 0, PAGE_SIZE)] = (listed, PAGE)
    store(session, stamp, answers)


def _encode_groups(found: list[Group]) -> list[list[Any]]:
    return [
        [
            g.authorized, g.chr_authorized, g.region, g.flags, g.points, g.points_1d, g.points_7d,
            g.restricted_until.isoformat() if g.restricted_until else None,
            g.lost_at.isoformat() if g.lost_at else None,
            g.shops, g.listed, g.gmv,
        ]
        for g in found
    ]  # fmt: skip


GROUPS: Codec[list[Group]] = Codec(_encode_groups, lambda body: [as_group(row) for row in body])
TOTALS: Codec[dict[str, Any]] = Codec(dict, dict)  # names to counts and sums: JSON as they are

_ROW_FIELDS = tuple(f.name for f in fields(SellerRow) if f.name != "team")  # team state: read per request


def _encode_page(page: Page[SellerRow]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, dt.date):  # a datetime too
            return value.isoformat()
        return [plain(v) for v in value] if isinstance(value, tuple) else value

    rows = [[plain(getattr(row, name)) for name in _ROW_FIELDS] for row in page.rows]
    return {"rows": rows, "total": page.total, "offset": page.offset, "limit": page.limit}


def _decode_page(body: dict[str, Any]) -> Page[SellerRow]:
    def row(values: list[Any]) -> SellerRow:
        found = dict(zip(_ROW_FIELDS, values, strict=True))
        until, lost = found["restricted_until"], found["access_lost_at"]
        found["restricted_until"] = dt.date.fromisoformat(until) if until else None
        found["access_lost_at"] = dt.datetime.fromisoformat(lost) if lost else None
        found["reasons"] = tuple(found["reasons"])
        found["why"] = tuple(Reason(w) for w in found["why"])
        return SellerRow(**found)

    return Page([row(r) for r in body["rows"]], body["total"], body["offset"], body["limit"])


PAGE: Codec[Page[SellerRow]] = Codec(_encode_page, _decode_page)
