"""Block Kit builders: valid payloads within Slack's limits, truncation, escaping, whole payloads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from blocks import shop_card as shop_cards
from blocks.help import help_card
from blocks.kit import Reply, sparkline
from blocks.message import message
from blocks.overview import overview_card
from blocks.pick_list import pick_list
from blocks.seller_list import access_heading, seller_list_card
from blocks.text import truncate
from bot import domain
from bot.commands.registry import help_entries
from bot.domain import Score, Window
from bot.services.records import (
    AccountHealth,
    Freshness,
    HealthScores,
    Overview,
    Page,
    SellerRow,
    ShopDetail,
    ShopInfo,
    ViolationItem,
    ViolationSummary,
)

TODAY = dt.date(2026, 11, 24)
FRESH = Freshness(TODAY, dt.datetime(2026, 11, 24, 8, 5, tzinfo=dt.UTC))


# ---- a checker for Slack's limits ----


def texts(obj: Any) -> Iterator[dict[str, Any]]:
    """Every text object in a payload."""
    if isinstance(obj, dict):
        if obj.get("type") in ("mrkdwn", "plain_text") and "text" in obj:
            yield obj
        for value in obj.values():
            yield from texts(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from texts(value)


def check_limits(reply: Reply) -> None:
    blocks = reply.blocks
    json.dumps(reply.as_message())  # serializable
    assert isinstance(reply.text, str) and reply.text
    assert 0 < len(blocks) <= 50
    action_ids: list[str] = []
    for block in blocks:
        kind = block["type"]
        assert kind in {"header", "section", "context", "actions", "divider"}
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        if kind == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            for f in fields:
                assert 0 < len(f["text"]) <= 2000
            accessory = block.get("accessory")
            if accessory:
                action_ids.append(check_element(accessory))
        if kind == "context":
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                assert 0 < len(element["text"]) <= 2000
        if kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            action_ids += [check_element(b) for b in block["elements"]]
    assert len(action_ids) == len(set(action_ids)), action_ids  # unique within a message


def check_element(element: dict[str, Any]) -> str:
    if element["type"] == "overflow":
        assert 0 < len(element["options"]) <= 5  # Slack's limit for overflow menus
        for option in element["options"]:
            assert 0 < len(option["text"]["text"]) <= 75
            assert 0 < len(option["value"]) <= 150
        assert 0 < len(element["action_id"]) <= 255
        return str(element["action_id"])
    return check_button(element)


def check_button(button: dict[str, Any]) -> str:
    assert button["type"] == "button"
    assert button["text"]["type"] == "plain_text"
    assert 0 < len(button["text"]["text"]) <= 75
    assert len(button.get("value", "")) <= 2000
    assert len(button.get("url", "")) <= 3000
    assert 0 < len(button["action_id"]) <= 255
    assert button.get("style") in (None, "primary", "danger")
    return str(button["action_id"])


_SLACK_CONTROL = re.compile(r"<@[UW][A-Z0-9]+>")


def assert_escaped(reply: Reply) -> None:
    """Every mrkdwn text has &, < and > escaped, except Slack's own user mentions."""
    for obj in texts(reply.blocks):
        if obj["type"] != "mrkdwn":
            continue
        text = _SLACK_CONTROL.sub("", obj["text"])
        assert "<" not in text and ">" not in text, text
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text


def payload_text(reply: Reply) -> str:
    return "\n".join(t["text"] for t in texts(reply.blocks))


# ---- data builders (plain records, as the services return them: the builders never touch a database) ----


def make_shop(**extra: Any) -> ShopInfo:
    values: dict[str, Any] = {
        "shop_id": "7000000001",
        "shop_code": "US00001",
        "shop_name": "Glow Beauty",
        "region": "US",
        "authorized": True,
        "chr_authorized": True,
        "owner": "U0001",
    }
    values.update(extra)
    return ShopInfo(**values)


