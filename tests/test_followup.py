"""Team follow-up: acknowledge, snooze, assign, digest threads, owners' milestone DMs, grouped
incidents and the `/health ack|snooze|unsnooze|assign|notify` commands.

Slack is the local fake Web API (bot.localslack); clicks and modal submissions are signed HTTP
requests into the real server. Every database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blocks.digest import digest_reply
from blocks.ids import ActionId, CallbackId, RowAction, ShopRef
from bot import cli, followup
from bot.app import web_client
from bot.digests import GROUP_MIN_SELLERS, Digest, build_digest
from bot.importer import Kind
from bot.localslack import Call, FakeSlack
from bot.models import Acknowledgement, DigestSubscription, DigestThread, OwnerPreference, Shop, Snooze
from bot.replies import Asker, answer
from bot.settings import Settings
from jobs import digests
from jobs.digests import notify_milestones, run_due
from jobs.scheduler import build_scheduler
from tests.helpers import load, metric, shop, violation
from tests.slackclient import BOT_TOKEN, Env, SlackSender, find_buttons, running_app, text_of

UTC = dt.UTC
DAY = dt.timedelta(days=1)
D = dt.date(2026, 11, 24)  # the first digest day of the multi-day tests
POST = "chat.postMessage"


# ---- a running app behind real HTTP, Slack faked (helpers shared with test_security) ----


def post_payload(sender: SlackSender, payload: dict[str, Any]) -> httpx.Response:
    return sender.post(urllib.parse.urlencode({"payload": json.dumps(payload)}))


def block_action(
    sender: SlackSender,
    action: dict[str, Any],
    *,
    user_id: str = "U1",
    channel_id: str = "C1",
    home: bool = False,
    name: str | None = None,
) -> httpx.Response:
    """A click as Slack sends it: from a message (with a response_url) or from the App Home tab."""
    sender.counter += 1
    action = {"block_id": "b1", "action_ts": f"{time.time():.6f}", **action}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": user_id, "username": "manager", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": f"trigger.{sender.counter}",
        "actions": [action],
    }
    if home:  # App Home: no channel, no response_url
        payload["container"] = {"type": "view", "view_id": "VHOME"}
        payload["view"] = {"id": "VHOME", "type": "home", "blocks": [], "hash": "hh"}
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": channel_id,
        }
        payload["channel"] = {"id": channel_id, "name": "seller-health"}
        payload["response_url"] = sender.response_url(name or f"act{sender.counter}")
    return post_payload(sender, payload)


def button(element: dict[str, Any]) -> dict[str, Any]:
    return {"type": "button", "action_id": element["action_id"], "value": element["value"]}


def overflow(action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "overflow",
        "action_id": action_id,
        "selected_option": {"text": {"type": "plain_text", "text": "choice"}, "value": value},
    }


def view_submission(
    sender: SlackSender,
    callback_id: str,
    private_metadata: str,
    values: dict[str, Any],
    *,
    user_id: str = "U1",
    view_id: str = "VMODAL1",
    view_hash: str = "1700000000.abcdef",
) -> httpx.Response:
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": user_id, "username": "manager", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "trigger.view",
        "view": {
            "id": view_id,
            "team_id": "T1",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "hash": view_hash,
            "title": {"type": "plain_text", "text": "Modal"},
            "blocks": [],
            "state": {"values": values},
        },
        "response_urls": [],
    }
    return post_payload(sender, payload)


def responses(env: Env) -> dict[str, dict[str, Any]]:
    return dict(env.slack.responses)


def posts(slack: FakeSlack, channel: str | None = None) -> list[Call]:
    return [c for c in slack.calls_to(POST) if c.ok and (channel is None or c.params["channel"] == channel)]


def overflows(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for block in blocks:
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements.append(block["accessory"])
        found += [e for e in elements if e.get("type") == "overflow"]
    return found


def option(menu: dict[str, Any], op: str) -> str:
    (value,) = [o["value"] for o in menu["options"] if json.loads(o["value"])["op"] == op]
    return str(value)


# ---- data ----


def trouble(factory: sessionmaker[Session], today: dt.date) -> None:
    """Alpha (US1) fell 30 points since yesterday; Beta (US2) just lost authorization."""
    shops = [shop("S1", "US1", "Alpha Goods"), shop("S2", "US2", "Beta Home")]
    load(factory, Kind.SHOPS, shops)
    load(
        factory,
        Kind.METRICS,
        [
            metric("S1", today - DAY, 250, "4.6", 9000.0),
            metric("S1", today, 220, "4.6", 9000.0),
            metric("S2", today - DAY, 300, "4.6", 100.0),
            metric("S2", today, 300, "4.6", 100.0),
        ],
    )
    shops[1]["authorized"] = "false"
    load(factory, Kind.SHOPS, [shops[1]])  # the importer stamps the loss now


@pytest.fixture
def env(factory: sessionmaker[Session], settings: Settings) -> Iterator[Env]:
    with running_app(factory, settings) as running:
        trouble(factory, running.today)
        yield running


def card(env: Env, code: str = "US1") -> list[dict[str, Any]]:
    response = env.sender.command(f"shop {code}")
    assert response.status_code == 200
    return list(response.json()["blocks"])


def acks(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with factory() as session:
        return [
            (a.shop_id, a.user_id)
            for a in session.scalars(select(Acknowledgement).order_by(Acknowledgement.id))
        ]


def snoozes(factory: sessionmaker[Session]) -> dict[str, tuple[str, dt.date | None]]:
    with factory() as session:
        return {s.shop_id: (s.user_id, s.until) for s in session.scalars(select(Snooze))}


def owner(factory: sessionmaker[Session], shop_id: str = "S1") -> str | None:
    with factory() as session:
        found = session.get(Shop, shop_id)
        assert found is not None
        return found.owner


# ---- buttons on the shop card ----


def test_acknowledge_button_stamps_who_and_when(env: Env) -> None:
    blocks = card(env)
    assert "Acknowledged by" not in text_of(blocks)
    (ack_button,) = find_buttons(blocks, ActionId.ACKNOWLEDGE.value)
    assert ShopRef.model_validate_json(ack_button["value"]).shop_id == "S1"
    before = dt.datetime.now(UTC).replace(microsecond=0)
    response = block_action(env.sender, button(ack_button), user_id="UMARIA", name="ack")
    assert response.status_code == 200
    assert "<@UMARIA> acknowledged *Alpha Goods*" in text_of(responses(env)["ack"]["blocks"])
    assert acks(env.factory) == [("S1", "UMARIA")]
    with env.factory() as session:
        stamp = session.scalars(select(Acknowledgement)).one().acknowledged_at
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    assert before <= stamp <= dt.datetime.now(UTC)
    assert f"Acknowledged by <@UMARIA> {stamp:%b %-d %H:%M} UTC" in text_of(card(env))


def test_snooze_overflow_on_the_card_snoozes(env: Env) -> None:
    (menu,) = [m for m in overflows(card(env)) if m["action_id"] == ActionId.SNOOZE.value]
    assert {json.loads(o["value"])["op"] for o in menu["options"]} == {
        "snooze:1d",
        "snooze:7d",
        "snooze:change",
    }
    block_action(env.sender, overflow(ActionId.SNOOZE.value, option(menu, "snooze:7d")), name="snz")
    assert "snoozed for 7 days" in text_of(responses(env)["snz"]["blocks"])
    assert snoozes(env.factory) == {"S1": ("U1", env.today + 7 * DAY)}
    assert f":zzz: Snoozed until {env.today + 7 * DAY:%b %-d} by <@U1>" in text_of(card(env))
    block_action(env.sender, overflow(ActionId.SNOOZE.value, option(menu, "snooze:change")))
    assert snoozes(env.factory) == {"S1": ("U1", None)}
    assert ":zzz: Snoozed until its scores change" in text_of(card(env))


def test_tampered_snooze_value_is_a_friendly_message(env: Env) -> None:
    bad = RowAction(op="snooze:forever", shop_id="S1").encode()
    block_action(env.sender, overflow(ActionId.SNOOZE.value, bad), name="old")
    assert "out of date" in text_of(responses(env)["old"]["blocks"])
    block_action(env.sender, overflow(ActionId.SNOOZE.value, '{"op": 1}'), name="junk")
    assert "out of date" in text_of(responses(env)["junk"]["blocks"])
    assert snoozes(env.factory) == {}


def test_assign_button_opens_a_people_picker_and_the_submission_sets_the_owner(env: Env) -> None:
    (assign_button,) = find_buttons(card(env), ActionId.ASSIGN.value)
    block_action(env.sender, button(assign_button))
    (opened,) = env.slack.calls_to("views.open")
    assert opened.ok and opened.params["trigger_id"].startswith("trigger.")
    view = opened.params["view"]
    assert view["callback_id"] == CallbackId.ASSIGN_OWNER.value
    (picker,) = [b for b in view["blocks"] if b.get("block_id") == "owner"]
    assert picker["element"]["type"] == "users_select" and picker["element"]["action_id"] == "owner"

    # Nobody picked: the modal stays open with an error on the field.
    empty = {"owner": {"owner": {"type": "users_select", "selected_user": None}}}
    response = view_submission(env.sender, CallbackId.ASSIGN_OWNER.value, view["private_metadata"], empty)
    assert response.status_code == 200
    assert response.json()["response_action"] == "errors" and "owner" in response.json()["errors"]
    assert owner(env.factory) is None

    picked = {"owner": {"owner": {"type": "users_select", "selected_user": "U777"}}}
    response = view_submission(env.sender, CallbackId.ASSIGN_OWNER.value, view["private_metadata"], picked)
    assert response.status_code == 200 and not response.content
    assert owner(env.factory) == "U777"
    (confirmation,) = posts(env.slack)
    assert (
        confirmation.params["channel"] == "DU1"
        and "<@U777> now owns Alpha Goods" in confirmation.params["text"]
    )
    assert "owner <@U777>" in text_of(card(env))
    # The picker now starts at the current owner.
    (assign_button,) = find_buttons(card(env), ActionId.ASSIGN.value)
    block_action(env.sender, button(assign_button))
    reopened = env.slack.calls_to("views.open")[-1].params["view"]
    picker = next(b for b in reopened["blocks"] if b.get("block_id") == "owner")
    assert picker["element"]["initial_user"] == "U777"


def test_assign_submission_for_a_vanished_shop_is_an_error(env: Env) -> None:
    picked = {"owner": {"owner": {"type": "users_select", "selected_user": "U777"}}}
    response = view_submission(
        env.sender, CallbackId.ASSIGN_OWNER.value, ShopRef(shop_id="NOPE").encode(), picked
    )
    assert response.json()["response_action"] == "errors"


# ---- the digest row's overflow menu ----


def test_digest_row_menu_actions(env: Env) -> None:
    with env.factory() as session:
        reply = digest_reply(build_digest(session, day=env.today))
    menus = {json.loads(m["options"][0]["value"])["shop_id"]: m for m in overflows(reply.blocks)}
    assert set(menus) == {"S1", "S2"}
    alpha, beta = menus["S1"], menus["S2"]
    assert alpha["action_id"].startswith(f"{ActionId.SHOP_MENU.value}:")

    block_action(env.sender, overflow(alpha["action_id"], option(alpha, "open")), name="open")
    opened = responses(env)["open"]
    assert opened["response_type"] == "ephemeral" and "Alpha Goods" in text_of(opened["blocks"])
    assert "*AHR* (Shop Health Rating)" in text_of(opened["blocks"])

    block_action(env.sender, overflow(alpha["action_id"], option(alpha, "ack")), user_id="UACK", name="ack")
    assert acks(env.factory) == [("S1", "UACK")]

    block_action(env.sender, overflow(alpha["action_id"], option(alpha, "snooze:1d")), name="s1")
    assert snoozes(env.factory) == {"S1": ("U1", env.today + DAY)}
    assert "snoozed for 1 day" in text_of(responses(env)["s1"]["blocks"])
    block_action(env.sender, overflow(beta["action_id"], option(beta, "snooze:7d")), name="s7")
    assert snoozes(env.factory)["S2"] == ("U1", env.today + 7 * DAY)

    block_action(env.sender, overflow(alpha["action_id"], option(alpha, "assign")))
    (opened_view,) = env.slack.calls_to("views.open")
    assert opened_view.params["view"]["callback_id"] == CallbackId.ASSIGN_OWNER.value
    assert json.loads(opened_view.params["view"]["private_metadata"]) == {"shop_id": "S1"}

    # Beta lost authorization: its menu sends the request link (to the clicker's DM: no channel).
    block_action(env.sender, overflow(beta["action_id"], option(beta, "request")), name="req")
    (link,) = posts(env.slack)
    assert link.params["channel"] == "DU1" and "request-permissions" in link.params["text"]
    assert "sent to your DMs" in text_of(responses(env)["req"]["blocks"])


# ---- clicks from the App Home tab: no response_url, so the reply is a DM ----


def test_clicks_from_app_home_reply_by_direct_message(env: Env) -> None:
    ref = ShopRef(shop_id="S1").encode()
    response = block_action(
        env.sender, {"type": "button", "action_id": f"{ActionId.OPEN_SHOP.value}:0", "value": ref}, home=True
    )
    assert response.status_code == 200
    (card_dm,) = posts(env.slack)
    assert card_dm.params["channel"] == "U1" and "Alpha Goods" in text_of(card_dm.params["blocks"])

    block_action(
        env.sender, {"type": "button", "action_id": ActionId.ACKNOWLEDGE.value, "value": ref}, home=True
    )
    assert acks(env.factory) == [("S1", "U1")]
    assert "acknowledged *Alpha Goods*" in text_of(posts(env.slack, "U1")[-1].params["blocks"])

    value = RowAction(op="snooze:1d", shop_id="S1").encode()
    block_action(env.sender, overflow(f"{ActionId.SHOP_MENU.value}:3", value), home=True)
    assert snoozes(env.factory) == {"S1": ("U1", env.today + DAY)}
    assert "snoozed for 1 day" in text_of(posts(env.slack, "U1")[-1].params["blocks"])
    assert env.slack.responses == []  # nothing went to a response_url


# ---- snoozes across days, through build_digest ----


def appeals_portfolio(factory: sessionmaker[Session]) -> None:
    """Two sellers in the digest every day from D to D+8 with steady scores, for their appeal
    deadlines (D+5, then D+13): a snooze, not a change in the data, is what hides them."""
    load(factory, Kind.SHOPS, [shop("S1", "SNZ", "Snoozy"), shop("S2", "CTL", "Control")])
    rows = []
    for shop_id in ("S1", "S2"):
        rows.append(violation(f"{shop_id}-a", shop_id, D - 25 * DAY))  # deadline D+5
        rows.append(violation(f"{shop_id}-b", shop_id, D - 17 * DAY))  # deadline D+13
    load(factory, Kind.VIOLATIONS, rows)
    day_data(factory, D - DAY)
    day_data(factory, D)


def day_data(factory: sessionmaker[Session], day: dt.date, ahr: int = 250, sps: str = "4.5") -> None:
    load(factory, Kind.METRICS, [metric("S1", day, ahr, sps, 500.0), metric("S2", day, 250, "4.5", 400.0)])


def digest_on(factory: sessionmaker[Session], day: dt.date) -> tuple[set[str], Digest]:
    with factory() as session:
        digest = build_digest(session, day=day)
    return {r.shop_code for rows in digest.sections.values() for r in rows}, digest


def ask(
    factory: sessionmaker[Session], settings: Settings, text: str, *, user: str = "U1", today: dt.date = D
) -> str:
    with factory() as session:
        reply = answer(session, text, settings=settings, asker=Asker(user_id=user), today=today)
    return text_of(reply.blocks)


def test_snooze_one_day_hides_the_next_digest_only(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    appeals_portfolio(factory)
    assert digest_on(factory, D)[0] == {"SNZ", "CTL"}
    assert "is snoozed for 1 day" in ask(factory, settings, "snooze SNZ 1d")
    day_data(factory, D + DAY)
    shown, digest = digest_on(factory, D + DAY)
    assert shown == {"CTL"} and digest.snoozed == 1
    day_data(factory, D + 2 * DAY)
    shown, digest = digest_on(factory, D + 2 * DAY)
    assert shown == {"SNZ", "CTL"} and digest.snoozed == 0


def test_snooze_seven_days_hides_through_day_seven(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    appeals_portfolio(factory)
    ask(factory, settings, "snooze SNZ 7d")
    for n in range(1, 8):
        day_data(factory, D + n * DAY)
        assert digest_on(factory, D + n * DAY)[0] == {"CTL"}, f"D+{n}"
    day_data(factory, D + 8 * DAY)
    assert digest_on(factory, D + 8 * DAY)[0] == {"SNZ", "CTL"}


def test_snooze_until_change_holds_until_any_score_changes(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    appeals_portfolio(factory)
    assert "until its scores change" in ask(factory, settings, "snooze SNZ change")
    for n in (1, 2, 3):  # a week-long quiet spell stays hidden, past any 1-day or dated snooze
        day_data(factory, D + n * DAY)
        assert digest_on(factory, D + n * DAY)[0] == {"CTL"}
    day_data(factory, D + 4 * DAY, ahr=262)  # better, but a change
    assert digest_on(factory, D + 4 * DAY)[0] == {"SNZ", "CTL"}


@pytest.mark.parametrize(("ahr", "sps"), [(245, "4.5"), (250, "4.4")], ids=["ahr", "sps"])
def test_snoozed_seller_that_worsens_reappears_at_once(
    factory: sessionmaker[Session], settings: Settings, ahr: int, sps: str
) -> None:
    appeals_portfolio(factory)
    ask(factory, settings, "snooze SNZ 7d")
    day_data(factory, D + DAY)
    assert digest_on(factory, D + DAY)[0] == {"CTL"}
    day_data(factory, D + 2 * DAY, ahr=ahr, sps=sps)  # a small fall, within every threshold
    shown, digest = digest_on(factory, D + 2 * DAY)
    assert shown == {"SNZ", "CTL"} and digest.snoozed == 0


def test_a_snooze_that_ended_by_worsening_stays_ended(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    # The digest run removes ended snoozes, so getting back to the snoozed scores does not hide
    # the seller again.
    from bot.followup import end_finished_snoozes

    appeals_portfolio(factory)
    ask(factory, settings, "snooze SNZ 7d")
    day_data(factory, D + DAY, ahr=245)  # worse: the snooze ends
    with factory() as session, session.begin():
        assert end_finished_snoozes(session, D + DAY) == 1
    day_data(factory, D + 2 * DAY, ahr=250)  # back where it was when snoozed
    shown, digest = digest_on(factory, D + 2 * DAY)
    assert "SNZ" in shown and digest.snoozed == 0
    with factory() as session, session.begin():
        assert end_finished_snoozes(session, D + 2 * DAY) == 0


def test_card_stops_saying_snoozed_once_the_snooze_has_ended(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    # Regression guard (fixed; bot/services.py shop_detail `snooze=session.get(Snooze, shop_id)`, shown by
    # blocks/cards.py followup_note): the card shows any Snooze row, active or not. After the
    # scores change (or the date passes, or the seller worsens) the seller is back in the digest
    # while its card still says ":zzz: Snoozed until its scores change". Fix: show the snooze only
    # when followup.snooze_state(snooze, health, today).active (or delete ended snoozes).
    appeals_portfolio(factory)
    ask(factory, settings, "snooze SNZ change")
    assert ":zzz: Snoozed until its scores change" in ask(factory, settings, "shop SNZ")
    day_data(factory, D + DAY, ahr=262)
    assert "SNZ" in digest_on(factory, D + DAY)[0]  # the snooze is over: back in the digest
    assert "Snoozed" not in ask(factory, settings, "shop SNZ", today=D + DAY)


def test_digest_summary_counts_snoozed_sellers(factory: sessionmaker[Session], settings: Settings) -> None:
    appeals_portfolio(factory)
    ask(factory, settings, "snooze SNZ 7d")
    _, digest = digest_on(factory, D + DAY)
    assert digest.snoozed == 1 and digest.sellers == 1
    text = text_of(digest_reply(digest).blocks)
    assert "*1* seller(s) need action" in text and "· 1 snoozed" in text
    assert "Snoozy" not in text and "Control" in text
    ask(factory, settings, "unsnooze SNZ")
    _, digest = digest_on(factory, D + DAY)
    assert digest.snoozed == 0 and digest.sellers == 2
    assert "snoozed" not in text_of(digest_reply(digest).blocks)


def test_a_day_with_every_seller_snoozed_still_says_how_many(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    # Regression guard (jobs/digests.py digest_reply, quiet branch, fixed): when every seller needing action is
    # snoozed, the digest says "All clear: no seller needs action today." and drops the snoozed
    # count, which is untrue (two sellers do need action; they were put off) and hides that
    # anything is snoozed. Fix: in the quiet branch, add "(N snoozed)" when digest.snoozed, e.g.
    # ":white_check_mark: No seller needs action today · 2 snoozed".
    appeals_portfolio(factory)
    ask(factory, settings, "snooze SNZ 7d")
    ask(factory, settings, "snooze CTL change")
    _, digest = digest_on(factory, D + DAY)
    assert digest.snoozed == 2 and digest.sellers == 0
    assert "2 snoozed" in text_of(digest_reply(digest).blocks)


# ---- threads: a seller's later news goes into the thread of its first digest row ----


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(settings: Settings, slack: FakeSlack) -> WebClient:
    return web_client(
        settings.model_copy(update={"slack_bot_token": SecretStr(BOT_TOKEN), "slack_api_url": slack.api_url})
    )


@pytest.fixture(autouse=True)
def no_channel_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_due spaces one channel's messages about a second apart (Slack's limit); these tests are
    about what goes where, so they post without the wall-clock wait."""
    pacer = getattr(digests, "ChannelPacer", None)
    if pacer is not None:
        monkeypatch.setattr(digests, "PACER", pacer(interval=0.0))


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
    assert "1 seller(s) already in a recent digest: updates are in their threads" in top_text
    assert "FALL1" in text_of(reply.params["blocks"]) and "AHR 370 → 340" in text_of(reply.params["blocks"])
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


