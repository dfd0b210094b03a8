"""Fulfilment (DOMAIN.md): dispatch deadlines, the alerts before them, and the Late Dispatch Rate.

An order is due 21:00 in the shop's zone on the second business day after its local date
(Monday to Friday, US federal holidays excluded, from the `holidays` package). TikTok's own SLA
time wins when the API gives one. "Dispatched" means the carrier's acceptance scan (In Transit),
never a printed label: an order awaiting collection is still open.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from bot.domain.scores import Level
from bot.domain.violations import normalize_status

DISPATCH_BUSINESS_DAYS = 2
DISPATCH_CUTOFF = dt.time(21, 0)
#: Alerts go out this many hours before a deadline, most urgent last.
ALERT_THRESHOLDS_HOURS = (24, 12, 4)
LDR_WINDOW_DAYS = 30
#: Late Dispatch Rate above these percentages: warning, then critical (enforcement above 4%).
LDR_WARNING_PERCENT = 3
LDR_CRITICAL_PERCENT = 4

#: TikTok's order statuses (202309 names), with the numeric codes its older API used.
OPEN_ORDER_STATUSES = ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION")
DISPATCHED_ORDER_STATUSES = ("IN_TRANSIT", "DELIVERED", "COMPLETED")
ORDER_STATUSES = {
    normalize_status(word): status
    for status, words in {
        "UNPAID": ("unpaid", "100"),
        "ON_HOLD": ("on hold", "105"),
        "AWAITING_SHIPMENT": ("awaiting shipment", "to ship", "111"),
        "AWAITING_COLLECTION": ("awaiting collection", "112"),
        "PARTIALLY_SHIPPING": ("partially shipping", "partially shipped", "114"),
        "IN_TRANSIT": ("in transit", "shipped", "121"),
        "DELIVERED": ("delivered", "122"),
        "COMPLETED": ("completed", "130"),
        "CANCELLED": ("cancelled", "canceled", "140"),
    }.items()
    for word in words
}


@cache
def _us_federal_holidays(year: int) -> frozenset[dt.date]:
    # Observed days included: 3 July 2026 is the observed Independence Day.
    return frozenset(holidays.country_holidays("US", years=year))


def is_business_day(day: dt.date) -> bool:
    """Monday to Friday, and not a US federal holiday (observed dates included)."""
    return day.weekday() < 5 and day not in _us_federal_holidays(day.year)


def add_business_days(day: dt.date, count: int) -> dt.date:
    """The `count`-th business day after `day` (business day 1 is the first one after it)."""
    while count > 0:
        day += dt.timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


def dispatch_deadline(
    ordered_at: dt.datetime, zone: str | ZoneInfo, sla: dt.datetime | None = None
) -> dt.datetime:
    """When the order must be in the carrier's hands, in the shop's zone.

    TikTok's SLA time wins when given; otherwise 21:00 local on the second business day after the
    order's local date (so an order at 21:30 counts from its own day, like one at 09:00).
    """
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    if sla is not None:
        return _aware(sla).astimezone(tz)
    local_day = _aware(ordered_at).astimezone(tz).date()
    due_day = add_business_days(local_day, DISPATCH_BUSINESS_DAYS)
    return dt.datetime.combine(due_day, DISPATCH_CUTOFF, tzinfo=tz)


def alert_threshold(due: dt.datetime, now: dt.datetime) -> int | None:
    """The most urgent alert threshold (hours) that `now` has reached before `due`, if any.

    None before T-24 h and once the deadline has passed (an alert then would prevent nothing).
    """
    left = _aware(due) - _aware(now)
    if left <= dt.timedelta(0):
        return None
    reached = [hours for hours in ALERT_THRESHOLDS_HOURS if left <= dt.timedelta(hours=hours)]
    return min(reached) if reached else None


def is_open_order(status: str, in_transit_at: dt.datetime | None = None) -> bool:
    """Waiting for the carrier: awaiting shipment, partially shipping, or awaiting collection."""
    return in_transit_at is None and status in OPEN_ORDER_STATUSES


def is_late(due: dt.datetime, in_transit_at: dt.datetime) -> bool:
    return _aware(in_transit_at) > _aware(due)


def late_dispatch_rate(late: int, dispatched: int) -> float | None:
    """Late-dispatched / dispatched orders (a fraction); None without dispatched orders."""
    return late / dispatched if dispatched else None


def ldr_level(late: int, dispatched: int) -> Level:
    """Critical above 4%, warning above 3% (exact integer comparisons, no float rounding)."""
    if not dispatched:
        return Level.UNKNOWN
    if late * 100 > LDR_CRITICAL_PERCENT * dispatched:
        return Level.CRITICAL
    if late * 100 > LDR_WARNING_PERCENT * dispatched:
        return Level.WARNING
    return Level.GOOD


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