def make_health(**extra: Any) -> HealthScores:
    values: dict[str, Any] = {
        "as_of": TODAY,
        "ahr": 155,
        "ahr_1d": 190,
        "ahr_7d": 200,
        "sps_tenths": 33,
        "sps_tenths_1d": 39,
        "sps_tenths_7d": 39,
        "chr": 140,
        "chr_1d": 150,
        "chr_7d": 190,
        "gmv_7d": 12345.0,
    }
    values.update(extra)
    return HealthScores(**values)


def make_violation(n: int, **extra: Any) -> ViolationItem:
    values: dict[str, Any] = {
        "violation_id": f"V{n}",
        "scope": "shop",
        "policy": "Late dispatch",
        "points": 4,
        "notified_at": TODAY - dt.timedelta(days=n % 25),
    }
    values.update(extra)
    return ViolationItem(**values)


APPEAL_DAYS = 30


def summarize(violations: Sequence[ViolationItem]) -> ViolationSummary:
    """The summary of violations that all count and are all still open to appeal (for 30 days
    from the notice), as bot.services.shop_card.summarize_violations gives for such violations."""
    appealable = sorted(
        ((v, v.notified_at + dt.timedelta(days=APPEAL_DAYS)) for v in violations), key=lambda item: item[1]
    )
    return ViolationSummary(
        last_7d=sum(domain.in_last_days(v.notified_at, TODAY, 7) for v in violations),
        last_60d=sum(domain.in_last_days(v.notified_at, TODAY, 60) for v in violations),
        appealable=len(appealable),
        nearest_deadline=appealable[0][1] if appealable else None,
        appealable_items=appealable,
        points_180d=sum(v.points for v in violations),
    )


def make_detail(
    shop: ShopInfo | None = None,
    health: HealthScores | None = None,
    accounts: Sequence[AccountHealth] = (AccountHealth("glow.official", 140, 150, 190),),
    violations: Sequence[ViolationItem] = (),
    trend_days: int = 30,
) -> ShopDetail:
    shop = shop or make_shop()
    health = health if health is not None else make_health()
    trend = [(TODAY - dt.timedelta(days=trend_days - 1 - i), 200 - i) for i in range(trend_days)]
    return ShopDetail(
        shop=shop,
        health=health,
        ahr_trend=trend,
        sps_trend=[(d, 40) for d, _ in trend],
        accounts=list(accounts),
        shop_violations=summarize([v for v in violations if v.scope == "shop"]),
        account_violations=summarize([v for v in violations if v.scope == "account"]),
        freshness=FRESH,
        today=TODAY,
    )


def row(n: int, **extra: Any) -> SellerRow:
    values: dict[str, Any] = {
        "shop_id": f"70000{n:05d}",
        "shop_code": f"US{n:05d}",
        "shop_name": f"Shop {n}",
        "region": "US",
        "authorized": True,
        "chr_authorized": True,
        "owner": "U0001",
        "ahr": 179,
        "ahr_then": 200,
        "sps_tenths": 33,
        "sps_tenths_then": 39,
        "chr": 140,
        "chr_then": 150,
        "gmv_7d": 1000.0 + n,
        "reasons": ("AHR fell 21 since yesterday (200 → 179)",),
    }
    values.update(extra)
    return SellerRow(**values)


def shop_card(detail: ShopDetail, **kwargs: Any) -> Reply:
    return shop_cards.shop_card(
        detail,
        seller_center_url="https://seller-us.tiktok.com/account/health?shop_id=7000000001",
        command=f"shop {detail.shop.shop_code}",
        **kwargs,
    )


# ---- whole payloads ----