# ---- owners' milestone DMs ----


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


# ---- grouped incidents: one policy hitting several sellers within the day ----


@pytest.mark.parametrize("sellers", [GROUP_MIN_SELLERS, GROUP_MIN_SELLERS - 1])
def test_same_policy_on_several_sellers_is_one_grouped_line(
    factory: sessionmaker[Session], sellers: int
) -> None:
    ids = [f"S{i}" for i in range(sellers)]
    load(factory, Kind.SHOPS, [shop(s, f"LD{s}") for s in ids] + [shop("SX", "UNAUTH", authorized="false")])
    load(factory, Kind.METRICS, [m for s in ids for m in (metric(s, D - DAY, 300), metric(s, D, 270))])
    rows = [violation(f"V{s}", s, D - (i % 2) * DAY) for i, s in enumerate(ids)]  # today and yesterday
    rows.append(violation("VX", "SX", D))  # an unauthorized seller is left out of every count
    rows.append(violation("VOLD", ids[0], D - 2 * DAY, policy="Counterfeit"))
    rows += [violation(f"VC{i}", s, D - 2 * DAY, policy="Counterfeit") for i, s in enumerate(ids[1:])]
    load(factory, Kind.VIOLATIONS, rows)
    with factory() as session:
        digest = build_digest(session, day=D)
    blocks = digest_reply(digest).blocks
    text = text_of(blocks)
    if sellers >= GROUP_MIN_SELLERS:
        assert digest.groups == [("Late dispatch", sellers)]
        line = f"• *Late dispatch*: {sellers} sellers"
        assert text.count(line) == 1
        where = next(i for i, b in enumerate(blocks) if line in json.dumps(b, ensure_ascii=False))
        first_row = next(i for i, b in enumerate(blocks) if b.get("accessory", {}).get("type") == "overflow")
        assert where < first_row
    else:
        assert digest.groups == []
        assert "Same policy, several sellers" not in text
    assert "Counterfeit" not in text  # notices two days old are not today's incident


