"""The dispatch watch: orders and their deadlines, what is due next, each seller's Late Dispatch
Rate, and the claims that make each alert go out once per order and threshold.

Deadlines are settled here, in Python (`bot.domain.dispatch_deadline`), and stored as UTC in
`orders.due_at` with the zone they were computed in; an order written again (sync, import) or a
shop whose zone changed is settled again on the next pass. Every time is stored in UTC (SQLite keeps
no offset).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, case, delete, func, or_, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from bot import domain
from bot.db import upsert_insert
from bot.db.models import DispatchAlert, Order, Shop, TikTokSeller, TikTokShopLink
from bot.services.health import aware
from bot.services.lookup import shop_info
from bot.services.records import (
    DispatchAlertBatch,
    DueOrder,
    LateDispatch,
    OrderFacts,
    ShopDispatch,
    ShopInfo,
    SourceAuthority,
)

SETTLE_BATCH = 5000


def utc(moment: dt.datetime) -> dt.datetime:
    return aware(moment).astimezone(dt.UTC)


def shop_zone(timezone: str | None, default_zone: str) -> str:
    return timezone or default_zone


def save_orders(session: Session, shop_id: str, orders: Sequence[OrderFacts], *, source: str) -> None:
    """Upsert orders of one shop; their deadlines are settled again on the next pass."""
    if not orders:
        return
    rows = [
        {
            "order_id": o.order_id,
            "shop_id": shop_id,
            "created_at": utc(o.created_at),
            "status": o.status,
            "in_transit_at": utc(o.in_transit_at) if o.in_transit_at else None,
            "sla_deadline": utc(o.sla_deadline) if o.sla_deadline else None,
            "source": source,
            "due_at": None,
            "due_zone": None,
        }
        for o in orders
    ]
    conn = session.connection()
    stmt = upsert_insert(conn, Order.__table__)
    updates = {name: stmt.excluded[name] for name in rows[0] if name != "order_id"}
    for start in range(0, len(rows), SETTLE_BATCH):
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["order_id"], set_=updates),
            rows[start : start + SETTLE_BATCH],
        )


# Built once (each card asks; building a statement costs more than running it).
_UNSETTLED = (
    select(Order.order_id, Order.created_at, Order.sla_deadline, Shop.timezone)
    .join(Shop, Shop.shop_id == Order.shop_id)
    .where(
        or_(Order.due_at.is_(None), Order.due_zone != func.coalesce(Shop.timezone, bindparam("default_zone")))
    )
)
_UNSETTLED_OF_SHOP = _UNSETTLED.where(Order.shop_id == bindparam("shop_id"))


def settle_deadlines(session: Session, default_zone: str, *, shop_id: str | None = None) -> int:
    """Compute the deadline of every order (of one shop, or all) that has none, or whose shop's
    zone changed; returns how many were settled. Runs in the caller's transaction."""
    query = _UNSETTLED if shop_id is None else _UNSETTLED_OF_SHOP
    settled = 0
    pending: list[dict[str, object]] = []
    zones: dict[str, ZoneInfo] = {}
    unsettled = session.execute(query, {"default_zone": default_zone, "shop_id": shop_id}).all()
    for order_id, created_at, sla, timezone in unsettled:
        name = shop_zone(timezone, default_zone)
        tz = zones.get(name) or zones.setdefault(name, ZoneInfo(name))
        due = domain.dispatch_deadline(aware(created_at), tz, aware(sla) if sla else None)
        pending.append({"key": order_id, "due_at": utc(due), "due_zone": name})
        if len(pending) >= SETTLE_BATCH:
            settled += _write_deadlines(session, pending)
    return settled + _write_deadlines(session, pending)


def _write_deadlines(session: Session, pending: list[dict[str, object]]) -> int:
    if not pending:
        return 0
    session.connection().execute(
        update(cast(Table, Order.__table__))
        .where(cast(Table, Order.__table__).c.order_id == bindparam("key"))
        .values(due_at=bindparam("due_at"), due_zone=bindparam("due_zone")),
        pending,
    )
    count = len(pending)
    pending.clear()
    return count


#: An order waiting for the carrier's scan, with its deadline settled.
OPEN = (
    Order.status.in_(domain.OPEN_ORDER_STATUSES),
    Order.in_transit_at.is_(None),
    Order.due_at.is_not(None),
)


