"""Daily digests: subscriptions, content, and posting exactly once per subscription per local day.

Slack is the local fake Web API server (bot.playground.fakeslack) reached through the app's own
`web_client` (with its retry handlers); every database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blocks.digest import digest_reply, thread_lists
from blocks.ids import ActionId, ShopRef
from bot import cli, db
from bot.commands.asker import Asker
from bot.commands.registry import answer
from bot.db.models import DigestRun, DigestSubscription
from bot.deps import web_client
from bot.ingest.formats import Kind
from bot.playground.fakeslack import FakeSlack
from bot.services import subscriptions as subscription_service
from bot.services.attention import Lens
from bot.services.digest import build_digest
from bot.services.digest_records import Section
from bot.services.digest_runs import CLAIM_LEASE, WORKER
from bot.settings import Settings
from jobs.digests import run_due
from tests.support.data import account, load, metric, shop, violation
from tests.support.slack import BOT_TOKEN, configure, running_app, text_of

UTC = dt.UTC
TODAY = dt.datetime.now(UTC).date()  # the digest day; authorization_lost_at is stamped with the real clock
DATA_DAY = TODAY - dt.timedelta(days=1)  # newest data day; its "yesterday" is the day before
POST = "chat.postMessage"


# ---- building data ----


@dataclass
class Portfolio:
    """Rows for the real importer: two data days per seller (yesterday -> today)."""

    shops: list[dict[str, object]] = field(default_factory=list)
    metrics: list[dict[str, object]] = field(default_factory=list)
    accounts: list[dict[str, object]] = field(default_factory=list)
    violations: list[dict[str, object]] = field(default_factory=list)

    def seller(
        self,
        code: str,
        *,
        ahr: tuple[int, int] = (250, 250),
        sps: tuple[str, str] = ("4.8", "4.8"),
        chr_: tuple[int, int] | None = None,
        gmv: float = 1000.0,
        region: str = "US",
        authorized: bool = True,
        chr_authorized: bool = True,
        name: str | None = None,
    ) -> str:
        shop_id = f"9{len(self.shops):05d}"
        self.shops.append(
            shop(
                shop_id,
                code,
                name or f"Shop {code}",
                region=region,
                authorized=str(authorized).lower(),
                chr_authorized=str(chr_authorized).lower(),
            )
        )
        before, after = DATA_DAY - dt.timedelta(days=1), DATA_DAY
        self.metrics.append(metric(shop_id, before, ahr[0], sps[0], gmv))
        self.metrics.append(metric(shop_id, after, ahr[1], sps[1], gmv))
        if chr_ is not None:
            self.accounts.append(account(shop_id, before, f"@{code.lower()}", chr_[0]))
            self.accounts.append(account(shop_id, after, f"@{code.lower()}", chr_[1]))
        return shop_id

    def load(self, factory: sessionmaker[Session]) -> None:
        load(factory, Kind.SHOPS, self.shops)
        load(factory, Kind.METRICS, self.metrics)
        if self.accounts:
            load(factory, Kind.ACCOUNTS, self.accounts)
        if self.violations:
            load(factory, Kind.VIOLATIONS, self.violations)


def lose_authorization(factory: sessionmaker[Session], portfolio: Portfolio, code: str) -> None:
    """Import a shops file that flips one shop from authorized to not (the importer stamps the loss)."""
    row = next(dict(s) for s in portfolio.shops if s["shop_code"] == code)
    row["authorized"] = "false"
    load(factory, Kind.SHOPS, [row])


def codes(rows: list[Any]) -> list[str]:
    return [r.shop_code for r in rows]


def row_choices(accessory: dict[str, Any]) -> set[tuple[str, str]]:
    """(what, shop_id) for a seller row's button, or for each choice of its overflow menu."""
    if accessory["type"] == "button":
        what = {
            ActionId.OPEN_SHOP.value: "open",
            ActionId.REQUEST_AUTHORIZATION.value: "request",
        }[accessory["action_id"].split(":")[0]]
        return {(what, ShopRef.model_validate_json(accessory["value"]).shop_id)}
    assert accessory["type"] == "overflow", accessory
    values = [json.loads(option["value"]) for option in accessory["options"]]
    return {(v["op"], v["shop_id"]) for v in values}


# ---- Slack and subscriptions ----


def subscribe(
    factory: sessionmaker[Session],
    channel: str,
    at: str = "09:00",
    tz: str = "UTC",
    *,
    skip_quiet: bool = False,
) -> int:
    """Subscribe the channel through the subscriptions service; returns the subscription's id."""
    with factory() as session:
        subscription_service.subscribe(session, channel, at, tz, skip_quiet, "UADMIN")
        sub_id = session.scalar(select(DigestSubscription.id).where(DigestSubscription.channel_id == channel))
    assert sub_id is not None
    return sub_id


def local(day: dt.date, hh: int, mm: int, tz: str) -> dt.datetime:
    """A local wall-clock time as a UTC instant, the way the scheduler passes `now`."""
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def posts(slack: FakeSlack, channel: str | None = None) -> list[Any]:
    """Accepted chat.postMessage calls (optionally to one channel)."""
    return [c for c in slack.calls_to(POST) if c.ok and (channel is None or c.params["channel"] == channel)]