def test_overview_card_whole_payload() -> None:
    data = Overview(
        window=Window.WEEK,
        counts={Score.AHR: (2, 1), Score.SPS: (0, 3), Score.CHR: (1, 0)},
        needs_action=4,
        unauthorized=2,
        total=10,
        without_chr_scope=3,
        gmv_at_risk=12345.0,
        freshness=Freshness(TODAY, dt.datetime(2026, 11, 24, 8, 5, tzinfo=dt.UTC), ("tiktok",), ()),
    )
    reply = overview_card(data, "overview vs 7d")
    button = {"emoji": True, "type": "plain_text"}
    assert reply.as_message() == {
        "text": "Overview: 4 sellers need action, 2 unauthorized",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "Portfolio health overview", "emoji": True},
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "8 authorized sellers of 10; *2* not authorized (left out of the counts). "
                    "3 more lack the Data Compass scope (no CHR).",
                },
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Account Health (AHR)*\n🟡 2 warning · 🔴 1 critical"},
                    {"type": "mrkdwn", "text": "*Shop Performance (SPS)*\n🟡 0 warning · 🔴 3 critical"},
                    {"type": "mrkdwn", "text": "*TikTok accounts (CHR)*\n🟡 1 warning · 🔴 0 critical"},
                    {
                        "type": "mrkdwn",
                        "text": "*Need action* (vs 7 days ago)\n:rotating_light: 4 sellers · $12.3k GMV at risk",
                    },
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "show_more",
                        "style": "primary",
                        "text": {**button, "text": "Sellers needing action"},
                        "value": '{"text":"atrisk vs 7d"}',
                    },
                    {
                        "type": "button",
                        "action_id": "show_more:unauth",
                        "text": {**button, "text": "Unauthorized sellers"},
                        "value": '{"text":"unauthorized"}',
                    },
                    {
                        "type": "button",
                        "action_id": "share_to_channel",
                        "text": {**button, "text": "Share to channel"},
                        "value": '{"text":"overview vs 7d"}',
                    },
                ],
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": ":clock3: Data as of Nov 24, 2026 · updated Nov 24 08:05 UTC · :warning: stale: tiktok",
                    }
                ],
            },
        ],
    }
    check_limits(reply)


def test_overview_counts_48_point_shops_by_their_points_beside_ahr() -> None:
    data = Overview(
        window=Window.DAY,
        counts={Score.AHR: (2, 1), Score.SPS: (0, 3), Score.CHR: (1, 0)},
        needs_action=4,
        unauthorized=0,
        total=10,
        without_chr_scope=0,
        gmv_at_risk=1.0,
        freshness=FRESH,
        points=(1, 2),
        points_shops=3,
    )
    fields = [
        f["text"] for b in overview_card(data, "overview").blocks if b.get("fields") for f in b["fields"]
    ]
    assert fields[1] == "*Penalty points* (48-point system, 3 shops)\n🟡 1 warning · 🔴 2 critical"
    quiet = dataclasses.replace(data, points_shops=0, points=(0, 0))
    assert "Penalty points" not in payload_text(overview_card(quiet, "overview"))


def test_message_whole_payload() -> None:
    reply = message("All clear & <done>")
    assert reply.blocks == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "All clear &amp; &lt;done&gt;"}}
    ]
    assert reply.text == "All clear &amp; &lt;done&gt;"
    linked = message("Posted in <#C1>", mrkdwn=True)
    assert linked.blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": "Posted in <#C1>"}}]


def test_help_card_shape() -> None:
    reply = help_card(help_entries())
    check_limits(reply)
    # The examples are on each subcommand's line now (no context block of examples below).
    types = [b["type"] for b in reply.blocks]
    assert types[0] == "header" and set(types[1:]) == {"section"}  # the lines fill sections in turn
    assert reply.blocks[0]["text"]["text"] == "Shop Health Bot"
    body = "\n".join(b["text"]["text"] for b in reply.blocks[2:])
    for word in ("overview", "atrisk", "shop", "list", "unauthorized", "digest", "vs 1d|7d", "unscored"):
        assert word in body
    lines = body.split("\n")
    assert len(lines) == len(help_entries())  # every subcommand, one line each, with its example
    for line, (_, _, example) in zip(lines, help_entries(), strict=True):
        assert line.endswith(f", e.g. `/health {example}`")


def test_help_card_with_a_problem() -> None:
    reply = help_card(help_entries(), "I don't know `<foo & bar>`")
    check_limits(reply)
    assert reply.blocks[0]["text"]["text"] == ":thinking_face: Sorry, I don't know `&lt;foo &amp; bar&gt;`."
    assert reply.blocks[1]["type"] == "header"
    long = help_card(help_entries(), "x" * 5000)
    check_limits(long)
    assert long.blocks[0]["text"]["text"].endswith("…")