def _due_order(row: Sequence[Any], zone: str) -> DueOrder:
    """(order_id, shop_id, due_at, status, sla_deadline) as a record, its deadline in the shop's zone."""
    order_id, shop_id, due_at, status, sla = row
    return DueOrder(order_id, shop_id, aware(due_at).astimezone(ZoneInfo(zone)), status, sla is not None)


_LATE = (
    select(Order.shop_id, func.count(), func.sum(case((Order.in_transit_at > Order.due_at, 1), else_=0)))
    .where(
        Order.shop_id.in_(bindparam("ids", expanding=True)),
        Order.in_transit_at.is_not(None),
        Order.in_transit_at > bindparam("since"),
        Order.in_transit_at <= bindparam("now"),
        Order.due_at.is_not(None),
    )
    .group_by(Order.shop_id)
)


def late_dispatch(session: Session, shop_ids: Iterable[str], now: dt.datetime) -> dict[str, LateDispatch]:
    """Each shop's Late Dispatch Rate over the last 30 days (orders scanned by the carrier then)."""
    ids = sorted(set(shop_ids))
    if not ids:
        return {}
    since = utc(now) - dt.timedelta(days=domain.LDR_WINDOW_DAYS)
    rows = session.execute(_LATE, {"ids": ids, "since": since, "now": utc(now)})
    return {
        shop_id: LateDispatch(late=int(late or 0), dispatched=int(count)) for shop_id, count, late in rows
    }


def shops_above(
    session: Session, now: dt.datetime, percent: int = domain.LDR_WARNING_PERCENT
) -> dict[str, LateDispatch]:
    """Shops whose 30-day Late Dispatch Rate is above ``percent`` (the digest's section)."""
    since = utc(now) - dt.timedelta(days=domain.LDR_WINDOW_DAYS)
    late = func.sum(case((Order.in_transit_at > Order.due_at, 1), else_=0))
    rows = session.execute(
        select(Order.shop_id, func.count(), late)
        .where(
            Order.in_transit_at.is_not(None),
            Order.in_transit_at > since,
            Order.in_transit_at <= utc(now),
            Order.due_at.is_not(None),
        )
        .group_by(Order.shop_id)
        .having(late * 100 > percent * func.count())
    )
    return {
        shop_id: LateDispatch(late=int(n_late or 0), dispatched=int(count)) for shop_id, count, n_late in rows
    }


def shop_dispatch(
    session: Session, shop_id: str, now: dt.datetime, default_zone: str, *, limit: int = 15
) -> ShopDispatch | None:
    """One seller's open orders, soonest deadline first, and its Late Dispatch Rate."""
    shop = session.get(Shop, shop_id)
    if shop is None:
        return None
    zone = shop_zone(shop.timezone, default_zone)
    base = select(Order.order_id, Order.shop_id, Order.due_at, Order.status, Order.sla_deadline).where(
        Order.shop_id == shop_id, *OPEN
    )
    orders = session.execute(base.where(Order.due_at > utc(now)).order_by(Order.due_at).limit(limit)).all()
    overdue = session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.shop_id == shop_id, *OPEN, Order.due_at <= utc(now))
    )
    return ShopDispatch(
        shop=shop_info(shop),
        zone=zone,
        orders=tuple(_due_order(row, zone) for row in orders),
        late_dispatch=late_dispatch(session, [shop_id], now).get(shop_id, LateDispatch(0, 0)),
        overdue=int(overdue or 0),
    )


