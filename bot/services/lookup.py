"""Finding a shop by what a person types: code, shop ID, exact name, @handle, a fragment of the
name, or, failing all of those, the closest names (rapidfuzz)."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from bot.db.models import LinkedAccount, Shop, ShopHealth
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


FOUND = "healthbot_found_shop"  # in `Session.info`: the shop the last lookup found

# Code, then ID, then exact name; built once (building a statement costs more than running it).
# Each reads the shop's health too: a card that follows (`shop_detail`) finds both in the session.
_EXACT = tuple(
    select(Shop).options(joinedload(Shop.health)).where(where)
    for where in (
        func.lower(Shop.shop_code) == func.lower(bindparam("text")),
        Shop.shop_id == bindparam("text"),
        func.lower(Shop.shop_name) == func.lower(bindparam("text")),
    )
)


def find_shop(session: Session, query: str, *, limit: int = 5) -> Lookup:
    """By code, then ID, then exact name, then @handle (each one index seek); then a fragment of a
    name or, failing that, the closest names, both over the cached name list. Several matches come
    most relevant first (the name starts with the text, then a word does, then anywhere), then
    by GMV, with how many more there are."""
    text = " ".join(query.split())
    if not text:
        return Lookup(None, [], [])
    if text.startswith("@"):
        handle = text[1:]
        shop_ids = session.scalars(
            select(LinkedAccount.shop_id).where(func.lower(LinkedAccount.tiktok_handle) == func.lower(handle))
        ).all()
        known = [s.shop_id for s in _shops(session, list(shop_ids))]
        if known:
            return _pick(session, _by_gmv(session, known), limit)
        text = handle
    for statement in _EXACT:
        exact = session.scalars(statement, {"text": text}).all()
        if len(exact) == 1:  # the usual answer, already read
            # The session's identity map holds objects weakly; a strong reference for the rest of
            # the request (SQLAlchemy's own recipe) lets a card that follows find the shop and its
            # health there (`session.get`) instead of reading them again.
            session.info[FOUND] = exact[0]
            found = shop_info(exact[0])
            return Lookup(found, [found], [])
        if exact:
            return _pick(session, _by_gmv(session, [s.shop_id for s in exact]), limit)
    names = name_list(session)
    partial = names.containing(text)
    if partial:
        return _pick(session, partial, limit)
    close = names.closest(text, limit)
    return Lookup(None, [], _shops(session, close), health=_health(session, close))


def _pick(session: Session, ranked: list[str], limit: int) -> Lookup:
    """One shop found, or the first `limit` of several (with their scores) and how many more."""
    shown = ranked[: 1 if len(ranked) == 1 else limit]
    shops = _shops(session, shown)
    if len(ranked) == 1:
        return Lookup(shops[0], shops, []) if shops else Lookup(None, [], [])
    return Lookup(None, shops, [], more=len(ranked) - len(shown), health=_health(session, shown))


def _by_gmv(session: Session, shop_ids: list[str]) -> list[str]:
    """Equally relevant shops, highest GMV first (no GMV last), then by ID."""
    if len(shop_ids) < 2:
        return shop_ids
    gmv = dict(
        session.execute(
            select(ShopHealth.shop_id, ShopHealth.gmv_7d).where(ShopHealth.shop_id.in_(shop_ids[:1000]))
        ).all()
    )
    return sorted(shop_ids, key=lambda i: (-(gmv.get(i) or -1.0), i))


def _shops(session: Session, shop_ids: list[str]) -> list[ShopInfo]:
    """The shops in the order given."""
    by_id = {s.shop_id: shop_info(s) for s in session.scalars(select(Shop).where(Shop.shop_id.in_(shop_ids)))}
    return [by_id[i] for i in shop_ids if i in by_id]


def _health(session: Session, shop_ids: list[str]) -> dict[str, HealthScores]:
    return {
        h.shop_id: health_scores(h)
        for h in session.scalars(select(ShopHealth).where(ShopHealth.shop_id.in_(shop_ids)))
    }


@dataclass(frozen=True)
class NameList:
    """Every shop's name, sorted by name, with its GMV, for fragment and fuzzy matching without
    a table scan."""

    shop_ids: tuple[str, ...]
    names: tuple[str, ...]
    lowered: tuple[str, ...]
    gmv: tuple[float, ...]  # -1: none

    def containing(self, text: str) -> list[str]:
        """Every shop whose name holds `text`: the name starts with it, then one of its words
        does, then anywhere; highest GMV first within each."""
        fragment = text.lower()
        found = []
        for index, lowered in enumerate(self.lowered):
            at = lowered.find(fragment)
            if at < 0:
                continue
            rank = 0 if at == 0 else 1 if not lowered[at - 1].isalnum() else 2
            found.append((rank, -self.gmv[index], index))
        found.sort()
        return [self.shop_ids[index] for _, _, index in found]

    def closest(self, text: str, limit: int) -> list[str]:
        """The closest names (rapidfuzz), equally close ones by GMV."""
        best = process.extract(text, self.names, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=50)
        best.sort(key=lambda found: (-round(found[1]), -self.gmv[found[2]], found[2]))
        return [self.shop_ids[index] for _, _, index in best[:limit]]


def name_list(session: Session) -> NameList:
    """Cached per process against the data-version stamp (renewed by every import and sync), so a
    renamed or new shop is matched at the next request, on every worker and replica."""

    def load() -> NameList:
        rows = session.execute(
            select(Shop.shop_id, Shop.shop_name, ShopHealth.gmv_7d)
            .outerjoin(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
            .order_by(Shop.shop_name, Shop.shop_id)
        ).all()
        return NameList(
            shop_ids=tuple(r[0] for r in rows),
            names=tuple(r[1] for r in rows),
            lowered=tuple(r[1].lower() for r in rows),
            gmv=tuple(-1.0 if r[2] is None else float(r[2]) for r in rows),
        )

    return cached(session, ("shop names",), load)
