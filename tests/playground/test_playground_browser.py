"""The playground page in a real browser: Debian's headless Chromium driven by Playwright.

Uses the system browser at /usr/bin/chromium (never `playwright install`). Skips, saying why,
only when that browser or the `playwright` package is missing. Saves screenshots to
`test-artifacts/` (playground.png; card.png and digest.png, which the README shows from docs/).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import db
from bot.db.models import ButtonClick
from bot.ingest.demo import DemoSize
from bot.playground.core import Playground
from bot.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # the repository's, gitignored
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing (Debian: apt-get install chromium); the browser test needs it",
        allow_module_level=True,
    )
playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
)


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Playground]:
    database = tmp_path_factory.mktemp("browser") / "playground.db"
    settings = Settings(_env_file=None, database_url=f"sqlite:///{database}")
    with Playground(settings, port=0, demo_size=DemoSize(shops=60, days=30)) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def test_atrisk_open_card_and_share_in_the_browser(playground: Playground, browser: Any) -> None:
    expect = playwright_sync.expect
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    # Offline, like a laptop on a plane: the page itself must load nothing from elsewhere (no CDN,
    # no web font); links the user opens are recorded and not followed.
    outside: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith(playground.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", offline)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    try:
        page.goto(playground.url)
        expect(page.locator("#command")).to_have_value("/health atrisk")

        page.locator("#command").fill("/health atrisk")
        page.locator("#command").press("Enter")
        messages = page.locator("#messages")
        reply = messages.locator(".message.ephemeral").filter(has_text="Sellers needing action")
        expect(reply).to_have_count(1)
        expect(reply.locator(".only-you")).to_have_text("👁 Only visible to you")
        expect(reply.locator(".bk-header")).to_contain_text("Sellers needing action")
        rows = reply.locator(".bk-section").filter(has=page.get_by_role("button", name="Open card"))
        assert rows.count() >= 3
        # mrkdwn is rendered, not shown raw: bold names, code-styled shop codes, no asterisks left.
        first_row = rows.first
        expect(first_row.locator("b").first).to_be_visible()
        expect(first_row.locator("code").first).to_be_visible()
        assert "*" not in first_row.locator(".bk-section-text").inner_text()
        seller = first_row.locator("b").first.inner_text()

        first_row.get_by_role("button", name="Open card").click()
        card = messages.locator(".message").filter(has=page.locator(".bk-header", has_text=seller))
        expect(card).to_have_count(1)
        # what happened and what to do lead the card, before any score
        expect(card.locator(".bk-section").first).to_contain_text("What happened")
        expect(card.locator(".bk-fields .bk-field").first).to_be_visible()
        expect(card.get_by_role("button", name="Visit Seller Center")).to_be_visible()

        feed = page.locator("#feed")
        expect(feed.locator(".post")).to_have_count(0)
        card.get_by_role("button", name="Share to channel").click()
        post = feed.locator(".post")
        expect(post).to_have_count(1)
        expect(post.locator(".post-where")).to_have_text("Posted in #playground")
        expect(post).to_contain_text(seller)
        expect(post).to_contain_text("Shared by @you")

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "playground.png"), animations="disabled")
        assert (ARTIFACTS / "playground.png").stat().st_size > 10_000
        card.screenshot(path=str(ARTIFACTS / "card.png"), animations="disabled")  # the README's
        assert (ARTIFACTS / "card.png").stat().st_size > 10_000
        assert not problems, problems
        assert outside == [], "the page loaded something from outside the playground"

        # A URL button opens its link in a new tab and still sends the click to the app.
        visit = card.get_by_role("button", name="Visit Seller Center")
        with page.expect_popup(), page.expect_response("**/playground/api/action") as clicked:
            visit.click()
        assert clicked.value.status == 200
        assert any("shop_id=" in url for url in outside), outside
        with db.session_factory(db.make_engine(playground.settings.database_url))() as session:
            assert session.scalar(select(func.count()).select_from(ButtonClick)) == 1
    finally:
        context.close()


RICH_BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Digest :warning:", "emoji": True}},
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*Bold* _italic_ `code` <https://example.com/a?b=1&amp;c=2|a link> <@U123> <#C777|sellers> "
            ":rotating_light: &lt;img src=x onerror=window.__xss=1&gt;",
        },
        "fields": [{"type": "mrkdwn", "text": "*AHR*\n120"}, {"type": "mrkdwn", "text": "*SPS*\n3.1"}],
        "accessory": {
            "type": "overflow",
            "action_id": "shop_menu:0",
            "options": [
                {"text": {"type": "plain_text", "text": "Acknowledge"}, "value": "ack"},
                {"text": {"type": "plain_text", "text": "Snooze 1 day"}, "value": "snooze"},
            ],
        },
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "small grey <script>alert(1)</script>"}]},
    {"type": "divider"},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "a1",
                "text": {"type": "plain_text", "text": "Go"},
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": "a2",
                "text": {"type": "plain_text", "text": "Stop"},
                "style": "danger",
            },
            {
                "type": "button",
                "action_id": "a3",
                "text": {"type": "plain_text", "text": "Open site"},
                "url": "https://example.com/health",
            },
        ],
    },
    {
        "type": "image",
        "image_url": f"{'http'}://127.0.0.1:9/chart.png",
        "alt_text": "AHR trend",
        "title": {"type": "plain_text", "text": "Trend"},
    },
]


def test_block_kit_elements_render_safely(playground: Playground, browser: Any) -> None:
    """Overflow menus, styled and URL buttons, fields, images; Slack-escaped HTML stays text."""
    from slack_sdk import WebClient

    expect = playwright_sync.expect
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(playground.url) else route.abort(),
    )
    page = context.new_page()
    try:
        # The page starts from where the feed is when it opens: post only after it asked.
        with page.expect_response("**/playground/api/feed?since=end"):
            page.goto(playground.url)
        client = WebClient(token="xoxb-playground", base_url=playground.fake.api_url)
        client.chat_postMessage(channel="C777", text="digest", blocks=RICH_BLOCKS)

        post = page.locator("#feed .post")
        expect(post).to_have_count(1, timeout=5000)
        expect(post.locator(".post-where")).to_have_text("Posted in #C777")
        expect(post.locator(".bk-header")).to_have_text("Digest ⚠️")
        section = post.locator(".bk-section-text")
        expect(section.locator("b")).to_have_text("Bold")
        expect(section.locator("i")).to_have_text("italic")
        expect(section.locator("code")).to_have_text("code")
        link = section.locator("a.link")
        expect(link).to_have_text("a link")
        expect(link).to_have_attribute("href", "https://example.com/a?b=1&c=2")
        expect(link).to_have_attribute("target", "_blank")
        expect(section.locator(".mention")).to_have_text(["@U123", "#sellers"])
        expect(section).to_contain_text("🚨")
        expect(section).to_contain_text("<img src=x onerror=window.__xss=1>")
        expect(post.locator(".bk-fields .bk-field")).to_have_count(2)
        expect(post.locator(".bk-context")).to_contain_text("small grey <script>alert(1)</script>")
        assert post.locator(".bk-section-text img, .bk-context script").count() == 0
        assert page.evaluate("window.__xss") is None

        menu = post.locator(".bk-menu")
        expect(menu).to_be_hidden()
        post.get_by_role("button", name="More actions").click()
        expect(menu).to_be_visible()
        expect(menu.get_by_role("menuitem")).to_have_text(["Acknowledge", "Snooze 1 day"])
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()

        expect(post.get_by_role("button", name="Go")).to_have_class("bk-button primary")
        expect(post.get_by_role("button", name="Stop")).to_have_class("bk-button danger")
        expect(post.get_by_role("button", name="Open site")).to_have_attribute(
            "title", "https://example.com/health"
        )
        image = post.locator(".bk-image img")
        expect(image).to_have_attribute("alt", "AHR trend")
        expect(post.locator(".bk-image figcaption")).to_have_text("Trend")
    finally:
        context.close()


def drop_files(page: Any, target: str, files: list[tuple[str, bytes, str]]) -> None:
    """Drop files onto an element as a person dragging them from their desktop would."""
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, bytes, type] of files) {
                transfer.items.add(new File([new Uint8Array(bytes)], name, { type }));
            }
            return transfer;
        }""",
        [[name, list(data), kind] for name, data, kind in files],
    )
    page.dispatch_event(target, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(target, "drop", {"dataTransfer": transfer})


def test_a_partner_center_export_dropped_on_the_page_is_imported(
    playground: Playground, browser: Any
) -> None:
    from tests.support.files import HEALTH_LIST_HEADER, csv_bytes, xlsx_bytes

    expect = playwright_sync.expect
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    try:
        page.goto(playground.url)
        day = playground.settings.today().isoformat()
        good = csv_bytes(
            HEALTH_LIST_HEADER,
            ["Demo 3", "US00003", "7000000003", 640, 4.4, 5200, 0, 1, 0],
            ["Demo 4", "US00004", "7000000004", "-", "-", "-", 0, 0, 0],
        )
        drop_files(page, "#channel-pane", [(f"Health List {day}.csv", good, "text/csv")])
        messages = page.locator("#messages")
        expect(messages.locator(".upload-echo")).to_contain_text(f"📎 Health List {day}.csv")
        reply = messages.locator(".message").filter(has_text="Health List (Partner Center)")
        expect(reply).to_contain_text("2 rows imported")
        expect(reply.locator(".message-note")).to_have_text("In your DM with the bot")

        bad_rows = [["X", f"X{i}", f"99{i}", 500, 4.0, 1, 0, 0, 0] for i in range(18)]
        drop_files(page, "#channel-pane", [(f"hl-{day}.xlsx", xlsx_bytes(HEALTH_LIST_HEADER, *bad_rows), "")])
        rejected = messages.locator(".message").filter(has_text="rejected, nothing imported")
        expect(rejected).to_contain_text("line 2, column shop_id")
        expect(rejected).to_contain_text("… and 3 more bad rows")
        listed = messages.locator("a.file-link")
        expect(listed).to_have_text("📄 Every bad row")
        with page.expect_download() as saved:
            listed.click()
        assert "line 19, column shop_id" in Path(saved.value.path()).read_text(encoding="utf-8")
        assert not problems, problems
    finally:
        context.close()


def test_mentions_resolve_and_due_digests_run_from_the_side_panel(
    playground: Playground, browser: Any
) -> None:
    """The playground's dead ends of issue 15: a typed #channel and @person resolve as in Slack, and
    with no scheduler running, "Run due digests now" posts the digests that are due."""
    import re

    expect = playwright_sync.expect
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    try:
        with page.expect_response("**/playground/api/workspace"):
            page.goto(playground.url)
        messages, feed = page.locator("#messages"), page.locator("#feed")

        def send(text: str) -> Any:
            page.locator("#command").fill(text)
            page.locator("#command").press("Enter")
            return messages.locator(".message.ephemeral").last

        reply = send("/health digest subscribe #playground at 09:00 tz Europe/Berlin skip-quiet")
        expect(reply).to_contain_text("#playground will get the daily digest at 09:00 (Europe/Berlin)")
        expect(reply.locator(".channel-mention")).to_have_text("#playground")
        reply = send("/health assign US00055 @U00000003")
        expect(reply).to_contain_text("is now owned by @aisha")

        # Due all day from midnight: the button posts it through the bot's own digest job.
        expect(send("/health digest subscribe #playground at 00:00 tz Europe/Berlin")).to_contain_text(
            "at 00:00 (Europe/Berlin)"
        )
        expect(feed.locator(".post")).to_have_count(0)
        page.get_by_role("button", name="Run due digests now").click()
        digest = feed.locator(".post").filter(
            has=page.locator(".bk-header", has_text=re.compile("digest", re.I))
        )
        expect(digest).to_have_count(1)
        expect(digest.locator(".post-where")).to_have_text("Posted in #playground")
        expect(digest).to_contain_text("Act today")  # what must be done today comes first
        ARTIFACTS.mkdir(exist_ok=True)
        # the README's picture at a Slack channel's width (the side panel is narrower)
        page.evaluate("document.querySelector('.app').style.gridTemplateColumns = '220px 1fr 720px'")
        digest.screenshot(path=str(ARTIFACTS / "digest.png"), animations="disabled")  # the README's
        assert (ARTIFACTS / "digest.png").stat().st_size > 10_000
        summary = feed.locator(".post-digests")
        expect(summary).to_contain_text("#playground: digest posted.")
        # Once a day: a second run says so and posts nothing more.
        page.get_by_role("button", name="Run due digests now").click()
        expect(summary.last).to_contain_text("#playground: today's digest was already posted")
        expect(digest).to_have_count(1)
        assert not problems, problems
    finally:
        context.close()
        from bot.services.subscriptions import unsubscribe

        engine = db.make_engine(playground.settings.database_url)
        with db.session_factory(engine)() as session:
            unsubscribe(session, "CPLAYGROUND")  # commits
        engine.dispose()
