"""Finding a shop by what a person types: code, shop ID, exact name, @handle, a fragment of the
name, or, failing all of those, the closest names (rapidfuzz)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from bot.db.models import LinkedAccount, Shop, ShopHealth
from bot.services.cache import cached
from bot.services.filters import AnyRow
from bot.services.records import HealthScores, Lookup, ShopInfo


def shop_info(shop: Shop | AnyRow) -> ShopInfo:
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


def health_scores(health: ShopHealth | AnyRow) -> HealthScores:
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


FOUND = "healthbot_found_shop"  # in `Session.info`: the row of the shop the last lookup found

# A shop and its health in one row, read on the connection (the ORM's loading of both objects
# cost three times the statement). `health_of` is None for a shop without health yet.
SHOP_ROW = select(
    *Shop.__table__.columns,
    ShopHealth.shop_id.label("health_of"),
    *(c for c in ShopHealth.__table__.columns if c.name != "shop_id"),
).outerjoin(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
_BY_ID = SHOP_ROW.where(Shop.shop_id == bindparam("text"))
# Code, then ID, then exact name; built once (building a statement costs more than running it).
_EXACT = (
    SHOP_ROW.where(func.lower(Shop.shop_code) == func.lower(bindparam("text"))),
    _BY_ID,
    SHOP_ROW.where(func.lower(Shop.shop_name) == func.lower(bindparam("text"))),
)


def shop_row(session: Session, shop_id: str) -> AnyRow | None:
    """A shop with its health (`SHOP_ROW`): the one the request's lookup has just found (taken, so
    it is used once, right after), else one statement."""
    found = session.info.pop(FOUND, None)
    if found is not None and found.shop_id == shop_id:
        return cast(AnyRow, found)
    return session.connection().execute(_BY_ID, {"text": shop_id}).first()


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
    conn = session.connection()
    for statement in _EXACT:
        exact = conn.execute(statement, {"text": text}).all()
        if len(exact) == 1:  # the usual answer, already read
            # Kept for the rest of the request: a card that follows reads neither again (`shop_row`).
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