def runs(factory: sessionmaker[Session]) -> list[DigestRun]:
    with factory() as session:
        return list(
            session.scalars(select(DigestRun).order_by(DigestRun.subscription_id, DigestRun.local_date))
        )


def ask(
    factory: sessionmaker[Session],
    settings: Settings,
    text: str,
    *,
    user: str = "UADMIN",
    channel: str | None = "CHERE",
    admin: bool = True,
) -> Any:
    with factory() as session:
        return answer(
            session,
            text,
            settings=settings,
            asker=Asker(user_id=user, channel_id=channel, admin_check=lambda: admin),
        )


def subscriptions(factory: sessionmaker[Session]) -> dict[str, tuple[str, str, bool]]:
    with factory() as session:
        return {
            s.channel_id: (s.post_at, s.timezone, s.skip_quiet_days)
            for s in subscription_service.subscriptions(session)
        }


# ---- `/health digest subscribe|unsubscribe|list|preview` ----


def test_subscribe_with_channel_time_and_zone(factory: sessionmaker[Session], settings: Settings) -> None:
    reply = ask(factory, settings, "digest subscribe <#C123|x> at 08:30 tz America/New_York")
    assert "<#C123> will get the daily digest at 08:30 (America/New_York)" in reply.text
    assert "all-clear" in reply.text
    assert subscriptions(factory) == {"C123": ("08:30", "America/New_York", False)}


def test_subscribe_defaults_to_this_channel_9am_and_the_bot_zone(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    reply = ask(factory, settings, "digest subscribe", channel="CHERE")
    assert "<#CHERE> will get the daily digest at 09:00" in reply.text
    assert subscriptions(factory) == {"CHERE": ("09:00", settings.healthbot_timezone, False)}


def test_subscribing_again_changes_the_subscription(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    ask(factory, settings, "digest subscribe <#C123|x> at 08:30 tz America/New_York")
    ask(factory, settings, "digest subscribe <#C123|x> at 7:05 tz Asia/Tokyo skip-quiet")
    assert subscriptions(factory) == {"C123": ("07:05", "Asia/Tokyo", True)}


def test_only_admins_change_subscriptions(factory: sessionmaker[Session], settings: Settings) -> None:
    ask(factory, settings, "digest subscribe <#C123|x>")
    for text in ("digest subscribe <#C999|y> at 10:00", "digest unsubscribe <#C123|x>"):
        reply = ask(factory, settings, text, user="UOTHER", admin=False)
        assert "Only the bot's admins" in reply.text
    assert list(subscriptions(factory)) == ["C123"]


def test_list_and_preview_are_for_everyone(factory: sessionmaker[Session], settings: Settings) -> None:
    assert "No channel is subscribed yet" in text_of(
        ask(factory, settings, "digest list", admin=False, user="UOTHER").blocks
    )
    ask(factory, settings, "digest subscribe <#C123|x> at 08:30 tz America/New_York")
    ask(factory, settings, "digest subscribe <#C456|y> at 18:00 tz Europe/Paris skip-quiet")
    listed = text_of(ask(factory, settings, "digest list", admin=False, user="UOTHER").blocks)
    assert "<#C123> at 08:30 America/New_York" in listed
    assert "<#C456> at 18:00 Europe/Paris (skips quiet days)" in listed
    preview = ask(factory, settings, "digest preview", admin=False, user="UOTHER")
    assert "Seller health digest" in text_of(preview.blocks)
    assert len(subscriptions(factory)) == 2  # a preview posts and changes nothing


def test_unsubscribe(factory: sessionmaker[Session], settings: Settings) -> None:
    ask(factory, settings, "digest subscribe <#C123|x>")
    assert "Unsubscribed <#C123>" in ask(factory, settings, "digest unsubscribe <#C123|x>").text
    assert subscriptions(factory) == {}
    assert "had no digest subscription" in ask(factory, settings, "digest unsubscribe <#C123|x>").text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest subscribe at 25:00", "is not a time"),
        ("digest subscribe at noon", "is not a time"),
        ("digest subscribe tz Mars/Olympus_Mons", "is not a time zone"),
        ("digest subscribe #general", "pick it from Slack's channel list"),
        ("digest subscribe <#C1|a> every day", "does not understand"),
    ],
)
def test_bad_subscribe_arguments_say_what_is_wrong(
    factory: sessionmaker[Session], settings: Settings, text: str, expected: str
) -> None:
    reply = ask(factory, settings, text)
    assert expected in reply.text
    assert "Traceback" not in text_of(reply.blocks)
    assert subscriptions(factory) == {}


def test_subscribe_without_a_channel_asks_for_one(factory: sessionmaker[Session], settings: Settings) -> None:
    reply = ask(factory, settings, "digest subscribe at 09:00", channel=None)
    assert "which channel?" in reply.text
    assert subscriptions(factory) == {}


# ---- content ----


