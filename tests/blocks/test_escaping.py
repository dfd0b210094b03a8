"""Every value from data is escaped for mrkdwn in every message and URL-encoded in every link, so
no import can make a message ping @channel or carry a disguised link (PRODUCT.md "Who may see
what")."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blocks import outreach
from blocks.digest import digest_reply
from bot.commands.asker import Asker
from bot.commands.registry import answer
from bot.ingest.formats import Kind
from bot.services.attention import Lens
from bot.services.digest import build_digest
from bot.services.links import auth_request_url, seller_center_url
from bot.services.lookup import get_shop
from bot.settings import Settings
from tests.support.data import account, load, metric, shop, violation
from tests.support.slack import text_of

TODAY = dt.date(2026, 11, 24)
EVIL_ID = "X<!channel>&a=1"
EVIL_NAME = "<!channel> Glow & <https://evil.example|Your bank>"
EVIL_CODE = "US<!here>"


@pytest.fixture
def evil(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    load(factory, Kind.SHOPS, [shop(EVIL_ID, EVIL_CODE, EVIL_NAME, owner="U1")])
    load(
        factory,
        Kind.METRICS,
        [
            metric(EVIL_ID, TODAY - dt.timedelta(days=1), 180, "4.0", 100.0),
            metric(EVIL_ID, TODAY, 140, "2.0", 100.0),
        ],
    )
    load(factory, Kind.ACCOUNTS, [account(EVIL_ID, TODAY, "<!everyone>", 100)])
    load(factory, Kind.VIOLATIONS, [violation("V1", EVIL_ID, TODAY, policy="<!subteam^S1> <https://x.y|z>")])
    return factory


def mrkdwn_of(blocks: object) -> str:
    """The text Slack parses for mentions and links: every mrkdwn text object (plain_text, as in
    a header, shows `<!channel>` literally and needs no escaping)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(found)


def assert_safe(text: str) -> None:
    assert "<!" not in text, text
    assert "<https://evil" not in text and "<https://x.y" not in text, text


@pytest.mark.parametrize(
    "command",
    [
        "shop US&lt;!here&gt;",
        f"shop {EVIL_CODE}",
        "atrisk",
        "list",
        "mine",
        "security Glow",
        "trend Glow",
        "shop Glo",
    ],
)
def test_replies_escape_every_value(evil: sessionmaker[Session], settings: Settings, command: str) -> None:
    with evil() as session:
        reply = answer(session, command, settings=settings, asker=Asker(user_id="U1"), today=TODAY)
    assert_safe(mrkdwn_of(reply.blocks))
    assert_safe(reply.text)


def test_the_digest_escapes_every_value(evil: sessionmaker[Session]) -> None:
    with evil() as session:
        reply = digest_reply(build_digest(session, Lens(today=TODAY)))
    assert "Glow" in text_of(reply.blocks)
    assert_safe(mrkdwn_of(reply.blocks))
    assert_safe(reply.text)


def test_links_url_encode_every_value_and_request_texts_escape_the_name(
    evil: sessionmaker[Session], settings: Settings
) -> None:
    settings = settings.model_copy(update={"healthbot_service_id": "7001&x=<!here>"})
    with evil() as session:
        found = get_shop(session, EVIL_ID)
    assert found is not None
    for url in (seller_center_url(found, settings), auth_request_url(found, settings)):
        parts = urllib.parse.urlsplit(url)
        assert "<" not in url and ">" not in url and "!" not in parts.query.replace("%21", "")
        assert urllib.parse.parse_qs(parts.query)["shop_id"] == [EVIL_ID]  # the value survives, encoded
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(auth_request_url(found, settings)).query)[
        "service_id"
    ] == ["7001&x=<!here>"]
    link = auth_request_url(found, settings)
    for text in (
        outreach.request_for_seller(found.shop_name, link),
        outreach.request_to_forward(found.shop_name, link),
    ):
        assert_safe(text)


def test_the_button_values_still_name_the_shop_exactly(
    evil: sessionmaker[Session], settings: Settings
) -> None:
    with evil() as session:
        reply = answer(session, f"shop {EVIL_CODE}", settings=settings, today=TODAY)
    values = [e.get("value") for b in reply.blocks for e in b.get("elements", []) if isinstance(e, dict)]
    assert any(v and json.loads(v).get("shop_id") == EVIL_ID for v in values)