# ---- `/health ack|snooze|unsnooze|assign|notify` from the terminal ----


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, factory: sessionmaker[Session]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    load(factory, Kind.SHOPS, [shop("S1", "US1", "Alpha Goods"), shop("S2", "US2", "Alpha Garden")])


def run_ask(capsys: pytest.CaptureFixture[str], text: str) -> str:
    assert cli.main(["ask", text]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return out


def test_follow_up_commands_from_the_terminal(
    cli_env: None, factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    today = dt.datetime.now(Settings(_env_file=None).tz).date()
    assert "acknowledged *Alpha Goods*" in run_ask(capsys, "/health ack US1")
    assert acks(factory) == [("S1", "cli")]

    assert "is snoozed for 7 days" in run_ask(capsys, "/health snooze us1 week")
    assert snoozes(factory) == {"S1": ("cli", today + 7 * DAY)}
    assert "is snoozed for 1 day" in run_ask(capsys, "/health snooze US1")  # 1 day by default
    assert snoozes(factory) == {"S1": ("cli", today + DAY)}
    assert "back in the digest" in run_ask(capsys, "/health unsnooze US1")
    assert snoozes(factory) == {}

    assert "is now owned by @U0MARIA" in run_ask(capsys, "/health assign US1 <@U0MARIA|maria>")
    assert owner(factory) == "U0MARIA"
    assert "has no owner now" in run_ask(capsys, "/health assign Alpha Goods nobody")
    assert owner(factory) is None
    run_ask(capsys, "/health owner US1 me")
    assert owner(factory) == "cli"

    assert "I will DM you" in run_ask(capsys, "/health notify milestones on")
    with factory() as session:
        pref = session.get(OwnerPreference, "cli")
        assert pref is not None and pref.milestone_dm is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/health ack NOPE999", "does not name exactly one"),
        ("/health ack Alpha", "does not name exactly one"),  # two sellers match
        ("/health snooze NOPE999 7d", "does not name exactly one"),
        ("/health assign US1", "`assign` takes a shop and a person"),
        ("/health assign US1 maria", "is not a person"),
        ("/health assign <@U0MARIA>", "`assign` takes a shop and a person"),
        ("/health ack", "which shop?"),
        ("/health unsnooze", "which shop?"),
        ("/health notify milestones", "`notify` takes `milestones on` or `milestones off`"),
        ("/health notify everything on", "`notify` takes"),
    ],
)
def test_follow_up_commands_explain_mistakes(
    cli_env: None,
    factory: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
    text: str,
    expected: str,
) -> None:
    out = run_ask(capsys, text)
    assert expected in out
    assert acks(factory) == [] and snoozes(factory) == {} and owner(factory) is None


