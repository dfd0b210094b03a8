"""The local playground's server side, over real HTTP (no browser): page, commands, clicks, feed.

The playground signs what the page sends and posts it to the app's own `/slack/events`, so these
tests also prove the round trip through the real Bolt listeners.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.ingest.demo import DemoSize
from bot.playground.core import Playground, serve_playground
from bot.playground.payloads import PLAYGROUND_CHANNEL
from bot.settings import Settings

SMALL_DEMO = DemoSize(shops=60, days=30)


def _settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'playground.db'}")


@pytest.fixture(scope="module")
def db_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("playground")


@pytest.fixture(scope="module")
def playground(db_dir: Path) -> Iterator[Playground]:
    with Playground(_settings(db_dir), port=0, demo_size=SMALL_DEMO) as running:
        yield running


@pytest.fixture(scope="module")
def http(playground: Playground) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=playground.url, timeout=15) as client:
        yield client


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button in a message: section accessories and actions elements."""
    found = []
    for block in blocks:
        elements = [block.get("accessory")] if block.get("accessory") else block.get("elements") or []
        found += [e for e in elements if isinstance(e, dict) and e.get("type") == "button"]
    return found


def text_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def command(http: httpx.Client, text: str) -> dict[str, Any]:
    response = http.post("/playground/api/command", json={"text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def click(
    http: httpx.Client, button: dict[str, Any], message: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    response = http.post(
        "/playground/api/action",
        json={
            "action_id": button["action_id"],
            "value": button.get("value"),
            "type": "button",
            "message": {"ts": message.get("ts", "1800000000.000100"), "is_ephemeral": True, **message},
            **extra,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def atrisk(http: httpx.Client) -> dict[str, Any]:
    message: dict[str, Any] = command(http, "/health atrisk")["message"]
    return message


def test_demo_data_is_seeded_on_first_start_only(playground: Playground, db_dir: Path) -> None:
    assert playground.demo_loaded
    again = Playground(_settings(db_dir), port=0, demo_size=SMALL_DEMO).start()
    try:
        assert not again.demo_loaded
    finally:
        again.stop()


def test_page_and_its_assets_are_served(http: httpx.Client, playground: Playground) -> None:
    page = http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Channel &amp; DM posts" in page.text
    assert 'value="/health atrisk"' in page.text
    assert "https://" not in page.text  # no CDN: the page works offline
    for name, kind in (("playground.js", "javascript"), ("playground.css", "css")):
        asset = http.get(f"/playground/static/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"]
    script = http.get("/playground/static/playground.js").text
    assert ".innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script
    assert http.get("/playground/static/__init__.py").status_code == 404
    assert http.get("/playground/static/../__init__.py").status_code == 404
    assert http.get("/nothing-here").status_code == 404
    assert http.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("text", ["/health atrisk", "atrisk", "  /health   atrisk "])
def test_command_returns_seller_rows(http: httpx.Client, text: str) -> None:
    body = command(http, text)
    message = body["message"]
    assert message["response_type"] == "ephemeral"
    assert "Sellers needing action" in text_of(message["blocks"])
    labels = [b["text"]["text"] for b in buttons(message["blocks"])]
    assert "Open card" in labels and "Share to channel" in labels
    assert body["response_name"] and isinstance(body["next"], int)


def test_only_health_exists(http: httpx.Client) -> None:
    response = http.post("/playground/api/command", json={"text": "/weather today"})
    assert response.status_code == 400
    assert "/health help" in response.json()["error"]


def test_open_card_button_shows_the_shop_card(http: httpx.Client) -> None:
    message = atrisk(http)
    open_card = next(b for b in buttons(message["blocks"]) if b["text"]["text"] == "Open card")
    result = click(http, open_card, message, response_name="open-card-test")
    replies = [e for e in result["events"] if e["kind"] == "response" and e["name"] == "open-card-test"]
    assert len(replies) == 1
    card = replies[0]
    assert "Next milestone" in text_of(card["blocks"]) or "Visit Seller Center" in text_of(card["blocks"])
    assert card["response_type"] == "ephemeral" and card["replace_original"] is False
    shop_id = json.loads(open_card["value"])["shop_id"]
    assert shop_id in text_of(card["blocks"])


def test_share_to_channel_shows_up_in_the_feed(http: httpx.Client) -> None:
    since = http.get("/playground/api/feed", params={"since": "end"}).json()["next"]
    message = atrisk(http)
    share = next(b for b in buttons(message["blocks"]) if b["text"]["text"] == "Share to channel")
    result = click(http, share, {"ts": "1800000001.000100", **message})
    posts = [e for e in result["events"] if e["kind"] == "post"]
    assert len(posts) == 1 and posts[0]["channel"] == PLAYGROUND_CHANNEL
    assert "Sellers needing action" in text_of(posts[0]["blocks"])

    feed = http.get("/playground/api/feed", params={"since": since}).json()
    assert [e["index"] for e in feed["events"] if e["kind"] == "post"] == [posts[0]["index"]]
    assert feed["next"] > since
    # Events keep their index: asking again from `next` gives nothing new.
    assert http.get("/playground/api/feed", params={"since": feed["next"]}).json()["events"] == []


def test_request_link_goes_to_a_dm_in_the_feed(http: httpx.Client) -> None:
    message = command(http, "unauthorized")["message"]
    send = next(b for b in buttons(message["blocks"]) if b["action_id"].startswith("request_authorization"))
    result = click(http, send, message)
    kinds = {e["kind"]: e for e in result["events"]}
    assert kinds["post"]["channel"].startswith(("D", "C"))
    assert "request" in kinds["post"]["text"].lower()
    assert "sent to" in kinds["response"]["text"]


def test_show_more_replaces_the_page(http: httpx.Client) -> None:
    message = atrisk(http)
    more = next(b for b in buttons(message["blocks"]) if b["action_id"].startswith("show_more"))
    result = click(http, more, message)
    reply = next(e for e in result["events"] if e["kind"] == "response")
    assert reply["replace_original"] is True
    assert "11-" in text_of(reply["blocks"])


def test_home_tab_is_published_through_the_app_home_event(http: httpx.Client) -> None:
    response = http.post("/playground/api/home", json={})
    assert response.status_code == 200, response.text
    homes = [e for e in response.json()["events"] if e["kind"] == "home"]
    assert len(homes) == 1 and homes[0]["user"] == "UPLAYGROUND"
    view = homes[0]["view"]
    assert view["type"] == "home" and view["id"] and view["blocks"]


def test_no_secret_ever_reaches_the_page(http: httpx.Client, playground: Playground) -> None:
    atrisk(http)
    feed = http.get("/playground/api/feed", params={"since": 0}).text
    assert playground._secret not in feed
    assert "xoxb" not in feed
    assert "bearer" not in feed.lower()


def test_rejects_other_hosts_and_non_json(playground: Playground) -> None:
    with httpx.Client(timeout=5) as client:
        foreign = client.get(
            f"{playground.url}playground/api/feed", headers={"Host": f"evil.example:{playground.port}"}
        )
        assert foreign.status_code == 403
        form = client.post(f"{playground.url}playground/api/command", data={"text": "atrisk"})
        assert form.status_code == 400
        assert client.get(f"{playground.url}playground/api/command").status_code == 405
        # The app's own endpoint still checks Slack signatures: the page cannot skip the signer.
        unsigned = client.post(
            f"{playground.url}slack/events",
            content=b"command=/health&text=atrisk",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert unsigned.status_code == 401


def test_serve_playground_prints_the_url(
    db_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(Playground, "serve_forever", lambda self: None)  # return at once instead of serving
    code = serve_playground(_settings(db_dir), port=0)
    out = capsys.readouterr().out
    assert code == 0
    assert "Playground: http://127.0.0.1:" in out and "(demo data; no Slack needed)" in out


def test_events_for_files_updates_and_deletes(playground: Playground) -> None:
    """The feed knows every Web API call the page shows, not only plain posts."""
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-playground", base_url=playground.fake.api_url)
    since = len(playground.fake.calls)
    posted = client.chat_postMessage(channel="C1", text="hello")
    client.chat_update(channel="C1", ts=posted["ts"], text="hello again")
    client.chat_delete(channel="C1", ts=posted["ts"])
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 32
    upload = client.files_upload_v2(channel="C1", content=png, filename="trend.png", title="Trend")
    file_id = upload["files"][0]["id"]
    events, _ = playground.events(since=since)
    assert [e["kind"] for e in events] == ["post", "update", "delete", "file"]
    assert events[3]["files"][0]["title"] == "Trend"
    with httpx.Client(timeout=5) as http:
        image = http.get(f"{playground.url}playground/api/file/{file_id}")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content == png
        assert http.get(f"{playground.url}playground/api/file/F404").status_code == 404


def test_a_dropped_file_reaches_the_bot_as_a_dm_upload(http: httpx.Client, playground: Playground) -> None:
    import base64

    from tests.support.files import HEALTH_LIST_HEADER, csv_bytes

    day = playground.settings.today().isoformat()
    data = csv_bytes(HEALTH_LIST_HEADER, ["Demo", "US00001", "7000000001", 700, 4.1, 900, 0, 0, 0])
    content = base64.b64encode(data).decode()
    response = http.post(
        "/playground/api/upload", json={"files": [{"name": f"hl-{day}.csv", "content": content}]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["channel"] == "DUPLAYGROUND"
    (post,) = [e for e in body["events"] if e["kind"] == "post" and e["thread_ts"] == body["ts"]]
    assert "Health List (Partner Center): 1 row imported" in text_of(post["blocks"])
    download = playground.fake.calls_to("download")[-1]
    assert download.token == "xoxb-playground"  # fetched with the bot token, as from Slack

    refused = http.post("/playground/api/upload", json={"files": [{"name": "x.csv", "content": "%%%"}]})
    assert refused.status_code == 400 and "not valid base64" in refused.json()["error"]


def test_the_console_stays_quiet_while_the_page_is_used(
    http: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    """`healthbot serve` logs as `bot.logs.configure` sets it up: no line per request from httpx
    (the page's signed posts, the bot's Web API calls) or from the web server."""
    import logging

    from bot import logs

    root = logging.getLogger()
    saved = root.handlers[:], root.level, {name: logging.getLogger(name).level for name in logs.QUIET}
    logs.configure()
    try:
        capsys.readouterr()
        for text in ("/health atrisk", "/health overview", "/health shop US00003"):
            command(http, text)
        http.get("/playground/api/feed", params={"since": 0})
        console = capsys.readouterr()
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
    assert console.err == "" and console.out == "", console.err + console.out


def test_typed_channel_and_user_mentions_resolve_as_in_slack(
    http: httpx.Client, playground: Playground
) -> None:
    """Slack turns a typed #channel and @person into <#C…|name> and <@U…> (should_escape); the
    playground does the same from its fake Slack's channels and people."""
    reply = command(http, "/health digest subscribe #playground at 09:00 tz Europe/Berlin skip-quiet")
    said = text_of(reply["message"]["blocks"])
    assert f"<#{PLAYGROUND_CHANNEL}> will get the daily digest at 09:00 (Europe/Berlin)" in said
    assert "Quiet days are skipped" in said
    reply = command(http, "/health assign US00055 @U00000003")
    assert "is now owned by <@U00000003>" in text_of(reply["message"]["blocks"])
    reply = command(http, "/health assign US00055 @kenji")
    assert "is now owned by <@U00000004>" in text_of(reply["message"]["blocks"])
    # What Slack cannot resolve stays as typed, and the bot says so.
    reply = command(http, "/health digest subscribe #nowhere")
    assert "I can't tell which channel `#nowhere` is" in text_of(reply["message"]["blocks"])
    workspace = http.get("/playground/api/workspace").json()
    assert workspace["channels"][PLAYGROUND_CHANNEL] == "playground"
    assert workspace["people"]["U00000003"] == "aisha"
    command(http, "/health digest unsubscribe #playground")


def _two_hours_ahead() -> tuple[str, str]:
    """A zone and a time there two hours from now, the same local day: a digest not yet due."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    for zone in ("Etc/GMT+12", "Etc/GMT", "Etc/GMT-12"):  # 12 hours apart: one is before 22:00
        local = dt.datetime.now(ZoneInfo(zone))
        if local.hour < 22:
            return zone, f"{local.hour + 2:02d}:{local.minute:02d}"
    raise AssertionError("unreachable: the three zones are 12 hours apart")


def test_run_due_digests_posts_them_into_the_side_panel(http: httpx.Client) -> None:
    def run() -> dict[str, Any]:
        response = http.post("/playground/api/digests", json={})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    assert run()["summary"] == [
        "No channel is subscribed to the digest yet: try `/health digest subscribe #playground at 09:00 "
        "tz Europe/Berlin skip-quiet`, then run the due digests again."
    ]
    zone, at = _two_hours_ahead()
    command(http, f"/health digest subscribe #seller-health at {at} tz {zone}")
    command(http, "/health digest subscribe #playground at 00:00 tz Europe/Berlin")  # due all day
    first = run()
    posts = [e for e in first["events"] if e["kind"] == "post" and not e["thread_ts"]]
    assert [p["channel"] for p in posts] == [PLAYGROUND_CHANNEL]
    assert "need action" in text_of(posts[0]["blocks"])
    assert "#playground: digest posted." in first["summary"]
    (later,) = [line for line in first["summary"] if line.startswith("#seller-health")]
    assert later.startswith(f"#seller-health: due at {at} {zone} (it is ") and later.endswith("not yet.")
    again = run()
    assert not [e for e in again["events"] if e["kind"] == "post"]
    assert any(line.startswith("#playground: today's digest was already posted") for line in again["summary"])
    for channel in ("#playground", "#seller-health"):
        command(http, f"/health digest unsubscribe {channel}")


def test_every_emoji_name_the_bot_writes_is_drawn_by_the_page() -> None:
    # The page turns :name: into the emoji itself; one it does not know shows as raw text.
    root = Path(__file__).resolve().parents[2]
    page = (root / "bot" / "playground" / "playground.js").read_text(encoding="utf-8")
    known = set(re.findall(r'"?([a-z0-9_+\-]+)"?: "', page))
    written = {
        name
        for folder in ("blocks", "bot", "handlers", "jobs")
        for path in (root / folder).rglob("*.py")
        for name in re.findall(
            r"(?<![\w:]):([a-z][a-z0-9_]*[a-z]):(?![\w:])", path.read_text(encoding="utf-8")
        )
    } - {"memory"}  # sqlite:///:memory:, not an emoji
    assert written and written <= known, sorted(written - known)