def portfolio_dispatch(
    session: Session,
    now: dt.datetime,
    default_zone: str,
    *,
    within: dt.timedelta,
    offset: int = 0,
    limit: int = 10,
) -> tuple[list[ShopDispatch], int]:
    """Sellers with open orders due within ``within`` (soonest first, paged), and how many there are."""
    horizon = utc(now) + within
    soonest = func.min(Order.due_at)
    grouped = (
        select(Order.shop_id, soonest.label("soonest"))
        .where(*OPEN, Order.due_at > utc(now), Order.due_at <= horizon)
        .group_by(Order.shop_id)
    )
    total = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    page = session.execute(grouped.order_by(soonest, Order.shop_id).offset(offset).limit(limit)).all()
    shop_ids = [shop_id for shop_id, _ in page]
    shops = {s.shop_id: s for s in session.scalars(select(Shop).where(Shop.shop_id.in_(shop_ids)))}
    orders: dict[str, list[DueOrder]] = {}
    for row in session.execute(
        select(Order.order_id, Order.shop_id, Order.due_at, Order.status, Order.sla_deadline)
        .where(Order.shop_id.in_(shop_ids), *OPEN, Order.due_at > utc(now), Order.due_at <= horizon)
        .order_by(Order.due_at)
    ):
        zone = shop_zone(shops[row[1]].timezone, default_zone)
        orders.setdefault(row[1], []).append(_due_order(row, zone))
    rates = late_dispatch(session, shop_ids, now)
    return [
        ShopDispatch(
            shop=shop_info(shops[shop_id]),
            zone=shop_zone(shops[shop_id].timezone, default_zone),
            orders=tuple(orders.get(shop_id, ())),
            late_dispatch=rates.get(shop_id, LateDispatch(0, 0)),
        )
        for shop_id in shop_ids
    ], int(total)


# ---- alerts: exactly once per order and threshold ----


def claim_alerts(
    factory: sessionmaker[Session], now: dt.datetime, default_zone: str, worker: str
) -> list[DispatchAlertBatch]:
    """Claim every open order that has reached an alert threshold, grouped per seller and threshold.

    Each (order, threshold) is inserted with ON CONFLICT DO NOTHING ... RETURNING: the replica
    whose insert lands gets the order, every other one gets nothing for it. Sellers with neither a
    mapped channel nor an owner are not claimed (nobody to tell; `/health dispatch` shows them).
    """
    start = utc(now)
    with factory() as session:
        rows = session.execute(
            select(Order.order_id, Order.shop_id, Order.due_at, Order.status, Order.sla_deadline)
            .join(Shop, Shop.shop_id == Order.shop_id)
            .where(
                *OPEN,
                Order.due_at > start,
                Order.due_at <= start + dt.timedelta(hours=max(domain.ALERT_THRESHOLDS_HOURS)),
                or_(Shop.slack_channel.is_not(None), Shop.owner.is_not(None)),
            )
            .order_by(Order.due_at)
        ).all()
        shops = {
            s.shop_id: s for s in session.scalars(select(Shop).where(Shop.shop_id.in_({r[1] for r in rows})))
        }
    groups: dict[tuple[str, int], list[DueOrder]] = {}
    for row in rows:
        threshold = domain.alert_threshold(aware(row[2]), start) if row[2] else None
        if threshold is not None:
            zone = shop_zone(shops[row[1]].timezone, default_zone)
            groups.setdefault((row[1], threshold), []).append(_due_order(row, zone))
    batches = []
    for (shop_id, threshold), orders in groups.items():
        shop = shops[shop_id]
        claimed = _claim(
            factory, shop_id, threshold, [o.order_id for o in orders], shop.slack_channel, start, worker
        )
        mine = tuple(o for o in orders if o.order_id in claimed)
        if mine:
            batches.append(DispatchAlertBatch(shop_info(shop), threshold, mine, shop.slack_channel))
    return batches


def _claim(
    factory: sessionmaker[Session],
    shop_id: str,
    threshold: int,
    order_ids: list[str],
    channel: str | None,
    now: dt.datetime,
    worker: str,
) -> set[str]:
    rows = [
        {
            "order_id": order_id,
            "threshold_hours": threshold,
            "shop_id": shop_id,
            "claimed_at": now,
            "claimed_by": worker,
            "channel": channel,
        }
        for order_id in order_ids
    ]
    with factory() as session, session.begin():
        conn = session.connection()
        stmt = (
            upsert_insert(conn, DispatchAlert.__table__)
            .on_conflict_do_nothing(index_elements=["order_id", "threshold_hours"])
            .returning(cast(Table, DispatchAlert.__table__).c.order_id)
        )
        claimed: set[str] = set()
        for row in rows:  # one statement per row: RETURNING with executemany is not portable
            claimed.update(conn.execute(stmt, row).scalars())
    return claimed


def release_alerts(factory: sessionmaker[Session], batch: DispatchAlertBatch) -> None:
    """Give the claims back after the post failed, so the next run may try again."""
    with factory() as session, session.begin():
        session.execute(
            delete(DispatchAlert).where(
                DispatchAlert.order_id.in_([o.order_id for o in batch.orders]),
                DispatchAlert.threshold_hours == batch.threshold_hours,
                DispatchAlert.message_ts.is_(None),
            )
        )


