"""App Home queries: the sellers a Slack user owns (`Shop.owner`), the ones needing action first.

No Slack here; `handlers/home.py` turns the result into the Home tab.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from bot import services
from bot.domain import Score
from bot.models import Shop, ShopHealth
from bot.services import Page, SellerRow, Window, needs_action, reasons_for, seller_select

OWN_LIMIT = 25


def own_sellers(
    session: Session, user_id: str, *, limit: int = OWN_LIMIT, window: Window = Window.DAY
) -> Page:
    """The user's sellers, worst first.

    Order: needing action (a drop beyond the limit or a critical band), then a warning band, then
    not authorized (the partner cannot see them), then the rest; within each, highest GMV first,
    as in every list of sellers needing action (DOMAIN.md).
    """
    scores = tuple(Score)
    mine = Shop.owner == user_id
    total = session.scalar(
        select(func.count())
        .select_from(Shop)
        .join(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
        .where(mine)
    )
    # services' band conditions keep the thresholds in one place (they already hide unauthorized data).
    warning = or_(*(services.warning_band(score) for score in scores))
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
    rows = []
    for values in session.execute(query):
        row = SellerRow(*values)
        rows.append(replace(row, reasons=tuple(reasons_for(row, window, scores))))
    return Page(rows=rows, total=int(total or 0), offset=0, limit=limit)
