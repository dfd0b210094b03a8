"""Portfolio-wide questions: the overview, sellers needing action, the Health List, sellers without
access, and one person's own sellers. All read the derived `shop_health` table (one row per shop).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import Shop, ShopHealth
from bot.domain import Level, Score, SortKey, Window
from bot.services.cache import Codec, cached, store
from bot.services.filters import (
    AHR_BANDS,
    CHR_BANDS,
    SPS_BANDS,
    band,
    critical_band,
    drop,
    needs_action,
    seller_row,
    seller_select,
    visible,
    warning_band,
)
from bot.services.health import bump_data_version, flag, freshness
from bot.services.records import ListFilter, Overview, Page, SellerRow

OWN_LIMIT = 25


PAGE_SIZE = 10  # rows per page of every list (the commands' page size)


def overview(session: Session, window: Window = Window.DAY) -> Overview:
    totals = cached(session, ("totals",), lambda: _totals(session), TOTALS)
    return Overview(
        window=window,
        counts={score: (totals[f"warning {score}"], totals[f"critical {score}"]) for score in Score},
        needs_action=totals[_needs_key(tuple(Score), window)],
        unauthorized=totals["unauthorized"],
        total=totals["total"],
        without_chr_scope=totals["without chr scope"],
        gmv_at_risk=float(totals[f"gmv at risk {window}"]),
        freshness=freshness(session),
    )


def _needs_key(scores: Sequence[Score], window: Window) -> str:
    return f"needs {','.join(s.value for s in scores)} {window}"


def _score_sets() -> list[tuple[Score, ...]]:
    """Every non-empty set of scores, in the registry's order (AHR, SPS, CHR)."""
    return [combo for n in range(1, len(Score) + 1) for combo in itertools.combinations(Score, n)]


def _totals(session: Session) -> dict[str, Any]:
    """Every count the overview and the at-risk pages show, from one GROUP BY over the shops'
    access and their health flags (a few dozen groups); the rules are applied to each group."""
    query = (
        select(
            Shop.authorized,
            Shop.chr_authorized,
            ShopHealth.flags,
            func.count(),
            func.count(ShopHealth.shop_id),
            func.sum(ShopHealth.gmv_7d),
        )
        .select_from(Shop)
        .join(ShopHealth, ShopHealth.shop_id == Shop.shop_id, isouter=True)
        .group_by(Shop.authorized, Shop.chr_authorized, ShopHealth.flags)
    )
    totals: dict[str, Any] = {
        "unauthorized": 0, "total": 0, "listed": 0, "without chr scope": 0,
        **{f"{level} {score}": 0 for score in Score for level in ("warning", "critical")},
        **{f"gmv at risk {window}": 0.0 for window in Window},
        **{_needs_key(scores, window): 0 for window in Window for scores in _score_sets()},
    }  # fmt: skip
    for authorized, chr_authorized, flags, shops, listed, gmv in session.execute(query):
        if flags is None and listed:
            return _totals_in_sql(session)  # rows from before flags existed: count them in SQL
        totals["total"] += shops
        totals["listed"] += listed
        totals["unauthorized"] += 0 if authorized else shops
        totals["without chr scope"] += shops if authorized and not chr_authorized else 0
        if flags is None:
            continue
        seen = {s: bool(authorized and (chr_authorized or s is not Score.CHR)) for s in Score}
        for score in Score:
            if seen[score]:
                totals[f"warning {score}"] += shops if flags & flag(score, Level.WARNING) else 0
                totals[f"critical {score}"] += shops if flags & flag(score, Level.CRITICAL) else 0
        for window in Window:
            acting = {s for s in Score if seen[s] and flags & (flag(s, window) | flag(s, Level.CRITICAL))}
            for scores in _score_sets():
                if acting.intersection(scores):
                    totals[_needs_key(scores, window)] += shops
            if acting:
                totals[f"gmv at risk {window}"] += float(gmv or 0)
    return totals