@pytest.fixture
def busy(factory: sessionmaker[Session]) -> Portfolio:
    """One seller per digest section (two where order matters), and look-alikes that must stay out."""
    p = Portfolio()
    p.seller("DROP-BIG", ahr=(190, 160), gmv=9000)
    p.seller("DROP-SMALL", ahr=(195, 170), gmv=3000)
    p.seller("DROP-20", ahr=(190, 170), gmv=8000)  # exactly 20 is not "more than 20"
    p.seller("MIL-50", ahr=(60, 45), gmv=5000)
    p.seller("MIL-0", ahr=(10, 0), gmv=100)
    p.seller("SPS-DROP", sps=("4.5", "3.8"), gmv=4000)
    p.seller("SPS-05", sps=("4.5", "4.0"), gmv=7000)  # exactly 0.5
    p.seller("CHR-DROP", chr_=(250, 220), gmv=2000)
    p.seller("CHR-HIDDEN", chr_=(250, 200), gmv=6000, chr_authorized=False)
    appeal = p.seller("APPEAL-5", gmv=1500)
    later = p.seller("APPEAL-10", gmv=1600)
    p.violations.append(violation("V1", appeal, TODAY - dt.timedelta(days=25), policy="Late dispatch"))
    p.violations.append(violation("V2", later, TODAY - dt.timedelta(days=20)))
    p.seller("LOST", ahr=(190, 150), gmv=2500)
    p.seller("NEVER", ahr=(190, 100), gmv=9999, authorized=False)  # never authorized: nothing to report
    p.seller("HEALTHY", gmv=50_000)
    p.load(factory)
    lose_authorization(factory, p, "LOST")
    return p


def test_digest_sections(factory: sessionmaker[Session], busy: Portfolio) -> None:
    with factory() as session:
        digest = build_digest(session, Lens(today=TODAY))
    s = digest.sections
    # What must be done today first; each seller once, under its most urgent reason.
    assert codes(s[Section.APPEALS]) == ["APPEAL-5"]
    assert codes(s[Section.RESTRICTIONS]) == ["MIL-50", "MIL-0"]  # highest GMV first
    assert codes(s[Section.NEAR_MILESTONE]) == ["DROP-BIG"]  # fell 30 to 160: 10 above 150
    assert codes(s[Section.ACCESS]) == ["LOST"]
    assert codes(s[Section.AHR_DROP]) == ["DROP-SMALL"]
    assert codes(s[Section.SPS_DROP]) == ["SPS-DROP"]
    assert codes(s[Section.CHR_DROP]) == ["CHR-DROP"]
    assert s[Section.POINTS] == [] and s[Section.CRITICAL] == []
    until = DATA_DAY + dt.timedelta(days=28)
    assert s[Section.RESTRICTIONS][0].reasons == (
        f"AHR 60 → 45: reached 50: restricted until {until:%b %-d} "
        "(28 days without creating listings or joining mega campaigns)",
    )
    assert "reached 0: permanent deactivation" in s[Section.RESTRICTIONS][1].reasons[0]
    # The other reasons are on the same row.
    assert s[Section.NEAR_MILESTONE][0].reasons == (
        "AHR 160 is 10 above 150 (within 10): 7 days without creating listings or joining mega "
        "campaigns if it falls",
        "AHR fell 30 since yesterday (190 → 160)",
    )
    assert s[Section.SPS_DROP][0].reasons == ("SPS fell since yesterday (4.5 → 3.8)",)
    assert s[Section.CHR_DROP][0].reasons == ("CHR fell 30 since yesterday (lowest account now 220)",)
    deadline = TODAY + dt.timedelta(days=5)
    assert s[Section.APPEALS][0].reasons == (f"Appeal Late dispatch (4 pts) by {deadline:%b %-d}, in 5 days",)
    assert s[Section.ACCESS][0].reasons[0].startswith("Shop access lost")
    assert digest.sellers == 8 and digest.needs_action == 8
    # GMV at risk counts each authorized seller once; the lost seller's GMV is no longer ours to see.
    assert digest.gmv_at_risk == 9000 + 3000 + 5000 + 100 + 4000 + 2000 + 1500
    assert not digest.quiet


def test_the_digest_headline_is_the_overviews(
    factory: sessionmaker[Session], busy: Portfolio, settings: Settings
) -> None:
    # One definition of needs action: the digest, /health overview and /health atrisk agree.
    with factory() as session:
        digest = build_digest(session, Lens(today=TODAY))
        overview = answer(session, "overview", settings=settings, today=TODAY)
        atrisk = answer(session, "atrisk", settings=settings, today=TODAY)
    headline = "8 sellers need action · $24.6k GMV (last 7 days) at risk"
    assert headline in text_of(digest_reply(digest).blocks)
    assert ":rotating_light: 8 sellers · $24.6k GMV at risk" in text_of(overview.blocks)
    assert "1-8 of 8" in text_of(atrisk.blocks)


