"""End to end: signed slash commands and button clicks into the app (through `app.dispatch`, the
whole middleware chain with the signature check), and the HTTP layer itself over a real socket.

The Slack Web API is the local fake server (bot.playground.fakeslack); nothing of ours is patched.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from blocks.ids import ActionId, CommandRef, ShopRef
from bot.db.models import AuthRequestSend, ButtonClick, Shop
from bot.ingest.demo import DemoSize, load_demo
from bot.settings import Settings
from tests.support.slack import BOT_TOKEN, SIGNING_SECRET, Env, find_buttons, running_app, text_of

DEMO = DemoSize(shops=60, days=30)


@pytest.fixture
def env(bot: Env) -> Env:
    """The app (requests through `app.dispatch`) over a demo portfolio."""
    load_demo(bot.factory, DEMO, bot.today)
    return bot


@pytest.fixture
def served(factory: sessionmaker[Session], settings: Settings) -> Iterator[Env]:
    """The app behind its web routes on a real local HTTP server, for tests of the HTTP layer."""
    load_demo(factory, DEMO, settings.today())
    with running_app(factory, settings, http=True) as running:
        yield running


def _unauthorized_shop(factory: sessionmaker[Session], *, channel: bool) -> Shop:
    with factory() as session:
        query = select(Shop).where(Shop.authorized.is_(False))
        query = query.where(Shop.slack_channel.is_not(None) if channel else Shop.slack_channel.is_(None))
        shop = session.scalars(query).first()
    if shop is None:  # give one unauthorized seller a mapped channel (or take it away)
        with factory() as session, session.begin():
            shop = session.scalars(select(Shop).where(Shop.authorized.is_(False))).first()
            assert shop is not None
            shop.slack_channel = "CSELLER1" if channel else None
    return shop


def test_overview_replies_ephemeral_with_share_button(env: Env) -> None:
    response = env.sender.command("overview")
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "Portfolio health overview" in text_of(body["blocks"])
    assert find_buttons(body["blocks"], ActionId.SHARE.value)


def test_atrisk_lists_sellers_by_gmv_with_show_more(env: Env) -> None:
    body = env.sender.command("atrisk").json()
    blocks = body["blocks"]
    assert "Sellers needing action" in text_of(blocks)
    more = find_buttons(blocks, ActionId.SHOW_MORE.value)
    assert more, "a long list is paged"
    ref = CommandRef.model_validate_json(more[0]["value"])
    assert ref.offset == 10
    env.sender.action(more[0]["action_id"], more[0]["value"], name="more")
    (name, page2), *_ = env.slack.responses
    assert name == "more" and page2["replace_original"] is True
    assert "11-" in text_of(page2["blocks"])


def test_bad_signature_is_rejected(served: Env) -> None:
    body = served.sender.command_body("overview")
    response = served.sender.post(body, signature="v0=" + "0" * 64)
    assert response.status_code == 401


def test_stale_timestamp_is_rejected(served: Env) -> None:
    body = served.sender.command_body("overview")
    response = served.sender.post(body, timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 401


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_gets_help(env: Env, text: str) -> None:
    body = env.sender.command(text).json()
    assert "Shop Health Bot" in text_of(body["blocks"])


@pytest.mark.parametrize(
    ("text", "closest"),
    [
        ("frobnicate", None),
        ("overveiw", "/health overview vs 7d"),
        ("list ahr purple", "/health list "),
        ("shop", "/health shop "),
    ],
)
def test_text_not_understood_gets_one_line_the_closest_form_and_a_help_button(
    env: Env, text: str, closest: str | None
) -> None:
    blocks = env.sender.command(text).json()["blocks"]
    assert len(blocks) == 1 and "Sorry, " in text_of(blocks)
    assert closest is None or f"Try `{closest}" in text_of(blocks)
    (help_button,) = find_buttons(blocks, "show_more")
    assert CommandRef.model_validate_json(help_button["value"]).text == "help"


def test_random_and_unicode_text_never_fails(env: Env) -> None:
    rng = random.Random(3)
    noise = "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(2000))
    for text in [noise, "shop 🛍️ 店铺 ñandú <script>&", "atrisk " + "ahr " * 400]:
        response = env.sender.command(text)
        assert response.status_code == 200
        body = response.json()
        assert len(body["blocks"]) <= 50
        assert "<script>" not in text_of(body["blocks"])


def test_unknown_shop_suggests_closest(env: Env) -> None:
    with env.factory() as session:
        name = session.scalar(select(Shop.shop_name).order_by(Shop.shop_id))
    assert name
    typo = name[:-3] + "xq"  # close to a real name but not a fragment of one
    body = env.sender.command(f"shop {typo}zz").json()
    text = text_of(body["blocks"])
    assert "Closest names" in text or "Several sellers" in text
    body = env.sender.command("shop qqqqqqqqqqqqqqqqqqqq").json()
    assert "No seller" in text_of(body["blocks"])


def test_unauthorized_card_hides_data_and_offers_request(env: Env) -> None:
    shop = _unauthorized_shop(env.factory, channel=False)
    body = env.sender.command(f"shop {shop.shop_code}").json()
    blocks = body["blocks"]
    fields = [f["text"] for b in blocks if b.get("fields") for f in b["fields"]]
    assert fields and all(f.endswith("\n-") for f in fields)
    assert find_buttons(blocks, ActionId.REQUEST_AUTHORIZATION.value)
    assert not find_buttons(blocks, ActionId.VISIT_SELLER_CENTER.value)


def test_request_link_goes_to_dm_and_double_click_sends_once(env: Env) -> None:
    shop = _unauthorized_shop(env.factory, channel=False)
    value = ShopRef(shop_id=shop.shop_id).encode()
    first = env.sender.action(ActionId.REQUEST_AUTHORIZATION.value, value, action_ts="1.1", name="first")
    second = env.sender.action(ActionId.REQUEST_AUTHORIZATION.value, value, action_ts="1.2", name="second")
    assert first.status_code == second.status_code == 200
    posts = env.slack.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].params["channel"] == "DU1"
    assert env.slack.calls_to("conversations.open")[0].params["users"] == "U1"
    replies = dict(env.slack.responses)
    assert "sent to your DMs" in text_of(replies["first"]["blocks"])
    assert "Send it again?" in text_of(replies["second"]["blocks"])
    with env.factory() as session:
        sends = list(session.scalars(select(AuthRequestSend)))
    assert [(s.shop_id, s.sent_by, s.channel) for s in sends] == [(shop.shop_id, "U1", "DU1")]
    # Confirming sends again, on purpose.
    confirm = find_buttons(replies["second"]["blocks"], ActionId.CONFIRM_REQUEST_AUTHORIZATION.value)[0]
    env.sender.action(confirm["action_id"], confirm["value"], action_ts="1.3")
    assert len(env.slack.calls_to("chat.postMessage")) == 2
    # A double click on "Send again" confirms once.
    env.sender.action(confirm["action_id"], confirm["value"], action_ts="1.4")
    assert len(env.slack.calls_to("chat.postMessage")) == 2


def test_retried_delivery_sends_once(env: Env) -> None:
    shop = _unauthorized_shop(env.factory, channel=True)
    body = env.sender.action_body(
        ActionId.REQUEST_AUTHORIZATION.value, ShopRef(shop_id=shop.shop_id).encode(), action_ts="9.9"
    )
    assert env.sender.post(body).status_code == 200
    retry = env.sender.post(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    posts = env.slack.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].params["channel"] == shop.slack_channel
    assert "grant access" in posts[0].params["text"]


def test_admin_only_request(env: Env, factory: sessionmaker[Session]) -> None:
    env.settings.healthbot_admins.append("UADMIN")
    try:
        shop = _unauthorized_shop(env.factory, channel=False)
        env.sender.action(
            ActionId.REQUEST_AUTHORIZATION.value,
            ShopRef(shop_id=shop.shop_id).encode(),
            user_id="UOTHER",
            name="denied",
        )
        assert not env.slack.calls_to("chat.postMessage")
        assert "Only the bot's admins" in text_of(dict(env.slack.responses)["denied"]["blocks"])
    finally:
        env.settings.healthbot_admins.clear()


def test_share_posts_once_to_channel(env: Env) -> None:
    body = env.sender.command("overview", channel_id="CSHARE").json()
    share = find_buttons(body["blocks"], ActionId.SHARE.value)[0]
    env.sender.action(share["action_id"], share["value"], channel_id="CSHARE", action_ts="2.1")
    env.sender.action(share["action_id"], share["value"], channel_id="CSHARE", action_ts="2.2")
    posts = env.slack.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].params["channel"] == "CSHARE"
    assert "Shared by <@U1>" in json.dumps(posts[0].params["blocks"])


def test_open_card_and_visit_seller_center_click_is_logged(env: Env) -> None:
    body = env.sender.command("atrisk").json()
    open_button = find_buttons(body["blocks"], ActionId.OPEN_SHOP.value)[0]
    env.sender.action(open_button["action_id"], open_button["value"], name="card")
    card = dict(env.slack.responses)["card"]
    visit = find_buttons(card["blocks"], ActionId.VISIT_SELLER_CENTER.value)[0]
    assert visit["url"].startswith("https://")
    env.sender.action(visit["action_id"], visit["value"], url=visit["url"])
    with env.factory() as session:
        assert session.scalar(select(func.count()).select_from(ButtonClick)) == 1


def test_tampered_button_value_gets_friendly_message(env: Env) -> None:
    env.sender.action(ActionId.OPEN_SHOP.value, '{"shop_id": 5, "evil": true}', name="bad")
    assert "out of date" in text_of(dict(env.slack.responses)["bad"]["blocks"])


def test_slack_outage_on_send_loses_nothing(env: Env) -> None:
    shop = _unauthorized_shop(env.factory, channel=True)
    env.slack.fail_next("chat.postMessage", status=500, times=3)  # the first try and both retries
    env.sender.action(
        ActionId.REQUEST_AUTHORIZATION.value, ShopRef(shop_id=shop.shop_id).encode(), name="outage"
    )
    assert "Nothing was sent" in text_of(dict(env.slack.responses)["outage"]["blocks"])
    with env.factory() as session:
        assert session.scalar(select(func.count()).select_from(AuthRequestSend)) == 0
    # The next click works: the failed try left no record that would ask for confirmation.
    env.sender.action(
        ActionId.REQUEST_AUTHORIZATION.value, ShopRef(shop_id=shop.shop_id).encode(), name="again"
    )
    assert "sent to" in text_of(dict(env.slack.responses)["again"]["blocks"])


def test_health_endpoints(served: Env) -> None:
    assert served.url
    assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{served.url}/readyz").status_code == 200
    assert httpx.get(f"{served.url}/nope").status_code == 404


def test_database_outage_gets_an_apology_with_a_reference(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy import text

    engine = env.factory.kw["bind"]
    with engine.begin() as conn:
        # Every portfolio answer reads the data-version stamp first.
        conn.execute(text("ALTER TABLE data_version RENAME TO data_version_away"))
    try:
        response = env.sender.command("overview")
        assert response.status_code == 200
        reply = response.json()
        assert reply["response_type"] == "ephemeral"
        message = text_of(reply["blocks"])
        assert "something went wrong on our side (reference " in message
        assert "Traceback" not in message and "data_version" not in message and "SELECT" not in message
        reference = message.split("(reference ")[1][:8]
        # The reference leads to the full trace in the log, and the log holds no secret.
        logged = [r for r in caplog.records if reference in r.getMessage()]
        assert logged and logged[0].exc_info is not None
        assert SIGNING_SECRET not in caplog.text and BOT_TOKEN not in caplog.text
        # A button failing the same way apologises through response_url.
        env.sender.action(ActionId.SHOW_MORE.value, CommandRef(text="overview").encode(), name="outage")
        assert "something went wrong on our side" in text_of(dict(env.slack.responses)["outage"]["blocks"])
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE data_version_away RENAME TO data_version"))


def test_command_text_arrives_html_escaped_and_is_understood(env: Env) -> None:
    with env.factory() as session, session.begin():
        shop = session.scalars(select(Shop).where(Shop.authorized.is_(True)).order_by(Shop.shop_id)).first()
        assert shop is not None
        shop.shop_name = "H&M <Beauty>"
        code = shop.shop_code
    # Slack sends &, < and > in the command text as HTML entities.
    body = env.sender.command("shop h&amp;m &lt;beauty&gt;").json()
    assert body["blocks"][0]["text"]["text"].endswith(" H&M <Beauty>")  # the card (plain-text header)
    assert f"`{code}`" in text_of(body["blocks"])


def test_show_more_then_previous_pages_back_in_place(env: Env) -> None:
    first = env.sender.command("atrisk").json()["blocks"]
    (more,) = find_buttons(first, ActionId.SHOW_MORE.value)
    env.sender.action(more["action_id"], more["value"], name="page2")
    page2 = dict(env.slack.responses)["page2"]
    assert page2["replace_original"] is True and "11-" in text_of(page2["blocks"])
    (back,) = find_buttons(page2["blocks"], f"{ActionId.SHOW_MORE.value}:back")
    env.sender.action(back["action_id"], back["value"], name="page1")
    page1 = dict(env.slack.responses)["page1"]
    assert page1["replace_original"] is True and "1-10 of" in text_of(page1["blocks"])
    assert not find_buttons(
        page1["blocks"], f"{ActionId.SHOW_MORE.value}:back"
    )  # the first page has no way back


def test_a_request_link_without_the_service_id_names_the_setting_and_sends_nothing(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    load_demo(factory, DEMO, settings.today())
    shop = _unauthorized_shop(factory, channel=False)
    with running_app(factory, settings, healthbot_service_id="") as env:
        env.sender.action(
            ActionId.REQUEST_AUTHORIZATION.value, ShopRef(shop_id=shop.shop_id).encode(), name="r"
        )
        said = text_of(dict(env.slack.responses)["r"]["blocks"])
        assert "HEALTHBOT_SERVICE_ID is not set, so I cannot make the request link" in said
        assert "partner service ID" in said and "auth_request_url" in said and "Nothing was sent" in said
        assert not env.slack.calls_to("chat.postMessage")
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(AuthRequestSend)) == 0
        # A shop with its own request link from import needs no service ID.
        with factory() as session, session.begin():
            stored = session.get(Shop, shop.shop_id)
            assert stored is not None
            stored.auth_request_url = "https://partner.example/request?shop=1"
        env.sender.action(
            ActionId.REQUEST_AUTHORIZATION.value, ShopRef(shop_id=shop.shop_id).encode(), name="own"
        )
        (post,) = env.slack.calls_to("chat.postMessage")
        assert "https://partner.example/request?shop=1" in post.params["text"]
        assert "service_id=" not in post.params["text"]


def test_request_links_never_end_in_an_empty_service_id(env: Env) -> None:
    shop = _unauthorized_shop(env.factory, channel=False)
    env.sender.action(ActionId.REQUEST_AUTHORIZATION.value, ShopRef(shop_id=shop.shop_id).encode())
    (post,) = env.slack.calls_to("chat.postMessage")
    assert "service_id=7001" in post.params["text"]
