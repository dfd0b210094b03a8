"""The dispatch watch's messages: the alert before a deadline, `/health dispatch` for the portfolio
and for one seller, and the Late Dispatch Rate line the card shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from blocks.ids import ActionId, CommandRef, ShopRef
from blocks.kit import DOT, Reply, button, context, divider, finish, header, section, share_button
from blocks.text import escape, name, plural
from bot import domain
from bot.domain import Level
from bot.services.records import (
    DispatchAlertBatch,
    DueOrder,
    LateDispatch,
    ShopDispatch,
    ShopInfo,
    SourceAuthority,
)

MAX_ORDERS_SHOWN = 15
STATUS_WORDS = {
    "AWAITING_SHIPMENT": "awaiting shipment",
    "PARTIALLY_SHIPPING": "partially shipped",
    "AWAITING_COLLECTION": "label printed, awaiting the carrier",
}
NOT_DISPATCHED = (
    "An order counts as dispatched at the carrier's scan (In Transit), not when the label is printed."
)


def time_left(due: dt.datetime, now: dt.datetime) -> str:
    seconds = int((due - now).total_seconds())
    if seconds <= 0:
        return "overdue"
    hours, minutes = divmod(seconds // 60, 60)
    if hours >= 48:
        return f"in {plural(hours // 24, 'day')}"
    return f"in {hours} h {minutes:02d} min" if hours else f"in {minutes} min"


def due_text(due: dt.datetime) -> str:
    """The deadline in the shop's own zone, e.g. "Tue Nov 24, 21:00 EST"."""
    return f"{due:%a %b %-d, %H:%M} {due.tzname() or ''}".rstrip()


def order_line(order: DueOrder, now: dt.datetime) -> str:
    sla = " · TikTok SLA" if order.from_sla else ""
    status = STATUS_WORDS.get(order.status, order.status.lower())
    return f"• `{escape(order.order_id)}` due *{due_text(order.due_at)}* ({time_left(order.due_at, now)}) · {status}{sla}"


def _order_lines(orders: Sequence[DueOrder], now: dt.datetime) -> str:
    lines = [order_line(o, now) for o in orders[:MAX_ORDERS_SHOWN]]
    if len(orders) > MAX_ORDERS_SHOWN:
        lines.append(f"… and {len(orders) - MAX_ORDERS_SHOWN} more")
    return "\n".join(lines)


def ldr_text(rate: LateDispatch) -> str:
    """The 30-day Late Dispatch Rate with its colour and what it means (above 4%: enforcement)."""
    level = domain.ldr_level(rate.late, rate.dispatched)
    if rate.rate is None:
        return f"{DOT[Level.UNKNOWN]} no dispatched orders in 30 days"
    words = {
        Level.CRITICAL: f" · above {domain.LDR_CRITICAL_PERCENT}%: critical, needs action",
        Level.WARNING: f" · above {domain.LDR_WARNING_PERCENT}%: warning (enforcement above {domain.LDR_CRITICAL_PERCENT}%)",
    }.get(level, "")
    return f"{DOT[level]} *{rate.rate:.1%}* ({rate.late} late of {rate.dispatched} dispatched){words}"


def _visit(shop_id: str, url: str) -> ButtonElement:
    return button(
        "Visit Seller Center", ActionId.VISIT_SELLER_CENTER, ShopRef(shop_id=shop_id).encode(), url=url
    )


def dispatch_alert(batch: DispatchAlertBatch, *, seller_center_url: str, now: dt.datetime) -> Reply:
    """The alert for one seller's orders that reached one threshold (T-24 h, T-12 h or T-4 h)."""
    shop, orders = batch.shop, plural(len(batch.orders), "order")
    urgent = ":rotating_light:" if batch.threshold_hours <= 4 else ":alarm_clock:"
    lead = (
        f"{urgent} *{orders}* of *{name(shop.shop_name)}* (`{escape(shop.shop_code)}`) must be "
        f"in the carrier's hands within *{batch.threshold_hours} hours*"
    )
    owner = f" · owner <@{shop.owner}>" if shop.owner and batch.channel else ""
    blocks: list[Block] = [
        section(lead),
        section(_order_lines(batch.orders, now)),
        context(f"Late dispatch costs AHR points. {NOT_DISPATCHED}{owner}"),
        ActionsBlock(elements=[_visit(shop.shop_id, seller_center_url)]),
    ]
    text = f"{orders} of {shop.shop_name} ({shop.shop_code}) due to ship within {batch.threshold_hours} hours"
    return Reply(escape(text), finish(blocks))


