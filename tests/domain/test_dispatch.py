"""Dispatch deadlines, alert thresholds and the Late Dispatch Rate (DOMAIN.md "Fulfilment", lines
94-104): every example there is a case here, plus DST changes and an order placed at 21:30."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot import domain
from bot.domain import Level

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("ordered", "due"),
    [
        # DOMAIN.md:97-98 "an order on Friday, Saturday or Sunday is due Tuesday 21:00"
        ((2026, 11, 13, 23, 50), (2026, 11, 17)),  # Friday night
        ((2026, 11, 14, 10, 0), (2026, 11, 17)),  # Saturday
        ((2026, 11, 15, 18, 0), (2026, 11, 17)),  # Sunday
        # DOMAIN.md:99 "Wednesday -> Friday 21:00"
        ((2026, 11, 4, 9, 0), (2026, 11, 6)),
        # DOMAIN.md:99-100 "Thursday 2 July 2026 (Friday 3 July is the observed Independence Day) -> Tuesday 7 July"
        ((2026, 7, 2, 12, 0), (2026, 7, 7)),
        # DOMAIN.md:100-101 "Wednesday 25 November 2026 (Thanksgiving on the 26th) -> Monday 30 November"
        ((2026, 11, 25, 12, 0), (2026, 11, 30)),
        # DOMAIN.md:96 business day 1 is the first business day *after* the local date: Monday -> Wednesday
        ((2026, 11, 23, 0, 1), (2026, 11, 25)),
        # Veterans Day (Wednesday 11 November 2026) is a federal holiday too: Monday -> Thursday
        ((2026, 11, 9, 8, 0), (2026, 11, 12)),
    ],
)
def test_dispatch_deadline_examples(ordered: tuple[int, ...], due: tuple[int, int, int]) -> None:
    deadline = domain.dispatch_deadline(local(NY, *ordered), NY)
    assert deadline == dt.datetime(*due, 21, 0, tzinfo=NY)
    assert (deadline.hour, deadline.minute) == (21, 0)


def test_an_order_placed_at_2130_counts_from_its_own_local_day() -> None:
    # Monday 21:30 is past the day's 21:00 cut-off, but the count starts from the order's date all
    # the same: due Wednesday 21:00, exactly as an order placed Monday morning.
    late_evening = domain.dispatch_deadline(local(LA, 2026, 11, 23, 21, 30), LA)
    morning = domain.dispatch_deadline(local(LA, 2026, 11, 23, 9, 0), LA)
    assert late_evening == morning == local(LA, 2026, 11, 25, 21, 0)


def test_the_local_date_is_the_shops_not_utc() -> None:
    # Monday 21:30 in Los Angeles is already Tuesday 05:30 UTC.
    ordered = local(LA, 2026, 11, 23, 21, 30).astimezone(dt.UTC)
    assert ordered.date() == dt.date(2026, 11, 24)
    assert domain.dispatch_deadline(ordered, "America/Los_Angeles") == local(LA, 2026, 11, 25, 21, 0)
    # The same instant in a New York shop is Tuesday 00:30 local: due Thursday... Thanksgiving, so Friday.
    assert domain.dispatch_deadline(ordered, NY) == local(NY, 2026, 11, 27, 21, 0)


def test_naive_times_are_utc() -> None:
    assert domain.dispatch_deadline(dt.datetime(2026, 11, 4, 14, 0), NY) == local(NY, 2026, 11, 6, 21, 0)


@pytest.mark.parametrize(
    ("ordered", "due", "offset_hours"),
    [
        # DST starts Sunday 8 March 2026: ordered in EST (Friday), due Tuesday 21:00 EDT.
        ((2026, 3, 6, 12, 0), (2026, 3, 10), -4),
        # DST ends Sunday 1 November 2026: ordered in EDT (Friday), due Tuesday 21:00 EST.
        ((2026, 10, 30, 12, 0), (2026, 11, 3), -5),
        # Ordered in the repeated hour of the fall-back night (01:30, first fold).
        ((2026, 11, 1, 1, 30), (2026, 11, 3), -5),
    ],
)
def test_deadlines_across_dst_changes_stay_at_2100_local(
    ordered: tuple[int, ...], due: tuple[int, int, int], offset_hours: int
) -> None:
    deadline = domain.dispatch_deadline(local(NY, *ordered), NY)
    assert deadline == dt.datetime(*due, 21, 0, tzinfo=NY)
    assert deadline.utcoffset() == dt.timedelta(hours=offset_hours)
    assert deadline.isoformat() == f"{due[0]}-{due[1]:02d}-{due[2]:02d}T21:00:00{offset_hours:+03d}:00"


def test_tiktoks_sla_time_wins() -> None:
    sla = dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC)
    deadline = domain.dispatch_deadline(local(NY, 2026, 11, 23), NY, sla=sla)
    assert deadline == sla and deadline.tzinfo == NY


@pytest.mark.parametrize(
    ("hours_left", "threshold"),
    [
        (30, None),
        (24.01, None),
        (24, 24),  # DOMAIN.md:104 "Alerts at T-24 h, T-12 h and T-4 h"
        (12.5, 24),
        (12, 12),
        (4.01, 12),
        (4, 4),
        (0.1, 4),
        (0, None),  # past the deadline an alert prevents nothing
        (-1, None),
    ],
)
def test_alert_threshold(hours_left: float, threshold: int | None) -> None:
    due = dt.datetime(2026, 11, 25, 21, 0, tzinfo=NY)
    assert domain.alert_threshold(due, due - dt.timedelta(hours=hours_left)) == threshold


def test_awaiting_collection_is_not_dispatched() -> None:
    # DOMAIN.md:102 "Awaiting collection (label printed, no carrier scan) is not dispatched."
    assert domain.is_open_order("AWAITING_COLLECTION")
    assert domain.is_open_order("PARTIALLY_SHIPPING")
    assert not domain.is_open_order("IN_TRANSIT")
    assert not domain.is_open_order("AWAITING_SHIPMENT", dt.datetime(2026, 11, 24, tzinfo=dt.UTC))
    assert domain.ORDER_STATUSES[domain.normalize_status("Awaiting collection")] == "AWAITING_COLLECTION"
    assert domain.ORDER_STATUSES[domain.normalize_status("awaiting_shipment")] == "AWAITING_SHIPMENT"


@pytest.mark.parametrize(
    ("late", "dispatched", "level"),
    [
        (0, 0, Level.UNKNOWN),
        (3, 100, Level.GOOD),  # 3% is not above 3%
        (31, 1000, Level.WARNING),  # 3.1%
        (4, 100, Level.WARNING),  # 4% is not above 4%
        (41, 1000, Level.CRITICAL),  # DOMAIN.md:103-104 "above 4% triggers enforcement"
        (1, 20, Level.CRITICAL),
    ],
)
def test_late_dispatch_rate_levels(late: int, dispatched: int, level: Level) -> None:
    assert domain.ldr_level(late, dispatched) == level
    rate = domain.late_dispatch_rate(late, dispatched)
    assert rate == (late / dispatched if dispatched else None)


def test_late_means_scanned_after_the_deadline() -> None:
    due = local(NY, 2026, 11, 25, 21, 0)
    assert not domain.is_late(due, due)
    assert domain.is_late(due, due + dt.timedelta(minutes=1))