def test_follow_up_commands_over_signed_http(env: Env) -> None:
    body = env.sender.command("assign US1 <@U0BOSS>", user_id="U1").json()
    assert body["response_type"] == "ephemeral" and "owned by <@U0BOSS>" in text_of(body["blocks"])
    assert owner(env.factory) == "U0BOSS"
    env.sender.command("snooze US1 change", user_id="U2")
    assert snoozes(env.factory) == {"S1": ("U2", None)}
    env.sender.command("ack US1", user_id="U3")
    assert acks(env.factory) == [("S1", "U3")]
    env.sender.command("notify milestones on", user_id="U4")
    with env.factory() as session:
        assert followup.wants_milestone_dm(session, {"U1", "U4"}) == {"U4"}
    assert "*1* seller(s)" in text_of(digests.digest_reply(build_digest_now(env)).blocks)


def build_digest_now(env: Env) -> Digest:
    with env.factory() as session:
        return build_digest(session, day=env.today)


def test_a_failing_modal_submission_shows_an_apology_in_the_modal(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    from sqlalchemy import text

    load(factory, Kind.SHOPS, [shop("S1", "US1")])
    with running_app(factory, settings) as env:
        engine = factory.kw["bind"]
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE shops RENAME TO shops_away"))
        try:
            response = view_submission(
                env.sender,
                "assign_owner_modal",
                '{"shop_id":"S1"}',
                {"owner": {"owner": {"type": "users_select", "selected_user": "U777"}}},
            )
        finally:
            with engine.begin() as conn:
                conn.execute(text("ALTER TABLE shops_away RENAME TO shops"))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "update"
    assert "something went wrong on our side (reference " in json.dumps(answer["view"]["blocks"])
