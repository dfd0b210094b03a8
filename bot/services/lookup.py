"""Finding a shop by what a person types: code, shop ID, exact name, @handle, a fragment of the
name, or, failing all of those, the closest names (rapidfuzz)."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from bot.db.models import AccountSnapshot, Shop, ShopHealth
from bot.services.cache import cached
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
            if column.name not in ("shop_id", "flags")
        }
    )


def get_shop(session: Session, shop_id: str) -> ShopInfo | None:
    shop = session.get(Shop, shop_id)
    return None if shop is None else shop_info(shop)


# Code, then ID, then exact name; built once (building a statement costs more than running it).
_EXACT = tuple(
    select(Shop).where(where)
    for where in (
        func.lower(Shop.shop_code) == func.lower(bindparam("text")),
        Shop.shop_id == bindparam("text"),
        func.lower(Shop.shop_name) == func.lower(bindparam("text")),
    )
)


def find_shop(session: Session, query: str, *, limit: int = 5) -> Lookup:
    """By code, then ID, then exact name, then @handle (each one index seek); then a fragment of a
    name or, failing that, the closest names, both over the cached name list."""
    text = " ".join(query.split())
    if not text:
        return Lookup(None, [], [])
    if text.startswith("@"):
        handle = text[1:]
        shop_ids = session.scalars(
            select(AccountSnapshot.shop_id)
            .where(func.lower(AccountSnapshot.tiktok_handle) == func.lower(handle))
            .distinct()
        ).all()
        found = _shops(session, list(shop_ids))
        if found:
            return _pick(found, limit)
        text = handle
    for statement in _EXACT:
        exact = [shop_info(s) for s in session.scalars(statement, {"text": text}).fetchmany(limit + 1)]
        if exact:
            return _pick(exact, limit)
    names = name_list(session)
    partial = names.containing(text, limit + 1)
    if partial:
        return _pick(_shops(session, partial), limit)
    return Lookup(None, [], _shops(session, names.closest(text, limit)))


def _pick(found: list[ShopInfo], limit: int) -> Lookup:
    return Lookup(found[0], found, []) if len(found) == 1 else Lookup(None, found[:limit], [])


def _shops(session: Session, shop_ids: list[str]) -> list[ShopInfo]:
    """The shops in the order given."""
    by_id = {s.shop_id: shop_info(s) for s in session.scalars(select(Shop).where(Shop.shop_id.in_(shop_ids)))}
    return [by_id[i] for i in shop_ids if i in by_id]


@dataclass(frozen=True)
class NameList:
    """Every shop's name, sorted by name, for fragment and fuzzy matching without a table scan."""

    shop_ids: tuple[str, ...]
    names: tuple[str, ...]
    lowered: tuple[str, ...]

    def containing(self, text: str, limit: int) -> list[str]:
        fragment = text.lower()
        found = []
        for shop_id, lowered in zip(self.shop_ids, self.lowered, strict=True):
            if fragment in lowered:
                found.append(shop_id)
                if len(found) >= limit:
                    break
        return found

    def closest(self, text: str, limit: int) -> list[str]:
        best = process.extract(text, self.names, scorer=fuzz.WRatio, limit=limit, score_cutoff=50)
        return [self.shop_ids[index] for _, _, index in best]


def name_list(session: Session) -> NameList:
    """Cached per process against the data-version stamp (renewed by every import and sync), so a
    renamed or new shop is matched at the next request, on every worker and replica."""

    def load() -> NameList:
        rows = session.execute(
            select(Shop.shop_id, Shop.shop_name).order_by(Shop.shop_name, Shop.shop_id)
        ).all()
        return NameList(
            shop_ids=tuple(r[0] for r in rows),
            names=tuple(r[1] for r in rows),
            lowered=tuple(r[1].lower() for r in rows),
        )

    return cached(session, ("shop names",), load)
