"""Team follow-up from Slack: the Acknowledge, Snooze and Assign buttons on the shop card, the
assign modal, the digest row's overflow menu, clicks from the App Home tab and the
`/health ack|snooze|assign|notify` commands.

Slack is the local fake Web API (bot.playground.fakeslack); clicks and modal submissions are signed
requests handed to the app (`app.dispatch`, the `bot` fixture). Every database test runs on SQLite
and PostgreSQL.

The follow-up rules across days (snoozes, through build_digest) are in tests/services/test_followup.py,
digest threads in tests/jobs/test_digest_threads.py, owners' milestone DMs in
tests/jobs/test_milestone_dms.py, grouped incidents in tests/services/test_digest_groups.py and the
commands from the terminal in tests/cli/test_followup_commands.py.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from blocks.digest import digest_reply
from blocks.ids import ActionId, CallbackId, RowAction, ShopRef
from bot.db.models import Acknowledgement
from bot.ingest.formats import Kind
from bot.playground.fakeslack import Call, FakeSlack
from bot.services import followup
from bot.services.attention import Lens
from bot.services.digest import build_digest
from bot.services.digest_records import Digest
from tests.support.data import acks, load, metric, owner, shop, snoozes
from tests.support.slack import Answer, Env, SlackSender, find_buttons, text_of

UTC = dt.UTC
DAY = dt.timedelta(days=1)
POST = "chat.postMessage"


# ---- clicks and modal submissions as Slack sends them ----


def block_action(
    sender: SlackSender,
    action: dict[str, Any],
    *,
    user_id: str = "U1",
    channel_id: str = "C1",
    home: bool = False,
    name: str | None = None,
    ephemeral: bool = False,
    message: dict[str, Any] | None = None,
) -> Answer:
    """A click as Slack sends it: from a message (with a response_url) or from the App Home tab.
    A posted message comes with its `message` (blocks and text); an ephemeral one without."""
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
            "is_ephemeral": ephemeral,
        }
        if message is not None:
            payload["message"] = {"type": "message", "ts": "1700000000.000100", **message}
        payload["channel"] = {"id": channel_id, "name": "seller-health"}
        payload["response_url"] = sender.response_url(name or f"act{sender.counter}")
    return sender.payload(payload)


def button(element: dict[str, Any], block_id: str = "b1") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": element["action_id"],
        "value": element["value"],
        "block_id": block_id,
    }


def overflow(action_id: str, value: str, block_id: str = "b1") -> dict[str, Any]:
    return {
        "type": "overflow",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": {"text": {"type": "plain_text", "text": "choice"}, "value": value},
    }


def block_of(blocks: list[dict[str, Any]], action_id: str) -> str:
    """The block_id of the block holding the element `action_id` (Slack sends it with the click)."""
    for block in blocks:
        elements = [*block.get("elements", []), block.get("accessory") or {}]
        if any(e.get("action_id") == action_id for e in elements if isinstance(e, dict)):
            return str(block["block_id"])
    raise AssertionError(f"no block holds {action_id}")


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
def env(bot: Env) -> Env:
    trouble(bot.factory, bot.today)
    return bot


def card(env: Env, code: str = "US1") -> list[dict[str, Any]]:
    response = env.sender.command(f"shop {code}")
    assert response.status_code == 200
    return list(response.json()["blocks"])


# ---- buttons on the shop card ----


def test_acknowledge_on_a_private_card_redraws_it_in_place_and_undo_takes_it_back(env: Env) -> None:
    blocks = card(env)
    assert "acknowledged by" not in text_of(blocks)
    (ack_button,) = find_buttons(blocks, ActionId.ACKNOWLEDGE.value)
    assert ShopRef.model_validate_json(ack_button["value"]).shop_id == "S1"
    place = block_of(blocks, ActionId.ACKNOWLEDGE.value)
    before = dt.datetime.now(UTC).replace(microsecond=0)
    click = button(ack_button, place)
    response = block_action(env.sender, click, user_id="UMARIA", name="ack", ephemeral=True)
    assert response.status_code == 200
    redrawn = responses(env)["ack"]
    assert redrawn["replace_original"] is True  # the card itself, not a second message
    said, *card_blocks = redrawn["blocks"]
    assert "<@UMARIA> acknowledged *Alpha Goods*" in text_of([said])
    assert "Alpha Goods" in text_of(card_blocks[:1])
    assert ":white_check_mark: acknowledged by <@UMARIA> just now" in text_of(card_blocks)
    assert acks(env.factory) == [("S1", "UMARIA")]
    with env.factory() as session:
        stamp = session.scalars(select(Acknowledgement)).one().acknowledged_at
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    assert before <= stamp <= dt.datetime.now(UTC)

    (undo,) = find_buttons([said], ActionId.UNDO.value)
    block_action(
        env.sender, button(undo, said["block_id"]), user_id="UOTHER", name="not-yours", ephemeral=True
    )
    assert "Only the person who acknowledged it" in text_of(responses(env)["not-yours"]["blocks"])
    assert acks(env.factory) == [("S1", "UMARIA")]
    block_action(env.sender, button(undo, said["block_id"]), user_id="UMARIA", name="undo", ephemeral=True)
    undone = responses(env)["undo"]
    assert undone["replace_original"] is True
    assert "Undone: *Alpha Goods* is no longer acknowledged" in text_of(undone["blocks"][:1])
    assert not find_buttons(undone["blocks"][:1], ActionId.UNDO.value)
    assert "acknowledged by" not in text_of(undone["blocks"][1:])
    assert acks(env.factory) == []


def test_snooze_overflow_on_the_card_snoozes(env: Env) -> None:
    blocks = card(env)
    (menu,) = [m for m in overflows(blocks) if m["action_id"] == ActionId.SNOOZE.value]
    place = block_of(blocks, ActionId.SNOOZE.value)
    assert {json.loads(o["value"])["op"] for o in menu["options"]} == {
        "snooze:1d",
        "snooze:7d",
        "snooze:change",
    }
    block_action(
        env.sender,
        overflow(ActionId.SNOOZE.value, option(menu, "snooze:7d"), place),
        name="snz",
        ephemeral=True,
    )
    said, *card_blocks = responses(env)["snz"]["blocks"]
    assert "snoozed for 7 days" in text_of([said])
    assert snoozes(env.factory) == {"S1": ("U1", env.today + 7 * DAY)}
    assert f":zzz: snoozed until {env.today + 7 * DAY:%b %-d} by <@U1>" in text_of(card_blocks)
    block_action(env.sender, overflow(ActionId.SNOOZE.value, option(menu, "snooze:change"), place))
    assert snoozes(env.factory) == {"S1": ("U1", None)}
    assert ":zzz: snoozed until its scores change" in text_of(card(env))
    (undo,) = find_buttons([said], ActionId.UNDO.value)
    block_action(env.sender, button(undo, said["block_id"]), name="undo", ephemeral=True)
    assert snoozes(env.factory) == {}
    assert "snoozed" not in text_of(responses(env)["undo"]["blocks"][1:])


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
    response = env.sender.view_submission(CallbackId.ASSIGN_OWNER.value, view["private_metadata"], empty)
    assert response.status_code == 200
    assert response.json()["response_action"] == "errors" and "owner" in response.json()["errors"]
    assert owner(env.factory) is None

    picked = {"owner": {"owner": {"type": "users_select", "selected_user": "U777"}}}
    response = env.sender.view_submission(CallbackId.ASSIGN_OWNER.value, view["private_metadata"], picked)
    assert response.status_code == 200 and not response.text
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
    response = env.sender.view_submission(
        CallbackId.ASSIGN_OWNER.value, ShopRef(shop_id="NOPE").encode(), picked
    )
    assert response.json()["response_action"] == "errors"


# ---- the digest row's overflow menu ----


def test_row_menus_of_digests_posted_before_still_work(env: Env) -> None:
    # Rows now carry one button (Open card); digests posted earlier carry a menu per row, and every
    # button works from a message posted hours earlier.
    def choose(op: str, shop_id: str = "S1", **kwargs: Any) -> None:
        value = RowAction(op=op, shop_id=shop_id).encode()
        block_action(env.sender, overflow(f"{ActionId.SHOP_MENU.value}:0", value), **kwargs)

    with env.factory() as session:
        rows = [
            b for b in digest_reply(build_digest(session, Lens(today=env.today))).blocks if b.get("accessory")
        ]
    assert {b["accessory"]["type"] for b in rows} == {"button"}
    choose("open", name="open")
    opened = responses(env)["open"]
    assert opened["response_type"] == "ephemeral" and "Alpha Goods" in text_of(opened["blocks"])
    assert "*AHR* (Shop Health Rating)" in text_of(opened["blocks"])
    choose("ack", user_id="UACK", name="ack")
    assert acks(env.factory) == [("S1", "UACK")]
    choose("snooze:1d", name="s1")
    assert snoozes(env.factory) == {"S1": ("U1", env.today + DAY)}
    assert "snoozed for 1 day" in text_of(responses(env)["s1"]["blocks"])
    choose("snooze:7d", "S2", name="s7")
    assert snoozes(env.factory)["S2"] == ("U1", env.today + 7 * DAY)
    choose("assign")
    (opened_view,) = env.slack.calls_to("views.open")
    assert opened_view.params["view"]["callback_id"] == CallbackId.ASSIGN_OWNER.value
    assert json.loads(opened_view.params["view"]["private_metadata"]) == {"shop_id": "S1"}
    # Beta lost authorization: its menu sends the request link (to the clicker's DM: no channel).
    choose("request", "S2", name="req")
    (link,) = posts(env.slack)
    assert link.params["channel"] == "DU1" and "request-permissions" in link.params["text"]
    assert "sent to your DMs" in text_of(responses(env)["req"]["blocks"])


def test_acknowledge_on_a_shared_card_redraws_it_for_everyone(env: Env) -> None:
    shared = {"text": "Alpha Goods (US1): AHR 220", "blocks": card(env)}  # as Share posts it
    (ack_button,) = find_buttons(shared["blocks"], ActionId.ACKNOWLEDGE.value)
    place = block_of(shared["blocks"], ActionId.ACKNOWLEDGE.value)
    block_action(env.sender, button(ack_button, place), user_id="UACK", name="ack", message=shared)
    redrawn = responses(env)["ack"]
    assert redrawn["replace_original"] is True and redrawn.get("response_type") != "ephemeral"
    blocks = redrawn["blocks"]
    at = next(i for i, b in enumerate(blocks) if b.get("block_id") == place)
    # Just above the buttons: who is on it now, then what was just done with its Undo.
    assert (
        text_of([blocks[at - 2]])
        == ":busts_in_silhouette: :white_check_mark: acknowledged by <@UACK> just now"
    )
    assert "<@UACK> acknowledged *Alpha Goods*" in text_of([blocks[at - 1]])
    said = blocks[at - 1]
    assert [b for b in blocks if b.get("block_id") not in ("team", said["block_id"])] == shared["blocks"]

    # Undo from the redrawn message: the team line goes, the notice says it was undone.
    (undo,) = find_buttons([said], ActionId.UNDO.value)
    again = {"text": redrawn["text"], "blocks": blocks}
    block_action(env.sender, button(undo, said["block_id"]), user_id="UACK", name="undo", message=again)
    undone = responses(env)["undo"]["blocks"]
    assert not [b for b in undone if b.get("block_id") == "team"]
    assert "Undone: *Alpha Goods* is no longer acknowledged" in text_of(undone)
    assert acks(env.factory) == []


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


# ---- the follow-up commands over signed requests ----


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
    text = text_of(digest_reply(build_digest_now(env)).blocks)
    assert "· 1 snoozed" in text and "`US1`" not in text  # snoozed by U2: out of the rows


def build_digest_now(env: Env) -> Digest:
    with env.factory() as session:
        return build_digest(session, Lens(today=env.today))


def test_a_failing_modal_submission_shows_an_apology_in_the_modal(bot: Env) -> None:
    load(bot.factory, Kind.SHOPS, [shop("S1", "US1")])
    engine = bot.factory.kw["bind"]
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE shops RENAME TO shops_away"))
    try:
        response = bot.sender.view_submission(
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