def test_help_card_escapes_its_own_angle_brackets() -> None:
    # "<code | ID | name | @handle>" and "<band>" are Slack control syntax unless escaped.
    assert_escaped(help_card(help_entries()))


# ---- limits ----


def test_long_seller_list_is_capped_at_50_blocks_keeping_the_footer() -> None:
    rows = [row(n) for n in range(60)]
    page = Page(rows=rows, total=200, offset=0, limit=60)
    reply = seller_list_card("Sellers", page, command="atrisk", window=Window.DAY, empty="none")
    check_limits(reply)
    assert len(reply.blocks) == 50
    assert reply.blocks[-2]["type"] == "divider"
    footer = reply.blocks[-1]
    assert footer["type"] == "actions"
    labels = [b["text"]["text"] for b in footer["elements"]]
    assert labels == ["Show more (154 left)", "Share to channel"]  # 46 rows shown: the next page starts at 47
    assert json.loads(footer["elements"][0]["value"]) == {"text": "atrisk", "offset": 46, "paging": True}
    assert "1-46 of 200" in reply.blocks[1]["elements"][0]["text"]


def test_seller_list_page_and_empty() -> None:
    page = Page(rows=[row(1), row(2, authorized=False, chr_authorized=False)], total=12, offset=10, limit=10)
    reply = seller_list_card("Health list", page, command="list sort ahr", window=Window.WEEK, empty="none")
    check_limits(reply)
    assert reply.text == "Health list: 12 sellers"
    assert reply.blocks[1]["elements"][0]["text"] == "11-12 of 12 · vs 7 days ago"
    first, second = reply.blocks[2], reply.blocks[3]
    assert "*Shop 1* `US00001`" in first["text"]["text"]
    # Each score with its colour, its band word (never colour alone) and its change.
    assert (
        "🟡 AHR 179 Fair (-21) · 🟡 SPS 3.3 warning (-0.6) · 🔴 CHR 140 Critical (-10)"
        in first["text"]["text"]
    )
    assert "_AHR fell 21 since yesterday (200 → 179)_" in first["text"]["text"]
    assert first["accessory"]["text"]["text"] == "Open card"
    assert "GMV 7d -" in second["text"]["text"]
    assert "AHR - · SPS - · CHR -" in second["text"]["text"]
    assert second["accessory"]["text"]["text"] == "Send request link"
    assert [b["text"]["text"] for b in reply.blocks[-1]["elements"]] == [
        "Previous",
        "Share to channel",
    ]  # nothing left, a way back
    empty = seller_list_card(
        "Sellers", Page([], 0, 0, 10), command="atrisk", window=Window.DAY, empty="No one."
    )
    check_limits(empty)
    assert empty.blocks[1]["text"]["text"] == "No one."


def test_huge_shop_card_stays_within_limits() -> None:
    shop = make_shop(shop_name="N" * 300, shop_code="C" * 64, shop_id="9" * 64, owner="U" + "A" * 31)
    accounts = [AccountHealth("h" * 60 + str(i), 100 + i, 150, 190) for i in range(5)]
    violations = [make_violation(n, policy="P" * 255) for n in range(60)] + [
        make_violation(100 + n, scope="account", policy="Q" * 255) for n in range(20)
    ]
    reply = shop_card(make_detail(shop=shop, accounts=accounts, violations=violations), uk_48_point=False)
    check_limits(reply)
    header = reply.blocks[0]["text"]["text"]
    assert header.endswith("…") and len(header) == 150
    assert "… and 75 more" in payload_text(reply)


def test_pick_list_truncates_names() -> None:
    shops = [
        make_shop(shop_id=f"id{i}", shop_code=f"C{i}", shop_name="Very long name " * 20) for i in range(40)
    ]
    reply = pick_list(shops, {}, title="Several sellers match *very*; pick one:", more=3)
    check_limits(reply)
    assert len(reply.blocks) == 42
    name_text = reply.blocks[1]["text"]["text"]
    assert name_text.startswith("*Very long name") and "…*" in name_text
    assert len(name_text.split("*")[1]) == 60
    assert reply.text == "Several sellers match very; pick one:"
    assert reply.blocks[-1]["elements"][0]["text"].startswith("… and 3 more matches.")


