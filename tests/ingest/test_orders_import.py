"""The orders CSV kind (for agencies without API access) and the shops file's optional timezone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Order, Shop
from bot.ingest.formats import Kind, recognise
from bot.ingest.importer import import_files
from bot.services.dispatch import settle_deadlines

SHOPS = "shop_id,shop_code,shop_name,region,authorized,chr_authorized,timezone"
ORDERS = "order_id,shop_id,created_at,status,in_transit_at,sla_deadline"


def test_orders_are_known_by_their_header() -> None:
    assert recognise(["order_id", "shop_id", "created_at", "status", "extra"]).layout.kind is Kind.ORDERS


def test_orders_and_shop_zones_import_and_get_deadlines(
    factory: sessionmaker[Session], write_csv: Callable[..., Path]
) -> None:
    shops = write_csv(
        "shops.csv",
        SHOPS,
        "S1,NY1,New York Shop,US,true,true,America/New_York",
        "S2,LA1,LA Shop,US,true,true,",
    )
    orders = write_csv(
        "orders.csv",
        ORDERS,
        "O1,S1,2026-07-02T10:00:00-04:00,Awaiting shipment,,",
        "O2,S2,2026-11-25T12:00:00Z,awaiting_collection,,",
        "O3,S1,2026-11-20T09:00:00-05:00,IN_TRANSIT,2026-11-23T10:00:00-05:00,",
        "O4,S1,2026-11-20T09:00:00-05:00,awaiting shipment,,2026-11-21T15:00:00Z",
    )
    results = import_files(factory, [orders, shops])  # shops first, whatever the order given
    assert [(r.kind, r.imported, r.errors) for r in results] == [(Kind.SHOPS, 2, []), (Kind.ORDERS, 4, [])]
    with factory() as session, session.begin():
        assert settle_deadlines(session, "America/Los_Angeles") == 4
    with factory() as session:
        found = {o.order_id: o for o in session.scalars(select(Order))}
        assert session.get(Shop, "S1").timezone == "America/New_York"  # type: ignore[union-attr]
    utc = {k: (o.due_at if o.due_at.tzinfo else o.due_at.replace(tzinfo=dt.UTC)) for k, o in found.items()}  # type: ignore[union-attr]
    assert utc["O1"] == dt.datetime(2026, 7, 8, 1, 0, tzinfo=dt.UTC)  # Tue 7 July 21:00 EDT
    assert (found["O1"].due_zone, found["O2"].due_zone) == ("America/New_York", "America/Los_Angeles")
    assert utc["O2"] == dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC)  # Mon 30 Nov 21:00 PST
    assert utc["O4"] == dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.UTC)  # the SLA time wins
    assert (found["O1"].status, found["O2"].status, found["O1"].source) == (
        "AWAITING_SHIPMENT",
        "AWAITING_COLLECTION",
        "csv",
    )
    # A shop's zone changing (a new shops file) settles its open orders again.
    write_csv("shops.csv", SHOPS, "S2,LA1,LA Shop,US,true,true,America/New_York")
    import_files(factory, [shops])
    with factory() as session, session.begin():
        assert settle_deadlines(session, "America/Los_Angeles") == 1
        assert session.get(Order, "O2").due_zone == "America/New_York"  # type: ignore[union-attr]


def test_bad_orders_rows_are_named_and_nothing_is_imported(
    factory: sessionmaker[Session], write_csv: Callable[..., Path]
) -> None:
    shops = write_csv("shops.csv", SHOPS, "S1,NY1,New York Shop,US,true,true,Mars/Olympus")
    (shop_result,) = import_files(factory, [shops])
    assert [str(e) for e in shop_result.errors] == [
        "line 2, column timezone: 'Mars/Olympus' is not a time zone name (e.g. America/New_York)"
    ]
    write_csv("shops.csv", SHOPS, "S1,NY1,New York Shop,US,true,true,")
    import_files(factory, [shops])
    orders = write_csv(
        "orders.csv",
        ORDERS,
        "O1,S1,2026-07-02T10:00:00,AWAITING_SHIPMENT,,",
        "O2,S9,2026-07-02T10:00:00Z,AWAITING_SHIPMENT,,",
        "O3,S1,2026-07-02T10:00:00Z,SHIPPED SOMEHOW,,",
        "O4,S1,2026-07-02T10:00:00Z,IN_TRANSIT,2026-07-01T10:00:00Z,",
        "O5,S1,2026-07-02T10:00:00Z,AWAITING_SHIPMENT,,tomorrow",
    )
    (result,) = import_files(factory, [orders])
    assert not result.committed and result.imported == 0
    errors = [str(e) for e in result.errors]
    assert errors[0] == (
        "line 2, column created_at: '2026-07-02T10:00:00' has no UTC offset (write 2026-07-02T10:00:00-04:00 or ...Z)"
    )
    assert errors[1].startswith("line 3, column shop_id: 'S9' is not a known shop")
    assert errors[2].startswith(
        "line 4, column status: 'SHIPPED SOMEHOW' is not one of TikTok's: UNPAID, ON_HOLD"
    )
    assert errors[3] == "line 5, column in_transit_at: is before created_at"
    assert errors[4].startswith("line 6, column sla_deadline: 'tomorrow' is not an ISO 8601 time")
    with factory() as session:
        assert session.scalars(select(Order)).all() == []
