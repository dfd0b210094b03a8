"""App Home end to end: a signed `app_home_opened` event in, `views.publish` to the fake Slack out."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

import pytest
from sqlalchemy import select

from blocks.home import CLAIM_BLOCK
from blocks.ids import ActionId, CallbackId, ShopRef
from bot.db.models import Shop, ShopHealth
from bot.ingest.demo import DemoSize, load_demo
from bot.ingest.formats import Kind
from bot.services.attention import Lens
from bot.services.portfolio import at_risk
from tests.support.data import load, metric, shop
from tests.support.slack import BOT_TOKEN, Env, find_buttons, text_of

OWNER = "U00000001"  # the demo portfolio's owners are U00000001..U00000006


@pytest.fixture
def demo(bot: Env) -> Env:
    load_demo(bot.factory, DemoSize(shops=60, days=8), bot.today)
    return bot


def open_home(env: Env, user: str, *, tab: str = "home") -> None:
    """The event Slack sends when someone opens the app: JSON, signed over the raw body."""
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0HOME",
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    response = env.sender.event(event)
    assert response.status_code == 200


def published(env: Env) -> dict[str, Any]:
    (call,) = env.slack.calls_to("views.publish")
    assert call.ok, call.response
    view: dict[str, Any] = call.params["view"]
    return view


def own_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("own-")]


def shop_id_of(block: dict[str, Any]) -> str:
    ref = ShopRef.model_validate_json(block["accessory"]["value"])
    return ref.shop_id


def test_home_lists_the_users_own_sellers_first_needing_action_first(demo: Env) -> None:
    with demo.factory() as session:
        flagged = {row.shop_id for row in at_risk(session, Lens(demo.today), limit=1000).rows}
        owners = session.execute(
            select(Shop.owner, Shop.shop_id).join(ShopHealth, ShopHealth.shop_id == Shop.shop_id)
        ).all()
    by_owner: dict[str, list[str]] = {}
    for owner, shop_id in owners:
        if owner:
            by_owner.setdefault(owner, []).append(shop_id)
    # An owner with sellers on both sides of the line, so the order means something.
    user = next(u for u in sorted(by_owner) if {s in flagged for s in by_owner[u]} == {True, False})
    open_home(demo, user)
    (call,) = demo.slack.calls_to("views.publish")
    assert call.params["user_id"] == user
    view = published(demo)
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    rows = own_rows(view)
    assert len(rows) == min(len(by_owner[user]), 25)
    assert all(f"owner <@{user}>" in b["text"]["text"] for b in rows)
    # The user's sellers come before the portfolio sections.
    first_own = view["blocks"].index(rows[0])
    portfolio = next(i for i, b in enumerate(view["blocks"]) if "Portfolio health overview" in json.dumps(b))
    assert first_own < portfolio
    # Needing action first: once a seller without action appears, no flagged one follows.
    needs = [shop_id_of(b) in flagged for b in rows]
    assert any(needs) and needs == sorted(needs, reverse=True)
    text = text_of(view["blocks"])
    assert "Sellers needing action" in text and ":clock3: Data as of" in text


def test_ordering_worst_first_with_imported_owner(bot: Env) -> None:
    today = dt.date(2026, 11, 24)
    load(
        bot.factory,
        Kind.SHOPS,
        [
            shop("1", "OK1", "Calm Shop", owner="UOWN"),
            shop("2", "DROP2", "Falling Shop", owner="UOWN"),
            shop("3", "FAIR3", "Fair Shop", owner="UOWN"),
            shop("4", "OTHER4", "Someone Else's", owner="UOTHER"),
        ],
    )
    rows = []
    for day, offset in ((today - dt.timedelta(days=1), 1), (today, 0)):
        rows += [
            metric("1", day, ahr=400, sps="4.8", gmv=90_000.0),
            metric("2", day, ahr=300 - 40 * (1 - offset), sps="4.5", gmv=10.0),  # fell 40: needs action
            metric("3", day, ahr=120, sps="4.0", gmv=50.0),  # Fair band: a warning
            metric("4", day, ahr=10, sps="1.0", gmv=5.0),
        ]
    load(bot.factory, Kind.METRICS, rows)
    open_home(bot, "UOWN")
    view = published(bot)
    assert [shop_id_of(b) for b in own_rows(view)] == ["2", "3", "1"]
    assert "AHR fell 40" in own_rows(view)[0]["text"]["text"]


def test_user_without_sellers_is_told_how_to_get_assigned(demo: Env) -> None:
    open_home(demo, "UNOBODY")
    view = published(demo)
    text = text_of(view["blocks"])
    assert "No sellers are assigned to you yet" in text and "`UNOBODY`" in text and "owner" in text
    assert not own_rows(view)
    assert "Portfolio health overview" in text  # the portfolio is still there


def test_the_empty_state_offers_to_take_a_seller(demo: Env) -> None:
    """`/health assign <shop> me`, and a button that asks which seller and makes it yours."""
    open_home(demo, "UNOBODY")
    view = published(demo)
    assert "Take one with `/health assign &lt;shop&gt; me`" in text_of(view["blocks"])
    (take,) = find_buttons(view["blocks"], ActionId.CLAIM_SELLER.value)
    assert take["text"]["text"] == "Take a seller"
    click = demo.sender.action_payload(take["action_id"], take.get("value"), user_id="UNOBODY")
    click["container"] = {"type": "view", "view_id": "VHOME"}
    del click["response_url"], click["channel"]  # a click on the Home tab: no channel, no response_url
    assert demo.sender.payload(click).status_code == 200
    (opened,) = demo.slack.calls_to("views.open")
    picker = opened.params["view"]
    assert picker["callback_id"] == CallbackId.CLAIM_SELLER.value

    def pick(text: str) -> dict[str, Any] | None:
        values = {CLAIM_BLOCK: {CLAIM_BLOCK: {"type": "plain_text_input", "value": text}}}
        answer = demo.sender.view_submission(CallbackId.CLAIM_SELLER.value, "", values, user_id="UNOBODY")
        assert answer.status_code == 200
        return json.loads(answer.text) if answer.text else None

    nothing = pick("zzzzzzzzzzzzzzzz")
    assert nothing is not None and nothing["response_action"] == "errors"
    assert nothing["errors"][CLAIM_BLOCK] == "No seller matches “zzzzzzzzzzzzzzzz”; try its shop code."
    assert pick("US00003") is None  # the modal closes
    with demo.factory() as session:
        assert session.get(Shop, "7000000003").owner == "UNOBODY"  # type: ignore[union-attr]
    republished = demo.slack.calls_to("views.publish")[-1].params
    assert republished["user_id"] == "UNOBODY"
    rows = own_rows(republished["view"])
    assert [shop_id_of(b) for b in rows] == ["7000000003"]
    assert not find_buttons(republished["view"]["blocks"], ActionId.CLAIM_SELLER.value)


def test_assign_me_from_the_command_is_what_the_empty_state_says(demo: Env) -> None:
    body = demo.sender.command("assign US00003 me", user_id="UNOBODY").json()
    assert "is now owned by <@UNOBODY>" in text_of(body["blocks"])
    open_home(demo, "UNOBODY")
    assert [shop_id_of(b) for b in own_rows(published(demo))] == ["7000000003"]


def test_other_tabs_publish_nothing(demo: Env) -> None:
    open_home(demo, OWNER, tab="messages")
    assert not demo.slack.calls_to("views.publish")


def test_publish_error_is_logged_without_secrets(demo: Env, caplog: pytest.LogCaptureFixture) -> None:
    demo.slack.fail_next("views.publish", status=200)  # ok: false, error: internal_error
    with caplog.at_level(logging.WARNING, logger="handlers.home"):
        open_home(demo, OWNER)
    assert "could not publish App Home" in caplog.text and "internal_error" in caplog.text
    assert BOT_TOKEN not in caplog.text