def test_pick_list_rows_say_enough_to_tell_shops_apart() -> None:
    shops = [
        make_shop(),
        make_shop(shop_id="2", shop_code="PH00002", region="PH"),
        make_shop(shop_id="3", shop_code="US00003", authorized=False),
        make_shop(shop_id="4", shop_code="US00004"),
    ]
    health = {"7000000001": make_health(), "2": make_health(points=30)}
    reply = pick_list(shops, health, title="Several sellers match *glow*; pick one:")
    lines = [b["text"]["text"].split("\n")[1] for b in reply.blocks[1:]]
    assert lines == [
        "`US00001` · US · 🟡 AHR 155 Fair · GMV 7d $12.3k",
        "`PH00002` · PH · 30/48 points · GMV 7d $12.3k",
        "`US00003` · US · ⚪ not authorized",
        "`US00004` · US · no data yet",
    ]
    assert all(b["type"] == "section" for b in reply.blocks)  # nothing more to say: no "more" line
    uk = make_shop(shop_id="5", shop_code="UK00005", region="UK")
    uk_health = {"5": make_health(points=12)}
    assert "AHR 155 Fair" in payload_text(pick_list([uk], uk_health, title="t"))
    assert "12/48 points" in payload_text(pick_list([uk], uk_health, title="t", uk_48_point=True))


def test_truncate() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd", 3) == "ab…"
    assert len(truncate("x" * 300, 60)) == 60


# ---- the shop card ----


def test_shop_card_for_an_authorized_us_seller() -> None:
    violations = [
        make_violation(1, notified_at=TODAY - dt.timedelta(days=3)),
        make_violation(2, notified_at=TODAY - dt.timedelta(days=20)),
    ]
    reply = shop_card(make_detail(violations=violations))
    check_limits(reply)
    text = payload_text(reply)
    assert (
        reply.blocks[0]["text"]["text"] == "🔴 Glow Beauty"
    )  # worst band wins: SPS and CHR critical/warning
    assert "🟡 *155* Fair\n-35 1d · -45 7d" in text
    assert ":warning: 150 in 5 points: 7 days without creating listings" in text
    assert "🟡 *3.3* (-0.6 1d)" in text
    assert "$12.3k" in text
    assert "7d 1 · 0 | 60d 2 · 0" in text
    assert "Appealable 2 · 0; nearest deadline Dec 4 (10 days left)" in text
    assert "@glow.official: *140 Critical* (-10 1d · -50 7d)" in text
    assert "AHR last 30 days: `" in text
    buttons = [b["text"]["text"] for b in reply.blocks[-2]["elements"] if b["type"] == "button"]
    assert buttons == ["Visit Seller Center", "Acknowledge", "Assign", "Trend 30d", "Share to channel"]
    snooze = reply.blocks[-2]["elements"][-1]
    assert [o["text"]["text"] for o in snooze["options"]] == [
        "Snooze 1 day",
        "Snooze 7 days",
        "Snooze until scores change",
    ]
    assert reply.blocks[-2]["elements"][0]["url"].startswith("https://seller-us.tiktok.com/")
    assert reply.text == "Glow Beauty (US00001): AHR 155"


def test_shop_card_unscored_sps() -> None:
    reply = shop_card(make_detail(health=make_health(sps_tenths=0, sps_tenths_1d=0)))
    assert "not scored yet" in payload_text(reply)


def test_fr_shop_card_uses_the_eu_milestone_text() -> None:
    reply = shop_card(make_detail(shop=make_shop(region="FR"), health=make_health(ahr=55)))
    assert "withdrawals" in payload_text(reply)


