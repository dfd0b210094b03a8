"""Request authorization offers the partner app's own authorization link when the TikTok app is
set up, beside Partner Center's request link."""

from __future__ import annotations

import datetime as dt

from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from blocks.ids import ActionId, ShopRef
from bot.ingest.formats import Kind
from bot.ingest.tiktok.oauth import read_state
from bot.settings import Settings
from tests.support.data import load, shop
from tests.support.slack import running_app
from tests.support.tiktok import FakeTikTok
from tests.support.tiktok_app import TEST_ENCRYPTION_KEY, state_of

APP = {
    "tiktok_app_key": FakeTikTok.app_key,
    "tiktok_app_secret": SecretStr(FakeTikTok.app_secret),
    "healthbot_encryption_key": SecretStr(TEST_ENCRYPTION_KEY),
    "healthbot_service_id": "7001",
}


def request(factory: sessionmaker[Session], settings: Settings, **overrides: object) -> str:
    load(
        factory,
        Kind.SHOPS,
        [shop("U1", "UNAUTH", "Unauthorized Shop", authorized="false", slack_channel="C0SELLER")],
    )
    with running_app(factory, settings, **overrides) as env:
        env.sender.action(ActionId.REQUEST_AUTHORIZATION.value, ShopRef(shop_id="U1").encode(), name="sent")
        (post,) = env.slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "C0SELLER"
    return str(post.params["text"])


def test_the_request_carries_a_fresh_app_link_when_the_app_is_set_up(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    text = request(factory, settings, **APP)
    assert "grant access here" in text and "also authorize our app" in text
    link = text.rsplit(" ", 1)[-1]
    assert link.startswith("https://services.tiktokshops.us/open/authorize?service_id=7001&state=")
    read_state(FakeTikTok.app_secret, state_of(link), now=dt.datetime.now(dt.UTC))


def test_without_the_app_only_partner_centers_link_is_sent(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    text = request(factory, settings)
    assert "grant access here" in text and "authorize our app" not in text
