"""Slack Connect: a member of another organisation in a shared channel (an *outsider*) gets one
polite line from every command, button, modal and the App Home, and changes nothing
(PRODUCT.md "Who may see what"). A member of the agency's own Enterprise Grid organisation in
another workspace is not an outsider.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blocks.ids import ActionId, BlockDraftRef, CallbackId, CommandRef, RowAction, ShopRef, TrendRef
from bot.db.models import (
    Acknowledgement,
    AuthRequestSend,
    ButtonClick,
    BuyerBlock,
    DigestSubscription,
    OwnerPreference,
    PostClaim,
    Shop,
    Snooze,
)
from bot.ingest.demo import DemoSize, load_demo
from bot.settings import Settings
from tests.support.slack import Env, running_app, text_of

OUTSIDER = "T_EXTERNAL"
LINE = "Shop Health Bot answers members of Acme Agency only."
SHOP = "7000000003"

COMMANDS = [
    "overview",
    "atrisk",
    "shop US00003",
    "list ahr fair",
    "unauthorized",
    "digest preview",
    "digest subscribe",
    "security US00007",
    "mine",
    "trend US00003",
    "ack US00003",
    "snooze US00003 7d",
    "assign US00003 me",
    "notify milestones on",
    "help",
]


@pytest.fixture
def env(factory: sessionmaker[Session], settings: Settings) -> Iterator[Env]:
    load_demo(factory, DemoSize(shops=40, days=10), settings.today())
    with running_app(factory, settings) as running:
        yield running


def state(factory: sessionmaker[Session]) -> dict[str, Any]:
    """Everything a person's request could change."""
    with factory() as session:
        return {
            "acks": session.scalars(select(Acknowledgement.shop_id)).all(),
            "snoozes": session.scalars(select(Snooze.shop_id)).all(),
            "owners": sorted((s.shop_id, s.owner or "") for s in session.scalars(select(Shop))),
            "sends": session.scalars(select(AuthRequestSend.shop_id)).all(),
            "blocks": session.scalars(select(BuyerBlock.buyer_username)).all(),
            "subs": session.scalars(select(DigestSubscription.channel_id)).all(),
            "prefs": session.scalars(select(OwnerPreference.user_id)).all(),
            "posts": session.scalars(select(PostClaim.key)).all(),
            "clicks": session.scalars(select(ButtonClick.id)).all(),
        }


def outbound(env: Env) -> list[str]:
    """The Web API calls that would show or change something (auth.test only reads the workspace)."""
    return [c.method for c in env.slack.calls if c.method not in ("auth.test", "response_url")]


@pytest.mark.parametrize("text", COMMANDS)
def test_every_command_answers_an_outsider_with_one_line(env: Env, text: str) -> None:
    before = state(env.factory)
    answer = env.sender.command(text, team_id=OUTSIDER, channel_id="CSHARED", user_id="UOUT")
    assert answer.status_code == 200
    body = answer.json()
    assert body["response_type"] == "ephemeral"
    assert text_of(body["blocks"]) == LINE
    assert state(env.factory) == before
    assert outbound(env) == []


def _clicks() -> list[tuple[str, str, dict[str, Any]]]:
    shop = ShopRef(shop_id=SHOP).encode()

    def option(op: str) -> dict[str, Any]:
        return {
            "type": "overflow",
            "selected_option": {
                "text": {"type": "plain_text", "text": op},
                "value": RowAction(op=op, shop_id=SHOP).encode(),
            },
        }

    return [
        ("open card", f"{ActionId.OPEN_SHOP.value}:1", {"value": shop}),
        ("share", ActionId.SHARE.value, {"value": CommandRef(text="atrisk").encode()}),
        ("show more", ActionId.SHOW_MORE.value, {"value": CommandRef(text="atrisk", offset=10).encode()}),
        ("acknowledge", ActionId.ACKNOWLEDGE.value, {"value": shop}),
        ("snooze 7d", ActionId.SNOOZE.value, option("snooze:7d")),
        ("assign", ActionId.ASSIGN.value, {"value": shop}),
        ("row menu ack", f"{ActionId.SHOP_MENU.value}:0", option("ack")),
        ("send request link", ActionId.REQUEST_AUTHORIZATION.value, {"value": shop}),
        ("block a buyer", ActionId.BLOCK_BUYER.value, {"value": shop}),
        ("trend", f"{ActionId.TREND.value}:30", {"value": TrendRef(shop_id=SHOP, days=30).encode()}),
        ("visit seller center", ActionId.VISIT_SELLER_CENTER.value, {"value": shop}),
    ]


