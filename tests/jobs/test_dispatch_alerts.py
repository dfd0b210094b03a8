"""Dispatch alerts at T-24 h, T-12 h and T-4 h: grouped per seller and threshold, to the mapped
channel or the owner's DM, with the orders and a Visit Seller Center button; exactly once per order
and threshold, even with two replicas and a restart. Orders come in through the orders CSV kind."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.db.models import DispatchAlert, Order
from bot.deps import web_client
from bot.ingest.formats import Kind
from bot.playground.fakeslack import FakeSlack
from bot.settings import Settings
from jobs.dispatch_alerts import run_dispatch_alerts
from tests.support.data import load, shop
from tests.support.slack import configure, find_buttons, text_of

NY = ZoneInfo("America/New_York")
# Ordered Monday 23 November 2026 in New York: due Wednesday 25 November, 21:00 EST.
ORDERED = dt.datetime(2026, 11, 23, 10, 0, tzinfo=NY)
DUE = dt.datetime(2026, 11, 25, 21, 0, tzinfo=NY)


def order(
    order_id: str, shop_id: str, status: str = "AWAITING_SHIPMENT", **extra: object
) -> dict[str, object]:
    row: dict[str, object] = {
        "order_id": order_id,
        "shop_id": shop_id,
        "created_at": ORDERED.isoformat(),
        "status": status,
    }
    row.update(extra)
    return row


@pytest.fixture
def portfolio(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    load(
        factory,
        Kind.SHOPS,
        [
            shop("S1", "OWNED", "Owned <!channel> Shop", owner="U0OWNER", timezone="America/New_York"),
            shop(
                "S2",
                "MAPPED",
                "Mapped Shop",
                owner="U0OWNER",
                slack_channel="C0SELLER",
                timezone="America/New_York",
            ),
            shop("S3", "NOBODY", "Nobody's Shop", timezone="America/New_York"),
        ],
    )
    load(
        factory,
        Kind.ORDERS,
        [
            order("A1", "S1"),
            order("A2", "S1", "AWAITING_COLLECTION"),  # label printed, not dispatched: still alerted
            order("A3", "S1", "IN_TRANSIT", in_transit_at=(ORDERED + dt.timedelta(hours=5)).isoformat()),
            order("B1", "S2"),
            order("C1", "S3"),  # nobody to tell: never claimed
        ],
    )
    return factory


@pytest.fixture
def configured(settings: Settings, slack: FakeSlack) -> Settings:
    return configure(settings, slack)


def posts(slack: FakeSlack) -> list[tuple[str, str]]:
    return [(str(c.params["channel"]), str(c.params["text"])) for c in slack.calls_to("chat.postMessage")]


def at(hours_before: float) -> dt.datetime:
    return (DUE - dt.timedelta(hours=hours_before)).astimezone(dt.UTC)


def test_alerts_at_each_threshold_grouped_per_seller(
    portfolio: sessionmaker[Session], configured: Settings, client: WebClient, slack: FakeSlack
) -> None:
    assert run_dispatch_alerts(portfolio, client, configured, now=at(30)).posted == []
    report = run_dispatch_alerts(portfolio, client, configured, now=at(23))
    assert sorted(report.posted) == [("S1", 24, 2), ("S2", 24, 1)]
    sent = posts(slack)
    assert len(sent) == 2
    dm = next(c for c in slack.calls_to("chat.postMessage") if c.params["channel"] != "C0SELLER")
    assert slack.calls_to("conversations.open")[0].params["users"] == "U0OWNER"
    shown = text_of(dm.params["blocks"])
    assert "*2 orders*" in shown and "within *24 hours*" in shown
    assert "`A1`" in shown and "`A2`" in shown and "A3" not in shown
    assert "Wed Nov 25, 21:00 EST" in shown
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown  # escaped
    (visit,) = find_buttons(dm.params["blocks"], "visit_seller_center")
    assert "S1" in visit["url"]
    channel_post = next(c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "C0SELLER")
    assert "`B1`" in text_of(channel_post.params["blocks"])
    # Later runs before the next threshold send nothing more.
    assert run_dispatch_alerts(portfolio, client, configured, now=at(13)).posted == []
    assert sorted(run_dispatch_alerts(portfolio, client, configured, now=at(11)).posted) == [
        ("S1", 12, 2),
        ("S2", 12, 1),
    ]
    assert sorted(run_dispatch_alerts(portfolio, client, configured, now=at(3.5)).posted) == [
        ("S1", 4, 2),
        ("S2", 4, 1),
    ]
    assert run_dispatch_alerts(portfolio, client, configured, now=at(-1)).posted == []  # past: nothing
    assert len(posts(slack)) == 6
    with portfolio() as session:
        claims = session.scalars(select(DispatchAlert).where(DispatchAlert.order_id == "A1")).all()
    assert sorted(c.threshold_hours for c in claims) == [4, 12, 24]
    assert all(c.message_ts for c in claims)


def test_an_order_crossing_t_minus_4_alerts_once_with_two_replicas_and_a_restart(
    portfolio: sessionmaker[Session], engine: Engine, configured: Settings, slack: FakeSlack
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    # Two replicas: their own engines, sessions and Slack clients, racing on the same database.
    replicas = [db.session_factory(db.make_engine(url)) for _ in range(2)]
    clients = [web_client(configured) for _ in range(2)]
    barrier = threading.Barrier(2)
    reports = []

    def replica(n: int) -> None:
        barrier.wait()
        reports.append(run_dispatch_alerts(replicas[n], clients[n], configured, now=at(3.9)))

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(p for r in reports for p in r.posted) == [("S1", 4, 2), ("S2", 4, 1)]
    assert len(posts(slack)) == 2
    # A restart: a new process (new engine) runs the job again ten minutes later.
    for factory in replicas:
        factory.kw["bind"].dispose()
    restarted = db.session_factory(db.make_engine(url))
    try:
        again = run_dispatch_alerts(restarted, web_client(configured), configured, now=at(3.7))
    finally:
        restarted.kw["bind"].dispose()
    assert again.posted == [] and len(posts(slack)) == 2


def test_a_failed_post_gives_the_claims_back(
    portfolio: sessionmaker[Session], configured: Settings, client: WebClient, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=200, times=1)
    first = run_dispatch_alerts(portfolio, client, configured, now=at(3))
    assert len(first.failed) == 1 and len(first.posted) == 1
    second = run_dispatch_alerts(portfolio, client, configured, now=at(2.9))
    assert [shop_id for shop_id, *_ in second.posted] == first.failed
    assert run_dispatch_alerts(portfolio, client, configured, now=at(2.8)).posted == []


def test_dispatched_and_cancelled_orders_are_never_alerted(
    portfolio: sessionmaker[Session], configured: Settings, client: WebClient
) -> None:
    load(
        portfolio,
        Kind.ORDERS,
        [
            order("A1", "S1", "CANCELLED"),
            order("A2", "S1", "IN_TRANSIT", in_transit_at=(ORDERED + dt.timedelta(hours=1)).isoformat()),
        ],
    )
    report = run_dispatch_alerts(portfolio, client, configured, now=at(3))
    assert report.posted == [("S2", 4, 1)]


def test_tiktoks_sla_time_decides_when_the_alert_goes(
    portfolio: sessionmaker[Session], configured: Settings, client: WebClient, slack: FakeSlack
) -> None:
    sla = DUE - dt.timedelta(hours=20)  # TikTok wants it 20 hours earlier than the rule
    load(portfolio, Kind.ORDERS, [order("B1", "S2", sla_deadline=sla.isoformat())])
    report = run_dispatch_alerts(
        portfolio, client, configured, now=(sla - dt.timedelta(hours=3)).astimezone(dt.UTC)
    )
    assert ("S2", 4, 1) in report.posted
    channel_post = next(c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "C0SELLER")
    assert "TikTok SLA" in text_of(channel_post.params["blocks"])
    with portfolio() as session:
        stored = session.get(Order, "B1")
        assert stored is not None and stored.due_zone == "America/New_York"