def dispatch_card(view: ShopDispatch, *, seller_center_url: str, now: dt.datetime, command: str) -> Reply:
    """`/health dispatch <shop>`: the seller's open orders, soonest first, and its rate."""
    shop = view.shop
    blocks: list[Block] = [
        header(f"Dispatch: {shop.shop_name}"),
        context(
            f"`{escape(shop.shop_code)}` · deadlines in {escape(view.zone)} · 2 business days, 21:00, unless TikTok's SLA says otherwise"
        ),
        section(f"*Late Dispatch Rate* (30 days)\n{ldr_text(view.late_dispatch)}"),
    ]
    if view.overdue:
        blocks.append(
            section(f":rotating_light: *{plural(view.overdue, 'open order')}* already past their deadline")
        )
    if view.orders:
        blocks.append(section(f"*Open orders, soonest first*\n{_order_lines(view.orders, now)}"))
    elif not view.overdue:
        blocks.append(section(":white_check_mark: No open order waiting for the carrier."))
    blocks.append(context(NOT_DISPATCHED))
    blocks.append(ActionsBlock(elements=[_visit(shop.shop_id, seller_center_url), share_button(command)]))
    return Reply(escape(f"Dispatch for {shop.shop_name} ({shop.shop_code})"), finish(blocks))


def dispatch_list(
    page: Sequence[ShopDispatch],
    total: int,
    *,
    now: dt.datetime,
    command: str,
    offset: int,
    within_hours: int,
) -> Reply:
    """`/health dispatch`: sellers with orders due within the next hours, soonest deadline first."""
    blocks: list[Block] = [header(f"Dispatch watch: due in the next {within_hours} hours")]
    if not page:
        blocks.append(section(f":white_check_mark: No open order is due in the next {within_hours} hours."))
        return Reply(f"No open order due in the next {within_hours} hours", finish(blocks))
    blocks.append(context(f"{plural(total, 'seller')} with orders due · {NOT_DISPATCHED}"))
    for view in page:
        shop, first = view.shop, view.orders[0]
        blocks.append(divider())
        blocks.append(
            section(
                f"*{name(shop.shop_name)}* (`{escape(shop.shop_code)}`): *{len(view.orders)}* due, next "
                f"*{due_text(first.due_at)}* ({time_left(first.due_at, now)})\n"
                f"Late Dispatch Rate: {ldr_text(view.late_dispatch)}",
                accessory=button(
                    "Open",
                    ActionId.SHOW_MORE,
                    CommandRef(text=f"dispatch {shop.shop_code}").encode(),
                    suffix=shop.shop_id[:40],
                ),
            )
        )
    footer: list[Block] = []
    actions: list[ButtonElement] = []
    if offset + len(page) < total:
        actions.append(
            button(
                f"Show more ({total - offset - len(page)} left)",
                ActionId.SHOW_MORE,
                CommandRef(text=command, offset=offset + len(page)).encode(),
            )
        )
    actions.append(share_button(command, offset))
    footer.append(ActionsBlock(elements=actions))
    return Reply(
        f"{plural(total, 'seller')} with orders due in the next {within_hours} hours",
        finish(blocks, footer=footer),
    )


# ---- the card's line and the digest's section (kept apart from their builders' own code) ----


def sources_text(sources: SourceAuthority) -> str:
    """Each field's authority, as the README documents it: the API for what a seller's token sees."""
    orders = {"api": "", "csv": " · orders from the orders CSV"}.get(sources.orders_from or "", "")
    if sources.api_seller is None:
        return f":page_facing_up: Sources: every field from CSV import (no connected seller's token lists this shop){orders}"
    failing = " (:warning: that seller's token is failing)" if sources.api_failing else ""
    api_orders = ", orders" if sources.orders_from == "api" else ""
    return (
        f":link: Sources: access, GMV{api_orders} from the TikTok API via *{name(sources.api_seller)}*{failing}"
        f" · scores, violations and CHR from CSV import{orders if sources.orders_from == 'csv' else ''}"
    )


def card_blocks(rate: LateDispatch | None, sources: SourceAuthority | None) -> list[Block]:
    """What the shop card shows of the dispatch watch and of its data's sources."""
    blocks: list[Block] = []
    if rate is not None:
        blocks.append(section(f"*Late Dispatch Rate* (30 days)\n{ldr_text(rate)}"))
    if sources is not None:
        blocks.append(context(sources_text(sources)))
    return blocks


def late_dispatch_block(rows: Sequence[tuple[ShopInfo, LateDispatch]], *, limit: int = 5) -> Block:
    """The digest's Late Dispatch section (sellers above the warning rate, worst first)."""
    lines = [
        f"• *{name(shop.shop_name)}* `{escape(shop.shop_code)}`: {ldr_text(rate)}"
        for shop, rate in rows[:limit]
    ]
    more = f"\n… and {len(rows) - limit} more" if len(rows) > limit else ""
    return section(
        f":truck: *Late Dispatch Rate above {domain.LDR_WARNING_PERCENT}%* (30 days; enforcement above "
        f"{domain.LDR_CRITICAL_PERCENT}%)\n" + "\n".join(lines) + more
    )
