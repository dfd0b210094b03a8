"""Share to channel, and channels shared with another organisation (PRODUCT.md "Who may see what"):
Share re-renders a read-only view with the sharer's rights, never a command that changes state;
nothing confidential goes into a Slack Connect channel except one seller's own card into that
seller's channel; a digest cannot be subscribed there. The ack never waits for Slack."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blocks.ids import ActionId, CommandRef
from bot.commands.asker import Asker
from bot.commands.registry import answer
from bot.ingest.formats import Kind
from bot.settings import Settings
from tests.support.data import load, metric, owner, shop
from tests.support.slack import Env, SlackSender, dispatch_to, running_app, text_of

POST = "chat.postMessage"


@pytest.fixture
def env(factory: sessionmaker[Session], settings: Settings) -> Iterator[Env]:
    load(
        factory,
        Kind.SHOPS,
        [
            shop("S1", "US1", "Alpha Goods", owner="UOWNER", slack_channel="CSELLER1"),
            shop("S2", "US2", "Beta Home"),
        ],
    )
    load(factory, Kind.METRICS, [metric("S1", settings.today(), 120, "3.0", 9000.0)])
    with running_app(factory, settings) as running:
        running.slack.channels.update(
            {
                "CSELLER1": {"is_ext_shared": True},
                "CCONNECT": {"is_ext_shared": True},
                "CHIDDEN": {"missing": True},
            }
        )
        yield running


def share(env: Env, text: str, channel: str, *, name: str = "share") -> list[str]:
    """Click Share on the reply to `/health <text>` in `channel`; what the click posted there."""
    mark = len(env.slack.calls)
    env.sender.action(ActionId.SHARE.value, CommandRef(text=text).encode(), channel_id=channel, name=name)
    new = env.slack.calls[mark:]
    return [
        text_of(c.params["blocks"])
        for c in new
        if c.method == POST and c.ok and c.params["channel"] == channel
    ]


def told(env: Env, name: str = "share") -> str:
    return text_of(dict(env.slack.responses)[name]["blocks"])


def test_a_forged_share_of_a_state_changing_command_changes_nothing(env: Env) -> None:
    assert share(env, "assign US1 nobody", "CINTERNAL") == []
    assert owner(env.factory, "S1") == "UOWNER"
    assert "can't be shared" in told(env)


def test_portfolio_wide_cards_never_go_into_a_shared_channel(env: Env) -> None:
    for text in ("overview", "atrisk", "list", "unauthorized", "digest preview"):
        assert share(env, text, "CCONNECT", name=text) == []
        assert "shared with another organisation" in told(env, text)
    assert share(env, "overview", "CHIDDEN", name="hidden") == []  # Slack would not say: private
    assert share(env, "overview", "CINTERNAL", name="internal") != []


def test_one_sellers_card_may_go_into_that_sellers_own_channel_only(env: Env) -> None:
    assert "Alpha Goods" in share(env, "shop US1", "CSELLER1")[0]
    assert share(env, "shop US2", "CSELLER1", name="other") == []  # another seller's card
    assert share(env, "shop US1", "CCONNECT", name="connect") == []  # not the seller's channel


def test_help_is_shareable_anywhere(env: Env) -> None:
    assert share(env, "help", "CCONNECT")


def test_the_footer_and_the_card_escape_the_command(env: Env) -> None:
    (card,) = share(env, "shop <!channel> US1", "CINTERNAL")
    assert "<!channel>" not in card


def test_a_digest_cannot_be_subscribed_in_a_shared_channel(env: Env) -> None:
    reply = env.sender.command("digest subscribe <#CCONNECT|connect> at 09:00").json()
    assert "shared with another organisation" in text_of(reply["blocks"])
    listed = env.sender.command("digest list").json()
    assert "No channel is subscribed" in text_of(listed["blocks"])


def test_share_acks_at_once_under_429s_and_posts_once(env: Env) -> None:
    env.slack.rate_limit_next(POST, retry_after=1, times=3)
    sender = SlackSender(dispatch_to(env.app, settle=False), env.slack.response_url)
    body = sender.action_body(
        ActionId.SHARE.value, CommandRef(text="overview").encode(), channel_id="CINTERNAL"
    )
    started = time.monotonic()
    answered = sender.post(body)
    ack_seconds = time.monotonic() - started
    assert answered.status_code == 200 and ack_seconds < 1.0  # Slack wants 3 s; the posting comes after
    env.settle()
    shared = [c for c in env.slack.calls_to(POST) if c.ok and c.params["channel"] == "CINTERNAL"]
    assert len(shared) == 1
    assert not any("went wrong" in text_of(body["blocks"]) for _, body in env.slack.responses)
    sender.post(body)  # a retried delivery of the same click
    env.settle()
    assert len([c for c in env.slack.calls_to(POST) if c.ok and c.params["channel"] == "CINTERNAL"]) == 1


def test_share_re_renders_with_the_sharers_rights(env: Env, settings: Settings) -> None:
    with env.factory() as session:
        as_cli = answer(session, "mine", settings=env.settings, asker=Asker(user_id="UOWNER"))
    assert "Alpha Goods" in text_of(as_cli.blocks)
    assert share(env, "mine", "CINTERNAL") == []  # "your sellers" are not the channel's


def test_a_shared_card_keeps_the_buttons_but_not_share_itself(env: Env) -> None:
    share(env, "shop US1", "CINTERNAL")
    (posted,) = [c for c in env.slack.calls_to(POST) if c.ok and c.params["channel"] == "CINTERNAL"]
    actions = [
        e["action_id"] for b in posted.params["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert "visit_seller_center" in actions and "acknowledge" in actions
    assert not any(a.startswith("share_to_channel") for a in actions)
    assert "Shared by <@U1>" in text_of(posted.params["blocks"])