def test_unauthorized_seller_card_hides_every_data_field() -> None:
    shop = make_shop(authorized=False, chr_authorized=False)
    violations = [make_violation(1)]
    reply = shop_card(make_detail(shop=shop, violations=violations))
    check_limits(reply)
    assert "*What to do*" in reply.blocks[2]["text"]["text"]  # what to do leads the card
    (with_fields,) = [b for b in reply.blocks if b.get("fields")]
    fields = {f["text"].split("\n")[0]: f["text"].split("\n", 1)[1] for f in with_fields["fields"]}
    assert fields == {"*AHR*": "-", "*SPS*": "-", "*Last 7 days GMV*": "-", "*Violations*": "-"}
    text = payload_text(reply)
    assert "155" not in text and "3.3" not in text and "12.3k" not in text and "140" not in text
    assert "Data Compass" in text
    assert "Appealable" not in text and "last 30 days" not in text
    buttons = [b["text"]["text"] for b in reply.blocks[-2]["elements"] if b["type"] == "button"]
    assert buttons == ["Request authorization", "Acknowledge", "Assign", "Share to channel"]
    assert reply.blocks[-2]["elements"][0]["style"] == "primary"
    assert reply.blocks[0]["text"]["text"].startswith("⚪")
    assert reply.text == "Glow Beauty (US00001): data hidden until the seller authorizes the partner"


def test_seller_without_chr_scope_shows_scores_but_not_chr() -> None:
    reply = shop_card(make_detail(shop=make_shop(chr_authorized=False)))
    text = payload_text(reply)
    assert "*155*" in text
    assert "@glow.official" not in text
    assert "- (Data Compass scope not granted)" in text
    buttons = [b["text"]["text"] for b in reply.blocks[-2]["elements"] if b["type"] == "button"]
    assert buttons == [
        "Visit Seller Center",
        "Request authorization",
        "Acknowledge",
        "Assign",
        "Trend 30d",
        "Share to channel",
    ]


def test_48_point_shop_card_shows_penalty_points_and_no_ahr() -> None:
    violations = [make_violation(n, points=12) for n in range(3)]
    shop = make_shop(region="PH")
    reply = shop_card(
        make_detail(shop=shop, health=make_health(ahr=None, ahr_1d=None, ahr_7d=None), violations=violations)
    )
    check_limits(reply)
    text = payload_text(reply)
    assert "*Penalty points* (48-point system)\n🔴 *36* / 48 in 180 days" in text and "critical at 36" in text
    assert "AHR" not in text and "milestone" not in text.lower() and "Shop Health Rating" not in text
    assert "SPS last 30 days" in text


def test_48_point_shop_card_ignores_an_imported_ahr_everywhere() -> None:
    # DOMAIN.md:67 "never show AHR advice to a 48-point shop", not even in the notification text
    reply = shop_card(make_detail(shop=make_shop(region="MY")))
    assert "AHR" not in payload_text(reply)
    assert "milestone" not in payload_text(reply).lower()
    assert "AHR" not in reply.text


def test_uk_shop_card_follows_the_setting() -> None:
    shop = make_shop(region="UK")
    assert "Penalty points" in payload_text(shop_card(make_detail(shop=shop), uk_48_point=True))
    assert "Penalty points" not in payload_text(shop_card(make_detail(shop=shop), uk_48_point=False))


# ---- escaping ----


NASTY = "<!channel> Tom & Jerry's <b>"


def test_builders_escape_user_text_in_blocks() -> None:
    detail = make_detail(
        shop=make_shop(shop_name=NASTY, shop_code="A&B<1>", region="US"),
        accounts=[AccountHealth("a<b>&c", 300, 300, 300)],
        violations=[make_violation(1, policy="Fake <reviews> & more")],
    )
    reply = shop_card(detail)
    assert_escaped(reply)
    nasty = make_shop(shop_code="A&B<1>", shop_name=NASTY, region="<US>")
    assert "Tom &amp; Jerry's &lt;b&gt;" in payload_text(pick_list([nasty], {}, title="t"))
    assert_escaped(pick_list([nasty], {nasty.shop_id: make_health()}, title="t", more=2))
    assert_escaped(message(NASTY))
    reasons_row = row(1, shop_name=NASTY, reasons=("a < b & c",))
    assert_escaped(
        seller_list_card("t", Page([reasons_row], 1, 0, 10), command="x", window=Window.DAY, empty="e")
    )


