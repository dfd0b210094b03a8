"""Posting exactly once (PRODUCT.md "Posting exactly once"): when Slack accepts a message but the
answer never arrives (slower than the client's timeout, or the connection dropped), or the process
dies between posting and recording, the post is settled from the channel's history by its
metadata; nothing is posted twice and `healthbot digest run` never crashes.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import DigestRun, PostClaim
from bot.deps import web_client
from bot.playground.fakeslack import FakeSlack
from bot.services import subscriptions
from bot.services.digest_runs import CLAIM_LEASE
from bot.settings import Settings
from bot.slack.poster import EVENT_TYPE, Outcome, Poster
from jobs.digests import run_due
from tests.support.slack import configure

POST = "chat.postMessage"
UTC = dt.UTC


@pytest.fixture
def quick(settings: Settings, slack: FakeSlack) -> WebClient:
    """The app's client with a 1-second timeout, so a slow Slack outlasts it."""
    return web_client(configure(settings, slack, healthbot_slack_timeout=1))


def steady_zone(now: dt.datetime | None = None) -> str:
    """A zone where it is about noon now, so the test's runs (real clock, up to a lease and a
    half later) fall on one local day whatever the hour: in UTC, a run at 23:55 and one after
    the lease are two days with a digest each."""
    hours = (12 - (now or dt.datetime.now(UTC)).hour + 11) % 24 - 11  # UTC offset, -11..12
    return "Etc/GMT" if hours == 0 else f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"


def subscribe(factory: sessionmaker[Session], *channels: str) -> None:
    with factory() as session:
        for channel in channels:
            subscriptions.subscribe(session, channel, "00:00", steady_zone(), False, "UADMIN")


def posted(slack: FakeSlack, channel: str) -> list[dict[str, object]]:
    """Messages Slack holds in a channel (whatever the bot was told)."""
    return [m for (c, _), m in slack.messages.items() if c == channel]


def runs(factory: sessionmaker[Session]) -> list[DigestRun]:
    with factory() as session:
        return list(session.scalars(select(DigestRun)))


@pytest.mark.parametrize("trouble", ["slow", "reset"])
def test_a_post_slack_accepted_but_never_confirmed_is_settled_not_repeated(
    factory: sessionmaker[Session], quick: WebClient, slack: FakeSlack, trouble: str
) -> None:
    subscribe(factory, "CSLOW1", "CSLOW2")
    if trouble == "slow":
        slack.slow_next(POST, seconds=2, times=2)  # longer than the client's 1 s timeout
    else:
        slack.reset_next(POST, times=2)
    now = dt.datetime.now(UTC)
    report = run_due(factory, quick, now=now)  # no traceback
    assert sorted(report.posted) == ["CSLOW1", "CSLOW2"] and report.failed == []
    again = run_due(factory, quick, now=now + dt.timedelta(minutes=1))
    later = run_due(factory, quick, now=now + CLAIM_LEASE * 2)
    assert again.posted == [] and later.posted == []
    for channel in ("CSLOW1", "CSLOW2"):
        (message,) = posted(slack, channel)
        assert message["metadata"]["event_type"] == EVENT_TYPE  # type: ignore[index]
    assert all(run.message_ts for run in runs(factory))
    assert len(slack.calls_to(POST)) == 2  # never posted blindly again


def test_when_the_history_cannot_be_read_the_claim_waits_and_the_next_run_settles_it(
    factory: sessionmaker[Session], quick: WebClient, slack: FakeSlack
) -> None:
    subscribe(factory, "CDARK")
    slack.reset_next(POST)
    slack.fail_next("conversations.history", status=500, times=3)  # one read and its two retries
    now = dt.datetime.now(UTC)
    report = run_due(factory, quick, now=now)
    assert report.unsettled == ["CDARK"] and report.posted == []
    (run,) = runs(factory)
    assert run.message_ts is None  # the claim stays: posting now could post twice
    assert run_due(factory, quick, now=now + dt.timedelta(minutes=1)).posted == []  # within the lease
    settled = run_due(factory, quick, now=now + CLAIM_LEASE * 2)  # the history reads again
    assert settled.posted == ["CDARK"]
    assert len(posted(slack, "CDARK")) == 1


@pytest.fixture
def served_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def test_kill_9_between_posting_and_recording_posts_each_digest_once(
    factory: sessionmaker[Session], database_url: str, settings: Settings, slack: FakeSlack, tmp_path: Path
) -> None:
    channels = [f"CKILL{i}" for i in range(6)]
    subscribe(factory, *channels)
    slack.slow_next(POST, seconds=60, times=len(channels))  # accepted, then the answer hangs
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HEALTHBOT_", "TIKTOK_"))},
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": slack.api_url,
    }
    with (tmp_path / "run.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "digest", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            while (
                sum(len(posted(slack, c)) for c in channels) < len(channels) and time.monotonic() < deadline
            ):
                time.sleep(0.05)
            assert sum(len(posted(slack, c)) for c in channels) == len(channels)
            process.send_signal(signal.SIGKILL)  # mid-run: every message posted, none recorded
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
    assert all(run.message_ts is None for run in runs(factory))
    client = web_client(configure(settings, slack))
    report = run_due(factory, client, now=dt.datetime.now(UTC) + CLAIM_LEASE * 2)  # after the lease
    assert sorted(report.posted) == sorted(channels)
    assert all(len(posted(slack, c)) == 1 for c in channels)
    assert all(run.message_ts for run in runs(factory))


def test_a_generic_post_claimed_twice_posts_once_and_keeps_its_timestamp(
    factory: sessionmaker[Session], settings: Settings, slack: FakeSlack
) -> None:
    poster = Poster(web_client(configure(settings, slack, healthbot_slack_timeout=1)), factory, worker="w1")
    slack.reset_next(POST)
    first = poster.post("share:C1:abc", channel="C1", text="hello")
    second = poster.post("share:C1:abc", channel="C1", text="hello")
    assert first.outcome is second.outcome is Outcome.POSTED and first.ts == second.ts
    assert len(posted(slack, "C1")) == 1
    with factory() as session:
        (claim,) = session.scalars(select(PostClaim))
        assert claim.message_ts == first.ts


def test_a_thread_update_lost_in_a_reset_is_found_in_the_thread(
    factory: sessionmaker[Session], settings: Settings, slack: FakeSlack
) -> None:
    client = web_client(configure(settings, slack, healthbot_slack_timeout=1))
    parent = client.chat_postMessage(channel="CT", text="digest")["ts"]
    poster = Poster(client, factory, worker="w1")
    slack.reset_next(POST)
    delivery = poster.post("digest-thread:1:x", channel="CT", thread_ts=parent, text="update")
    assert delivery.outcome is Outcome.POSTED
    replies = [m for (c, ts), m in slack.messages.items() if c == "CT" and m.get("thread_ts") == parent]
    assert len(replies) == 1