@pytest.mark.parametrize(("what", "action_id", "fields"), _clicks(), ids=[c[0] for c in _clicks()])
def test_every_button_answers_an_outsider_with_one_line(
    env: Env, what: str, action_id: str, fields: dict[str, Any]
) -> None:
    before = state(env.factory)
    payload = env.sender.action_payload(
        action_id, None, team_id=OUTSIDER, user_id="UOUT", channel_id="CSHARED", name="out"
    )
    payload["actions"][0].update(fields)
    assert env.sender.payload(payload).status_code == 200
    assert [(name, text_of(body["blocks"])) for name, body in env.slack.responses] == [("out", LINE)]
    assert state(env.factory) == before
    assert outbound(env) == []


@pytest.mark.parametrize(
    ("callback", "metadata", "values"),
    [
        (
            CallbackId.ASSIGN_OWNER.value,
            ShopRef(shop_id=SHOP).encode(),
            {"owner": {"owner": {"selected_user": "UOUT"}}},
        ),
        (
            CallbackId.BLOCK_BUYER_CONFIRM.value,
            BlockDraftRef(shop_id=SHOP, buyer_username="buyer1", reason="fraud").encode(),
            {"confirm": {"value": {"type": "plain_text_input", "value": "buyer1"}}},
        ),
    ],
    ids=["assign modal", "record a buyer block"],
)
def test_modals_answer_an_outsider_with_one_line(
    env: Env, callback: str, metadata: str, values: dict[str, Any]
) -> None:
    before = state(env.factory)
    answer = env.sender.view_submission(callback, metadata, values, user_id="UOUT", team_id=OUTSIDER)
    body = answer.json()
    assert body["response_action"] == "update"
    assert text_of(body["view"]["blocks"]) == LINE
    assert state(env.factory) == before
    assert outbound(env) == []


def test_app_home_shows_an_outsider_one_line(env: Env) -> None:
    env.sender.event(
        {"type": "app_home_opened", "user": "UOUT", "tab": "home", "user_team": OUTSIDER}, team_id=OUTSIDER
    )
    (publish,) = env.slack.calls_to("views.publish")
    assert text_of(publish.params["view"]["blocks"]) == LINE
    assert "GMV" not in json.dumps(publish.params["view"])


def test_a_member_of_another_team_of_the_same_grid_organisation_is_not_an_outsider(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    load_demo(factory, DemoSize(shops=20, days=10), settings.today())
    with running_app(factory, settings) as env:
        env.slack.enterprise_id = "E_AGENCY"
        body = env.sender.command_body("overview", team_id="T_OTHER_WORKSPACE")
        answer = env.sender.post(body + "&enterprise_id=E_AGENCY")
        assert "Portfolio health overview" in text_of(answer.json()["blocks"])
        outside = env.sender.post(
            env.sender.command_body("overview", team_id="T_OTHER") + "&enterprise_id=E_OTHER"
        )
        assert text_of(outside.json()["blocks"]) == LINE


def test_when_slack_cannot_say_whose_workspace_this_is_nobody_sees_data(env: Env) -> None:
    env.slack.fail_next("auth.test", status=500, times=5)
    answer = env.sender.command("overview")
    assert (
        answer.text
        == "Shop Health Bot could not check your workspace just now; please try again in a minute."
    )
    assert "Portfolio health overview" in text_of(
        env.sender.command("overview").json()["blocks"]
    )  # asks again