def test_seller_list_escapes_the_shop_code() -> None:
    page = Page([row(1, shop_code="A&B<1>")], 1, 0, 10)
    assert_escaped(seller_list_card("t", page, command="x", window=Window.DAY, empty="e"))


def test_notification_text_is_escaped_too() -> None:
    # The top-level `text` is mrkdwn as well (notifications, and the fallback): <!channel> must not ping.
    reply = message(f"No seller matches “{NASTY}”")
    assert "<!channel>" not in reply.text
    assert "&lt;!channel&gt;" in reply.text


@pytest.mark.parametrize("name", ["", " ", "*", "`", "_"])
def test_odd_names_still_give_valid_payloads(name: str) -> None:
    reply = seller_list_card(
        "t", Page([row(1, shop_name=name or "x")], 1, 0, 10), command="x", window=Window.DAY, empty="e"
    )
    check_limits(reply)


def test_sparkline() -> None:
    assert sparkline([]) == ""
    assert sparkline([None, None]) == ""
    assert sparkline([0, 7]) == "▁█"
    assert sparkline([5, None, 5]) == "▄ ▄"  # flat: level at mid height, not all-minimum bars
    assert sparkline([0, 0, 0]) == "▄▄▄"


def test_a_seller_missing_only_the_data_compass_scope_has_an_open_card() -> None:
    page = Page(rows=[row(3, chr_authorized=False)], total=1, offset=0, limit=10)
    (only,) = [
        b
        for b in seller_list_card("List", page, command="list", window=Window.DAY, empty="").blocks
        if b.get("accessory")
    ]
    assert only["accessory"]["text"]["text"] == "Open card"
    assert (
        "CHR - (no Data Compass scope)" in only["text"]["text"] and "🟡 AHR 179 Fair" in only["text"]["text"]
    )


# ---- what happened and what to do first ----


def card_findings(detail: ShopDetail, **facts: Any) -> list[domain.Finding]:
    """The findings `bot.domain.findings` gives for this card's seller, as the command passes them."""
    h, shop = detail.health, detail.shop
    assert h is not None
    values: dict[str, Any] = {
        "region": shop.region,
        "authorized": shop.authorized,
        "chr_authorized": shop.chr_authorized,
        "points_region": False,
        "ahr": h.ahr,
        "ahr_then": h.ahr_1d,
        "sps_tenths": h.sps_tenths,
        "sps_tenths_then": h.sps_tenths_1d,
        "chr": h.chr,
        "chr_then": h.chr_1d,
    }
    values.update(facts)
    return domain.findings(
        domain.Facts(**values),
        today=TODAY,
        window=Window.DAY,
        since=dt.datetime(2026, 11, 23, tzinfo=dt.UTC),
    )


def primary_buttons(reply: Reply) -> list[str]:
    return [
        e["text"]["text"]
        for b in reply.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("style") == "primary"
    ]


def test_a_restricted_shop_says_what_happened_behind_the_drop_and_what_to_do() -> None:
    # 152 -> 112 yesterday: 150 reached, restricted for 7 days, the violations that did it
    health = make_health(ahr=112, ahr_1d=152, ahr_7d=160)
    violations = [
        make_violation(1, policy="Late dispatch", points=12, notified_at=TODAY - dt.timedelta(days=1)),
        make_violation(2, policy="Counterfeit listing", points=28, notified_at=TODAY - dt.timedelta(days=1)),
        make_violation(3, policy="Old one", points=4, notified_at=TODAY - dt.timedelta(days=40)),
    ]
    detail = make_detail(health=health, violations=violations)
    detail.shop_violations.recent.extend(
        sorted(
            (v for v in violations if v.notified_at >= TODAY - dt.timedelta(days=6)), key=lambda v: -v.points
        )
    )
    until = TODAY + dt.timedelta(days=6)
    found = card_findings(detail, restricted_until=until, restriction=150)
    reply = shop_card(detail, findings=found)
    check_limits(reply)
    assert reply.blocks[0]["text"]["text"] == "🔴 Glow Beauty"
    lead = reply.blocks[2]["text"]["text"]
    assert lead.startswith("*What happened*") and "152 → 112" in lead and f"{until:%b %-d}" in lead
    behind = reply.blocks[3]["text"]["text"]
    assert behind.startswith("*Behind the drop*")
    assert behind.index("Counterfeit listing · 28 points") < behind.index("Late dispatch · 12 points")
    assert "Old one" not in behind
    assert reply.blocks[4]["text"]["text"].startswith("*What to do first*\nIn Seller Center")
    assert primary_buttons(reply) == ["Visit Seller Center"]
    assert "112" in reply.text and "152 → 112" in reply.text


