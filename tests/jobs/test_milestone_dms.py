"""Owners' milestone DMs: an owner who opted in (`/health notify milestones on`) hears once when
one of their sellers crosses an AHR milestone, from notify_milestones and the scheduled jobs.

Slack is the local fake Web API (the shared `slack` and `client` fixtures). Moved from
tests/handlers/test_followup.py. Every database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.commands.asker import Asker
from bot.commands.registry import answer
from bot.db.models import PostClaim
from bot.ingest.formats import Kind
from bot.playground.fakeslack import Call, FakeSlack
from bot.settings import Settings
from jobs.digests import notify_milestones
from jobs.scheduler import build_scheduler
from tests.support.data import load, metric, shop
from tests.support.slack import text_of

DAY = dt.timedelta(days=1)
D = dt.date(2026, 11, 24)  # the day the sellers cross
POST = "chat.postMessage"


def posts(slack: FakeSlack, channel: str | None = None) -> list[Call]:
    return [c for c in slack.calls_to(POST) if c.ok and (channel is None or c.params["channel"] == channel)]


def ask(
    factory: sessionmaker[Session], settings: Settings, text: str, *, user: str = "U1", today: dt.date = D
) -> str:
    with factory() as session:
        reply = answer(session, text, settings=settings, asker=Asker(user_id=user), today=today)
    return text_of(reply.blocks)


def owned_crossings(factory: sessionmaker[Session]) -> None:
    """Two owned sellers fall through 150 today (UOWNER's and UOTHER's); a third stays put."""
    load(
        factory,
        Kind.SHOPS,
        [
            shop("S1", "MIL1", "Milestone One", owner="UOWNER"),
            shop("S2", "MIL2", "Milestone Two", owner="UOTHER"),
            shop("S3", "CALM", "Calm Shop", owner="UOWNER"),
        ],
    )
    load(
        factory,
        Kind.METRICS,
        [metric(s, D - DAY, 160, "4.5", 10.0) for s in ("S1", "S2")]
        + [metric(s, D, 148, "4.5", 10.0) for s in ("S1", "S2")]
        + [metric("S3", D - DAY, 300, "4.5", 10.0), metric("S3", D, 290, "4.5", 10.0)],
    )


def test_milestone_dm_goes_to_an_opted_in_owner_once(
    factory: sessionmaker[Session], settings: Settings, client: WebClient, slack: FakeSlack
) -> None:
    owned_crossings(factory)
    reply = ask(factory, settings, "notify milestones on", user="UOWNER")
    assert "I will DM you when one of your sellers crosses an AHR milestone" in reply
    assert notify_milestones(factory, client) == ["S1"]
    (opened,) = slack.calls_to("conversations.open")
    assert opened.params["users"] == "UOWNER"
    (dm,) = posts(slack)
    assert dm.params["channel"] == "DUOWNER"
    assert (
        "Milestone One" in dm.params["text"]
        and "fell to AHR 148 (from 160) and reached 150" in dm.params["text"]
    )
    assert "7 days without creating listings" in dm.params["text"]
    # A second run (a retry, another replica) sends nothing more.
    assert notify_milestones(factory, client) == []
    assert len(posts(slack)) == 1 and len(slack.calls_to("conversations.open")) == 1


def test_a_crossing_is_not_dmed_again_the_next_day_without_new_data(
    factory: sessionmaker[Session], settings: Settings, client: WebClient, slack: FakeSlack
) -> None:
    # Regression guard (jobs/digests.py notify_milestones, fixed): the once-only key is
    # "milestone-dm:{shop}:{day}:{milestone}" with `day` the run's day, not the data day; the
    # crossing itself is read from shop_health (newest data vs the day before). When the next
    # day's data has not arrived yet, a run on D+1 sees the same crossing and DMs the owner again.
    # Fix: key on the data day (ShopHealth.as_of) instead of `day`.
    owned_crossings(factory)
    ask(factory, settings, "notify milestones on", user="UOWNER")
    assert notify_milestones(factory, client) == ["S1"]
    assert notify_milestones(factory, client) == []
    assert len(posts(slack)) == 1
    # The runs above happen on the machine's day, after D: a key on the run's day would let the
    # next day's run DM again; the key names the data day.
    with factory() as session:
        assert set(session.scalars(select(PostClaim.key))) == {f"milestone-dm:S1:{D.isoformat()}:150"}


def test_no_milestone_dm_without_opting_in_or_after_opting_out(
    factory: sessionmaker[Session], settings: Settings, client: WebClient, slack: FakeSlack
) -> None:
    owned_crossings(factory)
    assert notify_milestones(factory, client) == []
    ask(factory, settings, "notify milestones on", user="UOWNER")
    assert "no longer DM you" in ask(factory, settings, "notify milestones off", user="UOWNER")
    assert notify_milestones(factory, client) == []
    assert slack.calls == []


def test_milestone_dms_are_sent_by_the_scheduled_jobs(
    factory: sessionmaker[Session], settings: Settings, client: WebClient, slack: FakeSlack
) -> None:
    # An owner who ran `/health notify milestones on` hears from a scheduled job, not only the CLI.
    owned_crossings(factory)
    ask(factory, settings, "notify milestones on", user="UOWNER")
    scheduler = build_scheduler(settings, factory, client)
    for job in scheduler.get_jobs():  # what APScheduler would run, the way it runs it
        job.func(*job.args, **job.kwargs)
    assert [c.params["channel"] for c in posts(slack)] == ["DUOWNER"]