def test_digest_message_has_one_button_per_seller_and_fits_slack(
    factory: sessionmaker[Session], busy: Portfolio, client: WebClient, slack: FakeSlack
) -> None:
    with factory() as session:
        reply = digest_reply(build_digest(session, Lens(today=TODAY)))
    text = text_of(reply.blocks)
    assert f"{TODAY:%a %b %-d, %Y}" in text
    assert (
        reply.text
        == f"Seller health digest · {TODAY:%a %b %-d, %Y}: 8 sellers need action · $24.6k GMV (last 7 days) at risk"
    )
    assert text.index("Act today") < text.index("*Appeal deadlines within 7 days* (1)")
    assert (
        text.index("*Authorization lost* (1)")
        < text.index("Also needs action")
        < text.index("*AHR fell more than 20* (1)")
    )
    shop_ids = {str(s["shop_code"]): str(s["shop_id"]) for s in busy.shops}
    rows = [b for b in reply.blocks if b["type"] == "section" and b.get("accessory")]
    assert len(rows) == 8  # one row per seller
    action_ids = [b["accessory"]["action_id"] for b in rows]
    assert len(set(action_ids)) == len(action_ids)
    for code in ("DROP-BIG", "DROP-SMALL", "MIL-50", "MIL-0", "SPS-DROP", "CHR-DROP", "APPEAL-5", "LOST"):
        (row,) = [b for b in rows if f"`{code}`" in b["text"]["text"]]
        wanted = "request" if code == "LOST" else "open"  # one primary button: Open card
        assert row_choices(row["accessory"]) == {(wanted, shop_ids[code])}
    for absent in ("DROP-20", "SPS-05", "CHR-HIDDEN", "APPEAL-10", "NEVER", "HEALTHY"):
        assert f"`{absent}`" not in text
    # Slack (the fake enforces Block Kit's limits) accepts it as one message.
    client.chat_postMessage(channel="CDIGEST", text=reply.text, blocks=reply.blocks)
    assert len(posts(slack)) == 1