def record_alert_posted(
    factory: sessionmaker[Session], batch: DispatchAlertBatch, channel: str, ts: str
) -> None:
    with factory() as session, session.begin():
        session.execute(
            update(DispatchAlert)
            .where(
                DispatchAlert.order_id.in_([o.order_id for o in batch.orders]),
                DispatchAlert.threshold_hours == batch.threshold_hours,
            )
            .values(channel=channel, message_ts=ts)
        )


def late_dispatch_rows(session: Session, now: dt.datetime) -> list[tuple[ShopInfo, LateDispatch]]:
    """Sellers whose 30-day Late Dispatch Rate is above 3% (the digest's section), worst first."""
    above = shops_above(session, now)
    if not above:
        return []
    shops = session.scalars(select(Shop).where(Shop.shop_id.in_(sorted(above))))
    rows = [(shop_info(s), above[s.shop_id]) for s in shops]
    return sorted(rows, key=lambda row: (-(row[1].rate or 0.0), row[0].shop_code))


_LATE_OF_SHOP = (
    select(
        func.count().label("dispatched"),
        func.sum(case((Order.in_transit_at > Order.due_at, 1), else_=0)).label("late"),
    )
    .where(
        Order.shop_id == bindparam("shop_id"),
        Order.in_transit_at.is_not(None),
        Order.in_transit_at > bindparam("since"),
        Order.in_transit_at <= bindparam("now"),
        Order.due_at.is_not(None),
    )
    .subquery()
)
# The connected seller whose token lists the shop (one at most), and whether it is failing.
_SELLER_OF_SHOP = (
    select(TikTokSeller.seller_name, TikTokSeller.failed_at.is_not(None).label("failing"))
    .join(TikTokShopLink, TikTokShopLink.seller_id == TikTokSeller.id)
    .where(TikTokShopLink.shop_id == bindparam("shop_id"))
    .subquery()
)
CARD_DISPATCH = select(
    _LATE_OF_SHOP.c.dispatched,
    _LATE_OF_SHOP.c.late,
    # Where the orders come from ("api" or "csv"), by the newest; NULL: no orders.
    select(Order.source)
    .where(Order.shop_id == bindparam("shop_id"))
    .order_by(Order.created_at.desc())
    .limit(1)
    .scalar_subquery(),
    _SELLER_OF_SHOP.c.seller_name,
    _SELLER_OF_SHOP.c.failing,
    _UNSETTLED_OF_SHOP.exists(),
).select_from(_LATE_OF_SHOP.outerjoin(_SELLER_OF_SHOP, true()))  # one row: an aggregate's


def card_dispatch_params(shop_id: str, now: dt.datetime, default_zone: str) -> dict[str, Any]:
    """`CARD_DISPATCH`'s parameters."""
    return {
        "shop_id": shop_id,
        "since": utc(now) - dt.timedelta(days=domain.LDR_WINDOW_DAYS),
        "now": utc(now),
        "default_zone": default_zone,
    }


def card_dispatch(
    session: Session, shop_id: str, now: dt.datetime, default_zone: str, *, read: Sequence[Any] | None = None
) -> tuple[LateDispatch | None, SourceAuthority]:
    """In one statement (`CARD_DISPATCH`; `read`: its row, when the caller has read it with
    others), what the card shows of the dispatch watch: the shop's Late Dispatch Rate over 30
    days (None when no order was dispatched then), and which of its fields come from the TikTok
    API (through which seller) or from CSV. Orders of the shop whose deadline is not settled
    (imported since the last pass, or the shop's zone changed) are settled first, committing,
    and then counted."""
    params = card_dispatch_params(shop_id, now, default_zone)
    row = read if read is not None else session.execute(CARD_DISPATCH, params).one()
    if row[-1] and settle_deadlines(session, default_zone, shop_id=shop_id):  # some order unsettled
        session.commit()
        row = session.execute(CARD_DISPATCH, params).one()
    dispatched, late, orders_from, seller, failing, _ = row
    rate = LateDispatch(late=int(late or 0), dispatched=int(dispatched)) if dispatched else None
    sources = SourceAuthority(
        api_seller=seller, api_failing=bool(failing and seller), orders_from=orders_from
    )
    return rate, sources