def _totals_in_sql(session: Session) -> dict[str, Any]:
    """The same counts evaluated row by row in SQL (one pass over the portfolio)."""

    def count(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    columns: dict[str, Any] = {
        "unauthorized": count(Shop.authorized.is_(False)),
        "total": func.count(),
        "listed": func.count(ShopHealth.shop_id),  # the Health List joins shops to their health row
        "without chr scope": count(and_(Shop.authorized.is_(True), Shop.chr_authorized.is_(False))),
    }
    for score in Score:
        columns[f"warning {score}"] = count(warning_band(score))
        columns[f"critical {score}"] = count(critical_band(score))
    for window in Window:
        needs = needs_action(tuple(Score), window)
        columns[f"gmv at risk {window}"] = func.coalesce(
            func.sum(case((needs, ShopHealth.gmv_7d), else_=0.0)), 0.0
        )
        for scores in _score_sets():
            columns[_needs_key(scores, window)] = count(needs_action(scores, window))
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
    *,
    scores: Sequence[Score] = tuple(Score),
    window: Window = Window.DAY,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> Page[SellerRow]:
    """Sellers needing action (drop beyond the limit, or a critical band), highest GMV first."""
    scores = tuple(s for s in Score if s in scores)  # the same question in any order
    question = ("atrisk", scores, window, offset, limit)
    return cached(session, question, lambda: _at_risk(session, scores, window, offset, limit), PAGE)


def _at_risk(
    session: Session,
    scores: Sequence[Score],
    window: Window,
    offset: int,
    limit: int,
    total: int | None = None,
) -> Page[SellerRow]:
    condition = needs_action(scores, window)
    query = (
        seller_select(window)
        .where(condition)
        .order_by(ShopHealth.gmv_7d.desc().nulls_last(), Shop.shop_code)
        .offset(offset)
        .limit(limit)
    )
    rows = [seller_row(values, window, scores) for values in session.execute(query)]
    if total is None:
        total = _count(session, condition)
    return Page(rows=rows, total=total, offset=offset, limit=limit)


def seller_list(
    session: Session, filters: ListFilter, *, offset: int = 0, limit: int = PAGE_SIZE
) -> Page[SellerRow]:
    """Partner Center's Health List: any combination of band and action filters, sorted."""
    question = ("list", filters, offset, limit)
    return cached(session, question, lambda: _seller_list(session, filters, offset, limit), PAGE)


def _seller_list(
    session: Session, filters: ListFilter, offset: int, limit: int, total: int | None = None
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
    scores = filters.action or tuple(Score)
    rows = [seller_row(values, filters.window, scores) for values in session.execute(query)]
    if total is None:
        total = _count(session, where)
    return Page(rows=rows, total=total, offset=offset, limit=limit)


def unauthorized(session: Session, *, offset: int = 0, limit: int = 10) -> Page[SellerRow]:
    where = or_(Shop.authorized.is_(False), Shop.chr_authorized.is_(False))
    total = session.scalar(select(func.count()).select_from(Shop).where(where))
    query = (
        seller_select(Window.DAY)
        .where(where)
        .order_by(Shop.authorized, Shop.shop_name)
        .offset(offset)
        .limit(limit)
    )
    rows = [seller_row(values, Window.DAY) for values in session.execute(query)]
    return Page(rows=rows, total=int(total or 0), offset=offset, limit=limit)


def own_sellers(
    session: Session, user_id: str, *, limit: int = OWN_LIMIT, window: Window = Window.DAY
) -> Page[SellerRow]:
    """The user's sellers (`Shop.owner`), worst first.

    Order: needing action (a drop beyond the limit or a critical band), then a warning band, then
    not authorized (the partner cannot see them), then the rest; within each, highest GMV first,
    as in every list of sellers needing action (DOMAIN.md).
    """
    scores = tuple(Score)
    mine = Shop.owner == user_id
    warning = or_(*(warning_band(score) for score in scores))
    rank = case(
        (needs_action(scores, window), 0),
        (warning, 1),
        (Shop.authorized.is_(False), 2),
        else_=3,
    )
    query = (
        seller_select(window)
        .where(mine)
        .order_by(rank, ShopHealth.gmv_7d.desc().nulls_last(), Shop.shop_code)
        .limit(limit)
    )
    rows = [seller_row(values, window, scores) for values in session.execute(query)]
    return Page(rows=rows, total=_count(session, mine), offset=0, limit=limit)


def data_changed(session: Session) -> None:
    """Seller health, access or owners changed in the caller's transaction: renew the data-version
    stamp and store the answers every request would otherwise compute cold (the overview's counts,
    the first page of each at-risk question and of the unfiltered Health List), so they commit with
    the change and every worker and replica reads them ready-made. Call once per transaction."""
    stamp = bump_data_version(session)
    session.flush()
    totals = _totals(session)
    answers: dict[tuple[Any, ...], tuple[Any, Codec[Any]]] = {("totals",): (totals, TOTALS)}
    for window in Window:
        for scores in _score_sets():
            total = totals[_needs_key(scores, window)]
            page = _at_risk(session, scores, window, 0, PAGE_SIZE, total=total)
            answers[("atrisk", scores, window, 0, PAGE_SIZE)] = (page, PAGE)
    everyone = ListFilter()
    page = _seller_list(session, everyone, 0, PAGE_SIZE, total=totals["listed"])
    answers[("list", everyone, 0, PAGE_SIZE)] = (page, PAGE)
    store(session, stamp, answers)


def _encode_page(page: Page[SellerRow]) -> dict[str, Any]:
    rows = [{f.name: getattr(row, f.name) for f in fields(row)} for row in page.rows]
    return {"rows": rows, "total": page.total, "offset": page.offset, "limit": page.limit}


def _decode_page(body: dict[str, Any]) -> Page[SellerRow]:
    rows = [SellerRow(**{**values, "reasons": tuple(values["reasons"])}) for values in body["rows"]]
    return Page(rows=rows, total=body["total"], offset=body["offset"], limit=body["limit"])


PAGE: Codec[Page[SellerRow]] = Codec(_encode_page, _decode_page)
TOTALS: Codec[dict[str, Any]] = Codec(dict, dict)
