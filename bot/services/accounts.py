"""Partner Center's TikTok Account Health list: one row per TikTok account linked to a shop, with
its CHR and change, the shop's GMV, and the account's 7-day, 60-day and appealable violations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from bot import domain
from bot.db.models import AccountSnapshot, Shop, ShopHealth, Violation
from bot.domain import Score, Window
from bot.services.filters import CHR_BANDS, band
from bot.services.records import AccountRow, Page
from bot.services.shop_card import summarize_violations


@dataclass(frozen=True)
class AccountFilter:
    chr: str | None = None  # a CHR band word (healthy, careful, critical, suspended)
    action: bool = False  # only accounts whose CHR fell by more than 20
    window: Window = Window.DAY
    handle: str | None = None  # one account (or a fragment of a handle)


def accounts(
    session: Session, filters: AccountFilter, *, today: dt.date, offset: int = 0, limit: int = 10
) -> Page[AccountRow]:
    """Accounts of shops whose CHR the partner may see (authorized, with the Data Compass scope),
    on the newest data day, highest GMV first."""
    as_of = session.scalar(select(func.max(AccountSnapshot.date)))
    if as_of is None:
        return Page[AccountRow]([], 0, offset, limit)
    then_day = as_of - dt.timedelta(days=1 if filters.window is Window.DAY else 7)
    now, then = AccountSnapshot, aliased(AccountSnapshot)
    conditions: list[ColumnElement[bool]] = [
        now.date == as_of,
        Shop.authorized.is_(True),
        Shop.chr_authorized.is_(True),
    ]
    if filters.chr:
        conditions.append(band(now.chr, CHR_BANDS[filters.chr], Shop.authorized.is_(True)))
    if filters.action:
        limit_ = domain.DROP_LIMITS[Score.CHR]
        conditions.append(and_(now.chr.is_not(None), then.chr.is_not(None), now.chr - then.chr < -limit_))
    if filters.handle:
        wanted = filters.handle.lstrip("@").lower()
        pattern = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                func.lower(now.tiktok_handle) == wanted,
                func.lower(now.tiktok_handle).like(pattern, escape="\\"),
            )
        )
    base = (
        select(
            now.tiktok_handle,
            Shop.shop_id,
            Shop.shop_code,
            Shop.shop_name,
            Shop.owner,
            now.chr,
            then.chr,
            ShopHealth.gmv_7d,
        )
        .join(Shop, Shop.shop_id == now.shop_id)
        .outerjoin(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
        .outerjoin(
            then,
            and_(then.shop_id == now.shop_id, then.tiktok_handle == now.tiktok_handle, then.date == then_day),
        )
        .where(*conditions)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(ShopHealth.gmv_7d.desc().nulls_last(), Shop.shop_code, now.tiktok_handle)
        .offset(offset)
        .limit(limit)
    ).all()
    violations: dict[tuple[str, str], list[Violation]] = {}
    keys = {(r[1], r[0]) for r in rows}
    if keys:
        for v in session.scalars(
            select(Violation).where(
                Violation.scope == "account",
                Violation.shop_id.in_({k[0] for k in keys}),
                Violation.notified_at >= today - dt.timedelta(days=domain.WINDOW_DAYS),
            )
        ):
            if (v.shop_id, v.tiktok_handle) in keys:
                violations.setdefault((v.shop_id, v.tiktok_handle or ""), []).append(v)
    out = []
    for handle, shop_id, code, shop_name, owner, chr_now, chr_then, gmv in rows:
        summary = summarize_violations(violations.get((shop_id, handle), []), today)
        out.append(
            AccountRow(
                tiktok_handle=handle,
                shop_id=shop_id,
                shop_code=code,
                shop_name=shop_name,
                owner=owner,
                chr=chr_now,
                chr_then=chr_then,
                gmv_7d=gmv,
                violations_7d=summary.last_7d,
                violations_60d=summary.last_60d,
                appealable=summary.appealable,
                nearest_deadline=summary.nearest_deadline,
            )
        )
    return Page[AccountRow](out, int(total), offset, limit)
