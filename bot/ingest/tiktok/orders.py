"""Orders from `/order/202309/orders/search`, read into plain records for the dispatch watch.

TikTok sends times as unix seconds. The order's own dispatch SLA is ``tts_sla_time`` (time to
ship: the carrier's scan), else ``shipping_due_time``; ``rts_sla_time`` is only the label's
deadline and is not used. ``collection_time`` is when the carrier took the parcel (In Transit).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot import domain
from bot.ingest.tiktok.errors import TikTokApiError
from bot.services.records import OrderFacts

ORDER_SEARCH_PATH = "/order/202309/orders/search"
ORDER_PAGE_SIZE = 100  # TikTok's largest page


def parse_order(item: dict[str, Any]) -> OrderFacts:
    """One order of a search answer; TikTokApiError when it lacks an id, status or create time."""
    status = domain.ORDER_STATUSES.get(domain.normalize_status(str(item.get("status") or "")))
    created = _moment(item.get("create_time"))
    order_id = str(item.get("id") or "")
    if not order_id or status is None or created is None:
        raise TikTokApiError(
            -1, f"{ORDER_SEARCH_PATH} returned an order without id, known status or create_time"
        )
    sla = _moment(item.get("tts_sla_time")) or _moment(item.get("shipping_due_time"))
    collected = _moment(item.get("collection_time"))
    in_transit = collected if status in domain.DISPATCHED_ORDER_STATUSES else None
    return OrderFacts(order_id[:64], status, created, sla, in_transit)


def _moment(value: Any) -> dt.datetime | None:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError):
        return None
