"""`/health dispatch [shop]` and `/health tiktok`, answered through the registry as Slack and
`healthbot ask` do."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.commands.asker import Asker
from bot.commands.registry import answer
from bot.db.models import Order, TikTokSeller
from bot.ingest.formats import Kind
from bot.settings import Settings
from tests.support.data import load, shop
from tests.support.slack import find_buttons, text_of
from tests.support.tiktok import FakeTikTok
from tests.support.tiktok_app import connect_seller, tiktok_settings

LA = ZoneInfo("America/Los_Angeles")
ADMIN = Asker(user_id="UADMIN", channel_id="C1")


def in_hours(hours: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


def orders(factory: sessionmaker[Session]) -> None:
    """Shop S1 (Los Angeles) with orders due in 3 h and 30 h (TikTok SLA times), one overdue, one
    dispatched late and 9 on time in the last 30 days; shop S2 with one order due in 10 h."""
    load(
        factory,
        Kind.SHOPS,
        [shop("S1", "SHIP1", "Ship Fast", timezone="America/Los_Angeles"), shop("S2", "SHIP2")],
    )
    now = dt.datetime.now(dt.UTC)
    created = (now - dt.timedelta(hours=30)).isoformat()
    rows: list[dict[str, object]] = [
        {
            "order_id": "O-SOON",
            "shop_id": "S1",
            "created_at": created,
            "status": "AWAITING_SHIPMENT",
            "sla_deadline": in_hours(3).isoformat(),
        },
        {
            "order_id": "O-LATER",
            "shop_id": "S1",
            "created_at": created,
            "status": "AWAITING_COLLECTION",
            "sla_deadline": in_hours(30).isoformat(),
        },
        {
            "order_id": "O-OVERDUE",
            "shop_id": "S1",
            "created_at": created,
            "status": "AWAITING_SHIPMENT",
            "sla_deadline": in_hours(-2).isoformat(),
        },
        {
            "order_id": "O-S2",
            "shop_id": "S2",
            "created_at": created,
            "status": "AWAITING_SHIPMENT",
            "sla_deadline": in_hours(10).isoformat(),
        },
        {
            "order_id": "O-LATE",
            "shop_id": "S1",
            "created_at": (now - dt.timedelta(days=5)).isoformat(),
            "status": "IN_TRANSIT",
            "sla_deadline": (now - dt.timedelta(days=4)).isoformat(),
            "in_transit_at": (now - dt.timedelta(days=3)).isoformat(),
        },
    ]
    rows += [
        {
            "order_id": f"O-OK{n}",
            "shop_id": "S1",
            "created_at": (now - dt.timedelta(days=5)).isoformat(),
            "status": "DELIVERED",
            "sla_deadline": (now - dt.timedelta(days=4)).isoformat(),
            "in_transit_at": (now - dt.timedelta(days=4, hours=3)).isoformat(),
        }
        for n in range(9)
    ]
    load(factory, Kind.ORDERS, rows)


def test_dispatch_lists_sellers_with_orders_due_soonest_first(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    orders(factory)
    with factory() as session:
        reply = answer(session, "dispatch", settings=settings, asker=ADMIN)
    shown = text_of(reply.blocks)
    assert "Dispatch watch: due in the next 24 hours" in shown
    assert shown.index("Ship Fast") < shown.index("Shop S2")
    assert "*1* due" in shown  # O-LATER is 30 h away: not within 24 h
    assert "🔴 *10.0%* (1 late of 10 dispatched) · above 4%: critical, needs action" in shown
    opened = [b for b in find_buttons(reply.blocks, "show_more")]
    assert len(opened) == 2 and find_buttons(reply.blocks, "share_to_channel")


def test_dispatch_for_one_shop_shows_its_orders_in_its_zone(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    orders(factory)
    with factory() as session:
        reply = answer(session, "dispatch SHIP1", settings=settings, asker=ADMIN)
    shown = text_of(reply.blocks)
    assert "deadlines in America/Los_Angeles" in shown
    assert shown.index("O-SOON") < shown.index("O-LATER")
    assert "label printed, awaiting the carrier" in shown and "TikTok SLA" in shown
    assert "*1 open order* already past their deadline" in shown
    assert "PST" in shown or "PDT" in shown
    assert find_buttons(reply.blocks, "visit_seller_center")


def test_dispatch_for_an_unknown_shop_says_so(factory: sessionmaker[Session], settings: Settings) -> None:
    orders(factory)
    with factory() as session:
        reply = answer(session, "dispatch nothing-like-it-zz", settings=settings, asker=ADMIN)
    assert "No seller matches" in text_of(reply.blocks)


def test_dispatch_with_no_orders_is_an_all_clear(factory: sessionmaker[Session], settings: Settings) -> None:
    with factory() as session:
        reply = answer(session, "dispatch", settings=settings, asker=ADMIN)
    assert "No open order is due in the next 24 hours" in text_of(reply.blocks)


@pytest.fixture
def fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as server:
        server.shops = [{"id": "T1", "code": "TT1", "name": "TikTok One", "region": "US", "cipher": "c1"}]
        yield server


def test_tiktok_lists_connected_sellers_for_admins_only(
    factory: sessionmaker[Session], settings: Settings, fake: FakeTikTok
) -> None:
    api = tiktok_settings(settings, fake, healthbot_admins=["UADMIN"])
    connect_seller(api, factory, fake.seller)
    with factory() as session:
        refused = answer(
            session, "tiktok", settings=api, asker=Asker(user_id="U2", admin_check=lambda: False)
        )
        reply = answer(session, "tiktok", settings=api, asker=ADMIN)
    assert "Only the bot's admins" in text_of(refused.blocks)
    shown = text_of(reply.blocks)
    assert "1 seller connected" in shown
    assert "Fake Partner" in shown and "`TT1` TikTok One" in shown
    assert "refreshed automatically" in shown
    link = next(b for b in reply.blocks if "Authorization link" in str(b))
    assert "services.tiktokshops.us/open/authorize?service_id=7001&amp;state=" in str(
        link
    ) or "state=" in str(link)
    for secret in (fake.access_token, fake.refresh_token, fake.app_secret):
        assert secret not in str(reply.blocks)


def test_tiktok_names_what_the_link_needs(factory: sessionmaker[Session], settings: Settings) -> None:
    with factory() as session:
        reply = answer(session, "tiktok", settings=settings, asker=ADMIN)
    shown = text_of(reply.blocks)
    assert "No seller has authorized the partner's app yet" in shown
    assert (
        "TIKTOK_APP_KEY" in shown and "HEALTHBOT_ENCRYPTION_KEY" in shown and "HEALTHBOT_SERVICE_ID" in shown
    )


def test_the_card_and_the_digest_show_the_late_dispatch_rate(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    orders(factory)
    with factory() as session:
        card = text_of(answer(session, "shop SHIP1", settings=settings, asker=ADMIN).blocks)
    with (
        factory() as session
    ):  # the card, reading first, settled the new orders in a transaction it committed
        assert session.scalar(select(func.count()).where(Order.shop_id == "S1", Order.due_at.is_(None))) == 0
        quiet = text_of(answer(session, "shop SHIP2", settings=settings, asker=ADMIN).blocks)
        digest = text_of(answer(session, "digest preview", settings=settings, asker=ADMIN).blocks)
    assert "*Late Dispatch Rate* (30 days)\n🔴 *10.0%* (1 late of 10 dispatched)" in card
    assert "Sources: every field from CSV import" in card and "orders from the orders CSV" in card
    assert "Late Dispatch Rate" not in quiet  # nothing dispatched in 30 days: no rate to show
    assert "Late Dispatch Rate above 3%" in digest and "`SHIP1`: 🔴 *10.0%*" in digest
    assert "SHIP2" not in digest.split("Late Dispatch Rate above 3%")[1]


def test_the_card_names_the_seller_whose_token_lists_the_shop(
    factory: sessionmaker[Session], settings: Settings, fake: FakeTikTok
) -> None:
    api = tiktok_settings(settings, fake)
    connect_seller(api, factory, fake.seller)
    with factory() as session:
        card = text_of(answer(session, "shop TT1", settings=api, asker=ADMIN).blocks)
    assert ":link: Sources: access, GMV from the TikTok API via *Fake Partner*" in card
    assert "scores, violations and CHR from CSV import" in card
    assert "token is failing" not in card
    with factory() as session:
        session.execute(update(TikTokSeller).values(failed_at=dt.datetime.now(dt.UTC)))
        session.commit()
        card = text_of(answer(session, "shop TT1", settings=api, asker=ADMIN).blocks)
    assert "via *Fake Partner* (:warning: that seller's token is failing)" in card