def test_every_section_shows_its_own_top_rows_and_the_full_lists_go_to_the_thread(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    p = Portfolio()
    for i in range(45):
        p.seller(f"A{i:02d}", ahr=(199, 170), gmv=100_000 + i, name="Ñandú 店铺 " + "x" * 230)
    for i in range(20):
        p.seller(f"S{i:02d}", sps=("4.9", "3.0"), gmv=1000 + i)
    appeal = p.seller("APPEAL", gmv=10)
    p.violations.append(violation("V1", appeal, TODAY - dt.timedelta(days=28)))
    p.load(factory)
    with factory() as session:
        digest = build_digest(session, Lens(today=TODAY))
    assert codes(digest.sections[Section.AHR_DROP])[:2] == ["A44", "A43"]
    reply = digest_reply(digest)
    assert len(reply.blocks) <= 50
    text = text_of(reply.blocks)
    assert "66 sellers need action" in text
    # Big drops cannot starve the rest: the small-GMV appeal comes first, SPS keeps its rows.
    assert text.index("`APPEAL`") < text.index("`A44`") < text.index("`S19`")
    assert "*AHR fell more than 20* (45) · +43 more in the thread" in text
    assert "*SPS fell more than 0.5* (20) · +18 more in the thread" in text
    assert "`A42`" not in text and "`S17`" not in text
    client.chat_postMessage(channel="CDIGEST", text=reply.text, blocks=reply.blocks)
    assert len(json.dumps(reply.blocks)) < 40_000
    ahr_list, sps_list = thread_lists(digest)
    ahr_rows = [b for b in ahr_list.blocks if b.get("accessory")]
    assert (
        len(ahr_rows) == 40
        and "`A05`" in text_of(ahr_list.blocks)
        and "`A04`" not in text_of(ahr_list.blocks)
    )
    assert "… and 5 more: `/health atrisk ahr` pages through every seller" in text_of(ahr_list.blocks)
    assert len([b for b in sps_list.blocks if b.get("accessory")]) == 20
    for full in (ahr_list, sps_list):
        client.chat_postMessage(channel="CDIGEST", thread_ts="1.0", text=full.text, blocks=full.blocks)
    assert len(posts(slack)) == 3


def test_quiet_day_is_one_all_clear_line(factory: sessionmaker[Session]) -> None:
    p = Portfolio()
    p.seller("FINE", gmv=10)
    p.load(factory)
    with factory() as session:
        digest = build_digest(session, Lens(today=TODAY))
    assert digest.quiet
    reply = digest_reply(digest)
    (only,) = reply.blocks
    assert only["type"] == "section" and "all clear, no seller needs action today" in only["text"]["text"]
    assert reply.text.endswith(": all clear")
    assert thread_lists(digest) == []


@pytest.mark.parametrize(
    ("before", "after", "milestone"),
    [(155, 148, 150), (104, 99, 100), (55, 48, 50), (12, 0, 0)],
    ids=["150", "100", "50", "0"],
)
def test_any_milestone_crossing_is_reported_even_with_a_small_drop(
    factory: sessionmaker[Session], before: int, after: int, milestone: int
) -> None:
    # 155 -> 148 is neither a drop of more than 20 nor a critical band, yet it crossed 150.
    p = Portfolio()
    p.seller("CROSS", ahr=(before, after), gmv=10)
    p.load(factory)
    with factory() as session:
        digest = build_digest(session, Lens(today=TODAY))
    assert codes(digest.sections[Section.RESTRICTIONS]) == ["CROSS"]
    assert f"reached {milestone}" in digest.sections[Section.RESTRICTIONS][0].reasons[0]


def test_a_restriction_stays_in_the_digest_until_it_lifts(factory: sessionmaker[Session]) -> None:
    p = Portfolio()
    held = p.seller("HELD", ahr=(152, 98), gmv=10)  # reached 150 and 100 on DATA_DAY: 14 days
    p.load(factory)
    until = DATA_DAY + dt.timedelta(days=14)
    with factory() as session:
        (row,) = build_digest(session, Lens(today=TODAY)).sections[Section.RESTRICTIONS]
    assert row.reasons[0].startswith(f"AHR 152 → 98: reached 100: restricted until {until:%b %-d}")
    load(factory, Kind.METRICS, [metric(held, DATA_DAY + dt.timedelta(days=1), 98, "4.8", 10)])  # no news
    for day, shown in (
        (TODAY + dt.timedelta(days=5), True),
        (until - dt.timedelta(days=1), True),
        (until, False),
    ):
        with factory() as session:
            rows = build_digest(session, Lens(today=day)).sections[Section.RESTRICTIONS]
        assert bool(rows) is shown, day
        if shown:
            assert rows[0].reasons[0].startswith(f"Restricted until {until:%b %-d} (reached 100)")


def test_milestone_text_follows_the_sellers_region(factory: sessionmaker[Session]) -> None:
    # DOMAIN.md: milestones are a per-region table; the EU text differs at 50.
    p = Portfolio()
    p.seller("FR-50", ahr=(60, 45), region="FR")
    p.load(factory)
    with factory() as session:
        digest = build_digest(session, Lens(today=TODAY))
    (row,) = digest.sections[Section.RESTRICTIONS]
    assert "14 days without listing changes and 28 days without withdrawals" in row.reasons[0]


def test_second_appeal_deadline_of_an_older_violation_is_reported(factory: sessionmaker[Session]) -> None:
    # Regression guard (fixed): a shop violation stays appealable for 60 days and a rejected first
    # appeal opens 15 more days from the rejection (DOMAIN.md). Notified 50 days ago, rejected 10
    # days ago: 5 days left.
    p = Portfolio()
    shop_id = p.seller("SECOND")
    p.violations.append(
        violation(
            "V9",
            shop_id,
            TODAY - dt.timedelta(days=50),
            appeal_status="Appeal failed (can appeal again)",
            appeal_rejected_at=(TODAY - dt.timedelta(days=10)).isoformat(),
        )
    )
    p.load(factory)
    with factory() as session:
        digest = build_digest(session, Lens(today=TODAY))
    assert codes(digest.sections[Section.APPEALS]) == ["SECOND"]
    assert digest.sections[Section.APPEALS][0].reasons[0].endswith(", in 5 days")


def test_the_full_lists_go_into_the_digests_thread_once(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    p = Portfolio()
    for i in range(5):
        p.seller(f"A{i}", ahr=(199, 170), gmv=100 + i)  # 5 AHR drops: 2 shown, the rest in the thread
    p.seller("ONE", sps=("4.9", "3.0"), gmv=5)  # a section the message shows whole: no thread list
    p.load(factory)
    subscribe(factory, "CLISTS")
    now = local(TODAY, 9, 0, "UTC")
    assert run_due(factory, client, now=now).posted == ["CLISTS"]
    digest, *in_thread = posts(slack, "CLISTS")
    assert "thread_ts" not in digest.params and "+3 more in the thread" in text_of(digest.params["blocks"])
    (full,) = in_thread
    assert full.params["thread_ts"] == digest.response["ts"]
    assert "*AHR fell more than 20*: all 5 sellers, highest GMV first" in text_of(full.params["blocks"])
    assert [b["text"]["text"].split("`")[1] for b in full.params["blocks"] if b.get("accessory")] == [
        "A4", "A3", "A2", "A1", "A0",
    ]  # fmt: skip
    # Another run the same day posts nothing: neither the digest nor its lists again.
    assert run_due(factory, client, now=now + dt.timedelta(minutes=5)).posted == []
    assert len(posts(slack, "CLISTS")) == 2


def test_mondays_digest_carries_the_portfolio_trend_in_its_thread(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    p = Portfolio()
    p.seller("FALL", ahr=(199, 170), gmv=100)
    p.load(factory)
    subscribe(factory, "CWEEK")
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    tuesday = monday + dt.timedelta(days=1)
    for day in (monday, tuesday):
        assert run_due(factory, client, now=local(day, 9, 0, "UTC")).posted == ["CWEEK"]
    (complete,) = slack.calls_to("files.completeUploadExternal")  # Monday's only
    (monday_post, *_) = posts(slack, "CWEEK")
    assert (
        complete.params["channel_id"] == "CWEEK"
        and complete.params["thread_ts"] == monday_post.response["ts"]
    )
    assert "sellers per AHR band and GMV at risk, last 90 days" in complete.params["files"][0]["title"]
    assert slack.uploads[0].startswith(b"\x89PNG")
    run_due(factory, client, now=local(monday, 10, 0, "UTC"))
    assert len(slack.calls_to("files.completeUploadExternal")) == 1  # once


# ---- posting: exactly once per subscription per local day ----


def test_run_due_twice_posts_once(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    subscribe(factory, "CONE", "09:00", "America/New_York")
    now = local(TODAY, 9, 1, "America/New_York")
    first = run_due(factory, client, now=now)
    second = run_due(factory, client, now=now + dt.timedelta(minutes=1))
    assert first.posted == ["CONE"] and second.posted == []
    assert second.skipped == ["CONE"]
    (post,) = posts(slack)
    (run,) = runs(factory)
    assert run.local_date == TODAY
    assert run.message_ts == post.response["ts"] and run.posted_at is not None
    assert "all clear" in text_of(post.params["blocks"])  # a quiet day still gets its line


def test_not_due_before_its_local_time(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    subscribe(factory, "CONE", "09:00", "America/New_York")
    report = run_due(factory, client, now=local(TODAY, 8, 59, "America/New_York"))
    assert report.posted == [] and report.skipped == ["CONE"]
    assert posts(slack) == [] and runs(factory) == []


def stale_claim(factory: sessionmaker[Session], sub_id: int, day: dt.date, claimed_at: dt.datetime) -> None:
    """What a process that crashed between claiming and posting leaves behind."""
    with factory() as session, session.begin():
        session.add(
            DigestRun(subscription_id=sub_id, local_date=day, claimed_at=claimed_at, claimed_by="dead-host:1")
        )


def test_claim_of_a_crashed_process_is_taken_over_the_same_day(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    # Regression guard (SQLite, fixed): claim_run's take-over UPDATE runs with the ORM's default
    # synchronize_session="evaluate" while the claim row is loaded in the same session; SQLite hands
    # back a naive claimed_at, compared in Python with the aware `now - CLAIM_LEASE`: TypeError,
    # and run_due raises instead of taking the claim over.
    sub = subscribe(factory, "CCRASH", "09:00", "UTC")
    now = local(TODAY, 10, 0, "UTC")
    stale_claim(factory, sub, TODAY, now - CLAIM_LEASE - dt.timedelta(seconds=1))
    report = run_due(factory, client, now=now)
    assert report.posted == ["CCRASH"]
    (post,) = posts(slack, "CCRASH")
    (run,) = runs(factory)
    assert run.message_ts == post.response["ts"]
    assert run.claimed_by == WORKER
    assert run_due(factory, client, now=now + CLAIM_LEASE * 3).posted == []
    assert len(posts(slack)) == 1


def test_fresh_claim_is_left_to_its_holder_until_the_lease_ends(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    sub = subscribe(factory, "CBUSY", "09:00", "UTC")
    now = local(TODAY, 9, 30, "UTC")
    stale_claim(factory, sub, TODAY, now - dt.timedelta(minutes=1))
    report = run_due(factory, client, now=now)
    assert report.posted == [] and report.skipped == ["CBUSY"]
    assert posts(slack) == []
    (run,) = runs(factory)
    assert run.claimed_by == "dead-host:1" and run.message_ts is None
    # Once the lease has run out (same local day), the next run takes it over and posts.
    later = now + CLAIM_LEASE
    assert run_due(factory, client, now=later).posted == ["CBUSY"]
    assert len(posts(slack, "CBUSY")) == 1


def test_digest_missed_while_down_is_sent_the_same_day_never_the_next(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    tz = "America/New_York"
    subscribe(factory, "CLATE", "09:00", tz)
    day = dt.date(2026, 11, 24)
    # The bot was down at 09:00 and comes back at 15:00: the digest goes out now.
    assert run_due(factory, client, now=local(day, 15, 0, tz)).posted == ["CLATE"]
    (post,) = posts(slack)
    assert "Tue Nov 24, 2026" in text_of(post.params["blocks"])
    # 00:30 the next local day: nothing, Nov 24's digest was sent and Nov 25's is not due yet.
    assert run_due(factory, client, now=local(day + dt.timedelta(days=1), 0, 30, tz)).posted == []
    assert len(posts(slack)) == 1
    # The next day's digest waits for that day's 09:00.
    assert run_due(factory, client, now=local(day + dt.timedelta(days=1), 9, 0, tz)).posted == ["CLATE"]
    assert [r.local_date for r in runs(factory)] == [day, day + dt.timedelta(days=1)]


def test_a_day_missed_entirely_is_not_sent_after_midnight(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    tz = "America/Los_Angeles"
    subscribe(factory, "CDOWN", "09:00", tz)
    day = dt.date(2026, 11, 24)
    # Down all of Nov 24 local time; back at 00:30 on Nov 25 (08:30 UTC).
    assert run_due(factory, client, now=local(day + dt.timedelta(days=1), 0, 30, tz)).posted == []
    assert posts(slack) == [] and runs(factory) == []
    assert run_due(factory, client, now=local(day + dt.timedelta(days=1), 9, 10, tz)).posted == ["CDOWN"]
    (post,) = posts(slack)
    assert "Wed Nov 25, 2026" in text_of(post.params["blocks"])
    assert [r.local_date for r in runs(factory)] == [day + dt.timedelta(days=1)]


def test_each_subscription_runs_on_its_own_local_day(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    tokyo = subscribe(factory, "CTOKYO", "08:00", "Asia/Tokyo")  # 08:00 JST = 23:00 UTC the day before
    la = subscribe(factory, "CLA", "08:00", "America/Los_Angeles")  # 08:00 PST = 16:00 UTC
    instant = dt.datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # Tokyo 21:00 Nov 24, LA 04:00 Nov 24
    assert run_due(factory, client, now=instant).posted == ["CTOKYO"]
    instant = dt.datetime(2026, 11, 24, 16, 30, tzinfo=UTC)  # Tokyo 01:30 Nov 25, LA 08:30 Nov 24
    assert run_due(factory, client, now=instant).posted == ["CLA"]
    instant = dt.datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # Tokyo 08:30 Nov 25, LA 15:30 Nov 24
    assert run_due(factory, client, now=instant).posted == ["CTOKYO"]
    days = {(r.subscription_id, r.local_date) for r in runs(factory)}
    assert days == {
        (tokyo, dt.date(2026, 11, 24)),
        (tokyo, dt.date(2026, 11, 25)),
        (la, dt.date(2026, 11, 24)),
    }
    titles = [(c.params["channel"], c.params["text"].partition(":")[0]) for c in posts(slack)]
    assert titles == [
        ("CTOKYO", "Seller health digest · Tue Nov 24, 2026"),
        ("CLA", "Seller health digest · Tue Nov 24, 2026"),
        ("CTOKYO", "Seller health digest · Wed Nov 25, 2026"),
    ]


def test_skip_quiet_days_posts_nothing_on_a_quiet_day(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    subscribe(factory, "CSKIP", "09:00", "UTC", skip_quiet=True)
    subscribe(factory, "CTALK", "09:00", "UTC")
    report = run_due(factory, client, now=local(TODAY, 9, 0, "UTC"))
    assert report.posted == ["CTALK"] and report.skipped == ["CSKIP"]
    assert [c.params["channel"] for c in posts(slack)] == ["CTALK"]


def test_skip_quiet_days_still_posts_a_busy_day(
    factory: sessionmaker[Session], busy: Portfolio, client: WebClient, slack: FakeSlack
) -> None:
    subscribe(factory, "CSKIP", "09:00", "UTC", skip_quiet=True)
    assert run_due(factory, client, now=local(TODAY, 9, 0, "UTC")).posted == ["CSKIP"]
    (post,) = posts(slack)
    assert "Milestones reached, restrictions in force" in text_of(post.params["blocks"])
    assert any(b.get("accessory") for b in post.params["blocks"])


def test_slack_failure_releases_the_claim_and_a_later_run_posts_once(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    subscribe(factory, "CFAIL", "09:00", "UTC")
    now = local(TODAY, 9, 0, "UTC")
    slack.fail_next(POST, status=500, times=2)  # the first try and the one retry after reading the history
    report = run_due(factory, client, now=now)
    assert report.failed == ["CFAIL"] and report.posted == []
    assert len(slack.calls_to(POST)) == 2 and posts(slack) == []
    # Never a blind retry: after each 500 the channel's history was read for the claim first.
    methods = [c.method for c in slack.calls if c.method in (POST, "conversations.history")]
    assert methods == [POST, "conversations.history", POST, "conversations.history"]
    assert runs(factory) == []  # the claim was given back
    assert run_due(factory, client, now=now + dt.timedelta(minutes=1)).posted == ["CFAIL"]
    assert run_due(factory, client, now=now + dt.timedelta(minutes=2)).posted == []
    assert len(posts(slack, "CFAIL")) == 1


def test_rate_limit_retry_after_is_honoured_and_nothing_is_lost(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    subscribe(factory, "CRATE", "09:00", "UTC")
    slack.rate_limit_next(POST, retry_after=1, times=1)
    started = time.monotonic()
    report = run_due(factory, client, now=local(TODAY, 9, 0, "UTC"))
    assert report.posted == ["CRATE"] and report.failed == []
    calls = slack.calls_to(POST)
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0  # waited for Retry-After
    assert time.monotonic() - started >= 1.0
    (run,) = runs(factory)
    assert run.message_ts == calls[1].response["ts"]


def test_per_channel_rate_limit_loses_nothing(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    # Two local days in a row for the same channel, under Slack's 1 message/second/channel limit.
    slack.per_channel_rate = 1.0
    subscribe(factory, "CBURST", "00:00", "UTC")
    day = dt.date(2026, 11, 24)
    assert run_due(factory, client, now=local(day, 12, 0, "UTC")).posted == ["CBURST"]
    assert run_due(factory, client, now=local(day + dt.timedelta(days=1), 12, 0, "UTC")).posted == ["CBURST"]
    statuses = [c.status for c in slack.calls_to(POST)]
    assert statuses.count(200) == 2 and set(statuses) <= {200, 429}
    assert all(r.message_ts for r in runs(factory))


def test_dry_run_posts_and_claims_nothing(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    subscribe(factory, "CDRY", "09:00", "UTC")
    report = run_due(factory, client, now=local(TODAY, 9, 0, "UTC"), dry_run=True)
    assert report.posted == ["CDRY"]
    assert slack.calls == [] and runs(factory) == []


def test_dry_run_does_not_count_digests_already_sent_today(
    factory: sessionmaker[Session], client: WebClient, slack: FakeSlack
) -> None:
    # Regression guard (fixed): run_due(dry_run=True) reports every due subscription as "would post" before
    # looking at today's DigestRun, so `healthbot digest run --dry-run` after the 09:00 run says
    # it would post digests that were already sent (its own summary line promises "already sent").
    subscribe(factory, "CDRY", "09:00", "UTC")
    now = local(TODAY, 9, 0, "UTC")
    assert run_due(factory, client, now=now).posted == ["CDRY"]
    report = run_due(factory, client, now=now + dt.timedelta(minutes=5), dry_run=True)
    assert report.posted == []
    assert report.skipped == ["CDRY"]


# ---- several replicas at once ----


def race(
    database_url: str, slack: FakeSlack, settings: Settings, now: dt.datetime, replicas: int = 2
) -> list[Any]:
    """Run run_due in `replicas` threads, each with its own engine, client and connections, at once."""
    barrier = threading.Barrier(replicas)
    reports: list[Any] = [None] * replicas
    errors: list[BaseException] = []
    configured = configure(settings, slack)

    def replica(i: int) -> None:
        engine = db.make_engine(database_url)
        try:
            factory = db.session_factory(engine)
            client = web_client(configured)
            barrier.wait(timeout=10)
            reports[i] = run_due(factory, client, now=now)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(replicas)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return reports


def test_replicas_racing_post_each_digest_once(
    factory: sessionmaker[Session], database_url: str, settings: Settings, slack: FakeSlack
) -> None:
    # Regression guard (SQLite, fixed): with claim_run's take-over bug above, a replica that finds
    # another's claim not yet stamped raised TypeError out of run_due.
    channels = [f"CRACE{i:03d}" for i in range(30)]
    for channel in channels:
        subscribe(factory, channel, "09:00", "UTC")
    for day in (TODAY, TODAY + dt.timedelta(days=1)):
        reports = race(database_url, slack, settings, local(day, 9, 0, "UTC"), replicas=3)
        posted = [c for r in reports for c in r.posted]
        assert sorted(posted) == channels  # each channel posted by exactly one replica
        assert all(not r.failed for r in reports)
    per_channel = Counter(c.params["channel"] for c in posts(slack))
    assert per_channel == dict.fromkeys(channels, 2)
    assert len(slack.calls_to(POST)) == 60
    assert all(r.message_ts for r in runs(factory)) and len(runs(factory)) == 60


def test_replicas_racing_for_stale_claims_take_each_over_once(
    factory: sessionmaker[Session], database_url: str, settings: Settings, slack: FakeSlack
) -> None:
    now = local(TODAY, 12, 0, "UTC")
    channels = [f"CSTALE{i:03d}" for i in range(30)]
    for channel in channels:
        stale_claim(factory, subscribe(factory, channel, "09:00", "UTC"), TODAY, now - 2 * CLAIM_LEASE)
    race(database_url, slack, settings, now, replicas=2)
    per_channel = Counter(c.params["channel"] for c in posts(slack))
    assert per_channel == dict.fromkeys(channels, 1)
    assert all(r.message_ts for r in runs(factory)) and len(runs(factory)) == 30


# ---- end to end: a signed slash command, then the scheduled run ----


def test_subscribe_by_slash_command_then_the_digest_is_posted(
    factory: sessionmaker[Session], settings: Settings, busy: Portfolio
) -> None:
    with running_app(factory, settings, healthbot_admins=["UADMIN"]) as env:
        sender, app, slack = env.sender, env.app, env.slack
        denied = sender.command("digest subscribe <#C777|ops> at 07:15 tz Asia/Tokyo", user_id="U1")
        assert denied.status_code == 200
        assert "Only the bot's admins" in text_of(denied.json()["blocks"])
        response = sender.command("digest subscribe <#C777|ops> at 07:15 tz Asia/Tokyo", user_id="UADMIN")
        body = response.json()
        assert response.status_code == 200 and body["response_type"] == "ephemeral"
        assert "<#C777> will get the daily digest at 07:15 (Asia/Tokyo)" in text_of(body["blocks"])
        listed = sender.command("digest list", user_id="U1").json()
        assert "<#C777> at 07:15 Asia/Tokyo" in text_of(listed["blocks"])
        # The scheduler's run, with the app's own client: due at 07:15 Tokyo time, once.
        now = local(TODAY, 7, 15, "Asia/Tokyo")
        assert run_due(factory, app.client, now=now).posted == ["C777"]
        assert run_due(factory, app.client, now=now).posted == []
        (post,) = posts(slack)
        assert post.params["channel"] == "C777"
        assert "Authorization lost" in text_of(post.params["blocks"])
        assert post.token == BOT_TOKEN


# ---- `healthbot digest run` ----


def test_cli_digest_run_dry_run(
    factory: sessionmaker[Session], cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe(factory, "CDUE", "00:00", "UTC")
    code = cli.main(["digest", "run", "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "would post 1 digest; 0 not due or already sent; 0 failed" in out
    assert runs(factory) == []


def test_cli_digest_run_needs_a_token(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["digest", "run"]) == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err


def test_cli_digest_run_posts_and_reports_failures(
    factory: sessionmaker[Session],
    cli_env: pytest.MonkeyPatch,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    subscribe(factory, "CDUE", "00:00", "UTC")
    slack.fail_next(POST, status=400)  # not retried: one failure
    assert cli.main(["digest", "run"]) == 1
    out, err = capsys.readouterr()
    assert "posted 0 digests" in out and "1 failed" in out
    assert "failed: CDUE (will be retried on the next run today)" in err
    assert cli.main(["digest", "run"]) == 0
    assert "posted 1 digest" in capsys.readouterr().out
    assert cli.main(["digest", "run"]) == 0
    assert "posted 0 digests; 1 not due or already sent" in capsys.readouterr().out
    assert len(posts(slack, "CDUE")) == 1
