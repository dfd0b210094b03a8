"""Finding a shop by what a person types: code, shop ID, exact name, @handle, a fragment of the
name, or, failing all of those, the closest names (rapidfuzz)."""

from __future__ import annotations

from rapidfuzz import fuzz, process
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import AccountSnapshot, Shop, ShopHealth
from bot.services.records import HealthScores, Lookup, ShopInfo


def shop_info(shop: Shop) -> ShopInfo:
    return ShopInfo(
        shop_id=shop.shop_id,
        shop_code=shop.shop_code,
        shop_name=shop.shop_name,
        region=shop.region,
        authorized=shop.authorized,
        chr_authorized=shop.chr_authorized,
        owner=shop.owner,
        seller_center_url=shop.seller_center_url,
        auth_request_url=shop.auth_request_url,
        slack_channel=shop.slack_channel,
    )


def health_scores(health: ShopHealth) -> HealthScores:
    return HealthScores(
        **{
            column.name: getattr(health, column.name)
            for column in ShopHealth.__table__.columns
            if column.name != "shop_id"
        }
    )


def get_shop(session: Session, shop_id: str) -> ShopInfo | None:
    shop = session.get(Shop, shop_id)
    return None if shop is None else shop_info(shop)


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
        shops = [shop_info(s) for s in session.scalars(select(Shop).where(Shop.shop_id.in_(shop_ids)))]
        if len(shops) == 1:
            return Lookup(shops[0], shops, [])
        if shops:
            return Lookup(None, shops, [])
        text = handle
    lowered = text.lower()
    exact = [
        shop_info(s)
        for s in session.scalars(
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
    ]
    if len(exact) == 1:
        return Lookup(exact[0], exact, [])
    if exact:
        return Lookup(None, exact, [])
    pattern = "%" + lowered.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    partial = [
        shop_info(s)
        for s in session.scalars(
            select(Shop)
            .where(func.lower(Shop.shop_name).like(pattern, escape="\\"))
            .order_by(Shop.shop_name)
            .limit(limit + 1)
        )
    ]
    if len(partial) == 1:
        return Lookup(partial[0], partial, [])
    if partial:
        return Lookup(None, partial[:limit], [])
    names = {
        shop_id: shop_name for shop_id, shop_name in session.execute(select(Shop.shop_id, Shop.shop_name))
    }
    best = process.extract(text, names, scorer=fuzz.WRatio, limit=limit, score_cutoff=50)
    shop_ids = [key for _, _, key in best]
    by_id = {s.shop_id: shop_info(s) for s in session.scalars(select(Shop).where(Shop.shop_id.in_(shop_ids)))}
    return Lookup(None, [], [by_id[i] for i in shop_ids if i in by_id])
