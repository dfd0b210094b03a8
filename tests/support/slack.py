"""Signed requests built the way Slack builds them, and the app they go to.

Most tests hand a signed request to `app.dispatch` (fast: the whole middleware chain, signature
check included, without a socket); a few send it over real HTTP to the app behind its web routes.
Either way the Slack Web API is the local FakeSlack: nothing of ours is patched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr
from slack_bolt import BoltRequest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.orm import Session, sessionmaker

from bot.playground.fakeslack import FakeSlack
from bot.settings import Settings
from bot.web.app import HealthApp, create_app
from bot.web.routes import create_web_app
from bot.web.server import LocalServer

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token"
HOME_TEAM = "T1"


@dataclass
class Answer:
    """The app's answer to one request, whichever way it went."""

    status_code: int
    text: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.text)


Transport = Callable[[str, dict[str, str]], Answer]


def dispatch_to(app: HealthApp, *, settle: bool = True) -> Transport:
    """Hand the request to `app.dispatch`, as Bolt's adapters do after reading it off the wire.
    With `settle`, wait for the work the app does after answering, so a test sees its effects."""

    def send(body: str, headers: dict[str, str]) -> Answer:
        response = app.dispatch(BoltRequest(body=body, headers={k.lower(): v for k, v in headers.items()}))
        if settle:
            assert app.deps.later.wait(10), "background work did not finish"
        return Answer(response.status, response.body, {k: ", ".join(v) for k, v in response.headers.items()})

    return send


def http_to(base_url: str, client: httpx.Client, app: HealthApp | None = None) -> Transport:
    def send(body: str, headers: dict[str, str]) -> Answer:
        response = client.post(f"{base_url}/slack/events", content=body.encode(), headers=headers)
        if app is not None:
            assert app.deps.later.wait(10), "background work did not finish"
        return Answer(response.status_code, response.text, dict(response.headers))

    return send


class SlackSender:
    def __init__(
        self, transport: Transport, response_url: Callable[[str], str], secret: str = SIGNING_SECRET
    ) -> None:
        self.transport = transport
        self.response_url = response_url  # name -> URL on the fake Slack
        self.verifier = SignatureVerifier(secret)
        self.counter = 0

    def post(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> Answer:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        sig = signature or self.verifier.generate_signature(timestamp=ts, body=body)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig or "",
            **(headers or {}),
        }
        return self.transport(body, all_headers)

    def command_body(
        self,
        text: str,
        *,
        user_id: str = "U1",
        channel_id: str = "C1",
        name: str | None = None,
        team_id: str = HOME_TEAM,
    ) -> str:
        self.counter += 1
        return urllib.parse.urlencode(
            {
                "token": "legacy",
                "team_id": team_id,
                "team_domain": "test",
                "channel_id": channel_id,
                "channel_name": "seller-health",
                "user_id": user_id,
                "user_name": "manager",
                "command": "/health",
                "text": text,
                "api_app_id": "A1",
                "response_url": self.response_url(name or f"cmd{self.counter}"),
                "trigger_id": f"trigger.{self.counter}",
            }
        )

    def command(self, text: str, **kwargs: Any) -> Answer:
        return self.post(self.command_body(text, **kwargs))

    def action_payload(
        self,
        action_id: str,
        value: str | None,
        *,
        user_id: str = "U1",
        channel_id: str = "C1",
        message_ts: str = "1700000000.000100",
        action_ts: str | None = None,
        name: str | None = None,
        url: str | None = None,
        team_id: str = HOME_TEAM,
    ) -> dict[str, Any]:
        self.counter += 1
        action: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "block_id": "b1",
            "text": {"type": "plain_text", "text": "button"},
            "action_ts": action_ts or f"{time.time():.6f}",
        }
        if value is not None:
            action["value"] = value
        if url:
            action["url"] = url
        return {
            "type": "block_actions",
            "team": {"id": team_id, "domain": "test"},
            "user": {"id": user_id, "username": "manager", "team_id": team_id},
            "api_app_id": "A1",
            "token": "legacy",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": True,
            },
            "trigger_id": f"trigger.{self.counter}",
            "channel": {"id": channel_id, "name": "seller-health"},
            "response_url": self.response_url(name or f"act{self.counter}"),
            "actions": [action],
        }

    def action_body(self, action_id: str, value: str | None, **kwargs: Any) -> str:
        return self.payload_body(self.action_payload(action_id, value, **kwargs))

    @staticmethod
    def payload_body(payload: dict[str, Any]) -> str:
        return urllib.parse.urlencode({"payload": json.dumps(payload)})

    def action(self, action_id: str, value: str | None, **kwargs: Any) -> Answer:
        return self.post(self.action_body(action_id, value, **kwargs))

    def payload(self, payload: dict[str, Any]) -> Answer:
        """Any interactivity payload (block_actions, view_submission), signed."""
        return self.post(self.payload_body(payload))

    def view_submission(
        self,
        callback_id: str,
        private_metadata: str,
        values: dict[str, Any],
        *,
        user_id: str = "U1",
        view_id: str = "VMODAL1",
        view_hash: str = "1700000000.abcdef",
        team_id: str = HOME_TEAM,
    ) -> Answer:
        """A modal's submission as Slack sends it (its state holds the inputs' values)."""
        self.counter += 1
        return self.payload(
            {
                "type": "view_submission",
                "team": {"id": team_id, "domain": "test"},
                "user": {"id": user_id, "username": "manager", "team_id": team_id},
                "api_app_id": "A1",
                "token": "legacy",
                "trigger_id": f"trigger.{self.counter}",
                "view": {
                    "id": view_id,
                    "team_id": team_id,
                    "type": "modal",
                    "callback_id": callback_id,
                    "private_metadata": private_metadata,
                    "hash": view_hash,
                    "title": {"type": "plain_text", "text": "Modal"},
                    "blocks": [],
                    "state": {"values": values},
                },
                "response_urls": [],
            }
        )

    def event(self, event: dict[str, Any], *, team_id: str = HOME_TEAM) -> Answer:
        body = {
            "token": "legacy",
            "team_id": team_id,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{self.counter:08d}",
            "event_time": int(time.time()),
            "event": event,
        }
        self.counter += 1
        return self.post(json.dumps(body), content_type="application/json")


