"""Portfolio-wide questions: the overview, sellers needing action, the Health List, sellers without
access, and one person's own sellers. All read the derived `shop_health` table (one row per shop).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import Shop, ShopHealth
from bot.domain import Score, SortKey, Window
from bot.services.cache import cached
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
from bot.services.health import freshness
from bot.services.records import ListFilter, Overview, Page, SellerRow

OWN_LIMIT = 25


def overview(session: Session, window: Window = Window.DAY) -> Overview:
    values = cached(session, ("overview", window), lambda: _overview_counts(session, window))
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
    limit: int = 10,
) -> Page[SellerRow]:
    """Sellers needing action (drop beyond the limit, or a critical band), highest GMV first."""
    question = ("atrisk", tuple(scores), window, offset, limit)
    return cached(session, question, lambda: _at_risk(session, scores, window, offset, limit))


def _at_risk(
    session: Session, scores: Sequence[Score], window: Window, offset: int, limit: int
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
    return Page(rows=rows, total=_count(session, condition), offset=offset, limit=limit)


def seller_list(
    session: Session, filters: ListFilter, *, offset: int = 0, limit: int = 10
) -> Page[SellerRow]:
    """Partner Center's Health List: any combination of band and action filters, sorted."""
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
    return Page(rows=rows, total=_count(session, where), offset=offset, limit=limit)


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