def test_a_drop_with_no_violation_imported_says_so() -> None:
    detail = make_detail(health=make_health(ahr=400, ahr_1d=435, ahr_7d=435))
    reply = shop_card(detail, findings=card_findings(detail))
    text = payload_text(reply)
    assert "• AHR fell 35 since yesterday (435 → 400)" in reply.blocks[2]["text"]["text"]
    assert "No violation of the last 7 days is imported" in text


def test_an_appeal_due_in_three_days_turns_a_healthy_header_red() -> None:
    health = make_health(
        ahr=900, ahr_1d=900, ahr_7d=900, sps_tenths=45, sps_tenths_1d=45, chr=900, chr_1d=900
    )
    detail = make_detail(health=health, accounts=[AccountHealth("glow.official", 900, 900, 900)])
    appeal = domain.Appeal(TODAY + dt.timedelta(days=3), "Late dispatch", 12)
    reply = shop_card(detail, findings=card_findings(detail, appeal=appeal))
    assert reply.blocks[0]["text"]["text"] == "🔴 Glow Beauty"
    assert "Appeal Late dispatch (12 pts) by Nov 27, in 3 days" in reply.blocks[2]["text"]["text"]
    assert primary_buttons(reply) == ["Visit Seller Center"]
    # and the same shop with nothing open is green, says so, and spends no field on a far milestone
    calm = shop_card(detail, findings=card_findings(detail))
    assert calm.blocks[0]["text"]["text"] == "🟢 Glow Beauty"
    assert "Nothing needs action today" in calm.blocks[2]["text"]["text"]
    assert "Next milestone" not in payload_text(calm) and primary_buttons(calm) == []


def test_a_card_has_at_most_one_primary_button() -> None:
    for shop in (
        make_shop(),
        make_shop(authorized=False, chr_authorized=False),
        make_shop(chr_authorized=False),
    ):
        detail = make_detail(shop=shop)
        found = card_findings(detail) if shop.authorized else []
        assert len(primary_buttons(shop_card(detail, findings=found))) <= 1
    no_chr = make_detail(shop=make_shop(chr_authorized=False), health=make_health(ahr=900, ahr_1d=900))
    assert primary_buttons(shop_card(no_chr)) == ["Request authorization"]


def test_unauthorized_sellers_are_grouped_by_what_is_missing() -> None:
    rows = [
        row(1, authorized=False, chr_authorized=False),
        row(2, authorized=False),
        row(3, chr_authorized=False),
    ]

    def card(offset: int, shown: list[SellerRow]) -> list[str]:
        page = Page(rows=shown, total=3, offset=offset, limit=2)
        reply = seller_list_card(
            "Unauthorized",
            page,
            command="unauthorized",
            window=Window.DAY,
            empty="",
            heading=lambda r: access_heading(r, no_access=2, no_chr=1),
        )
        check_limits(reply)
        # headings up to their colon, rows by their bold name
        return [
            b["text"]["text"].split(":")[0]
            if "\n" not in b["text"]["text"]
            else b["text"]["text"].split(" `")[0]
            for b in reply.blocks
            if b["type"] == "section"
        ]

    assert card(0, rows[:2]) == ["*No shop access* (2 sellers)", "*Shop 1*", "*Shop 2*"]
    assert card(2, rows[2:]) == ["*Missing only the Data Compass scope* (1 seller)", "*Shop 3*"]
    assert card(0, rows) == [
        "*No shop access* (2 sellers)",
        "*Shop 1*",
        "*Shop 2*",
        "*Missing only the Data Compass scope* (1 seller)",
        "*Shop 3*",
    ]