def find_buttons(blocks: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """Every button in the blocks whose action_id starts with the prefix."""
    found = []
    for block in blocks:
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements.append(block["accessory"])
        found += [
            e for e in elements if e.get("type") == "button" and e.get("action_id", "").startswith(prefix)
        ]
    return found


def text_of(blocks: Any) -> str:
    """The text a person sees in blocks (or a view): every `text`, never a button's hidden value,
    action ID or URL."""
    seen: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "alt_text") and isinstance(value, str):
                    seen.append(value)
                elif key not in ("value", "action_id", "block_id", "url", "private_metadata", "callback_id"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(seen)


@dataclass
class Env:
    slack: FakeSlack
    sender: SlackSender
    app: HealthApp
    factory: sessionmaker[Session]
    settings: Settings
    today: dt.date  # what the handlers call today
    url: str = ""  # the server's base URL, when served over HTTP

    def settle(self) -> None:
        """Wait for the work the app does after answering (chart uploads and the like)."""
        assert self.app.deps.later.wait(10), "background work did not finish"


def configure(settings: Settings, slack: FakeSlack, **overrides: Any) -> Settings:
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": slack.api_url,
            "healthbot_service_id": "7001",  # request links need it (tests of its absence override it)
            **overrides,
        }
    )


@contextlib.contextmanager
def running_app(
    factory: sessionmaker[Session], settings: Settings, *, http: bool = False, **overrides: Any
) -> Iterator[Env]:
    """`create_app` with the local fake Slack as its Web API; requests go to `app.dispatch`, or with
    `http=True` over real HTTP to the app behind its web routes on a free port."""
    with FakeSlack() as slack:
        configured = configure(settings, slack, **overrides)
        app = create_app(configured, factory=factory)
        today = configured.today()
        try:
            if not http:
                yield Env(
                    slack, SlackSender(dispatch_to(app), slack.response_url), app, factory, configured, today
                )
                return
            with LocalServer(create_web_app(app, app.deps)) as server, httpx.Client(timeout=10) as client:
                sender = SlackSender(http_to(server.url, client, app), slack.response_url)
                yield Env(slack, sender, app, factory, configured, today, url=server.url)
        finally:
            app.deps.later.wait(10)
            app.deps.later.shutdown()
