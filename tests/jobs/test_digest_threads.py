"""Digest threads: a seller's later news goes into the thread of its first digest row, for a week.

run_due posts to the local fake Slack Web API (the shared `slack` and `client` fixtures). Moved from
tests/handlers/test_followup.py. Every database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import DigestSubscription, DigestThread
from bot.ingest.formats import Kind
from bot.playground.fakeslack import Call, FakeSlack
from jobs.digests import run_due
from tests.support.data import load, metric, shop
from tests.support.slack import text_of

UTC = dt.UTC
DAY = dt.timedelta(days=1)
D = dt.date(2026, 11, 24)  # the first digest day of the multi-day tests
POST = "chat.postMessage"


def posts(slack: FakeSlack, channel: str | None = None) -> list[Call]:
    return [c for c in slack.calls_to(POST) if c.ok and (channel is None or c.params["channel"] == channel)]


# ---- threads: a seller's later news goes into the thread of its first digest row ----


def subscribe(factory: sessionmaker[Session], channel: str = "CDIG") -> None:
    with factory() as session, session.begin():
        session.add(
            DigestSubscription(
                channel_id=channel,
                post_at="09:00",
                timezone="UTC",
                skip_quiet_days=False,
                created_by="UADMIN",
                created_at=dt.datetime.now(UTC),
            )
        )


def at_nine(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)


def falls(factory: sessionmaker[Session], shop_id: str, day: dt.date, before: int, after: int) -> None:
    """The seller's AHR goes from `before` (the day before) to `after` on `day`."""
    load(
        factory,
        Kind.METRICS,
        [metric(shop_id, day - DAY, before, "4.6", 800.0), metric(shop_id, day, after, "4.6", 800.0)],
    )


def test_next_day_news_is_a_thread_reply(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "FALL1", "Falling Fast"), shop("S2", "NEW2", "Newly Down")])
    subscribe(factory)
    falls(factory, "S1", D, 400, 370)
    assert run_due(factory, client, now=at_nine(D)).posted == ["CDIG"]
    (first,) = posts(slack)
    first_ts = first.response["ts"]
    assert "FALL1" in text_of(first.params["blocks"]) and "thread_ts" not in first.params

    falls(factory, "S1", D + DAY, 370, 340)
    falls(factory, "S2", D + DAY, 300, 270)
    assert run_due(factory, client, now=at_nine(D + DAY)).posted == ["CDIG"]
    top, reply = posts(slack)[1:]
    assert "thread_ts" not in top.params and reply.params["thread_ts"] == first_ts
    assert reply.params["channel"] == "CDIG"
    top_text = text_of(top.params["blocks"])
    assert "FALL1" not in top_text and "NEW2" in top_text
    assert ":thread: 1 seller from a recent digest: updates in their threads" in top_text
    assert "FALL1" in text_of(reply.params["blocks"]) and "(370 → 340)" in text_of(reply.params["blocks"])
    with factory() as session:
        threads = {t.shop_id: (t.thread_ts, t.last_day) for t in session.scalars(select(DigestThread))}
    assert threads == {"S1": (first_ts, D + DAY), "S2": (top.response["ts"], D + DAY)}


@pytest.mark.parametrize(("gap", "threaded"), [(7, True), (8, False), (9, False)])
def test_seller_absent_over_a_week_starts_a_new_row(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack, gap: int, threaded: bool
) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "FALL1", "Falling Fast")])
    subscribe(factory)
    falls(factory, "S1", D, 400, 370)
    run_due(factory, client, now=at_nine(D))
    first_ts = posts(slack)[0].response["ts"]
    back = D + gap * DAY
    falls(factory, "S1", back, 370, 340)
    assert run_due(factory, client, now=at_nine(back)).posted == ["CDIG"]
    later = posts(slack)[1:]
    if threaded:
        top, reply = later
        assert reply.params["thread_ts"] == first_ts and "FALL1" not in text_of(top.params["blocks"])
    else:
        (top,) = later
        assert "thread_ts" not in top.params and "FALL1" in text_of(top.params["blocks"])
        assert "already in a recent digest" not in text_of(top.params["blocks"])
