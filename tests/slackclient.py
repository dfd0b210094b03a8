"""Signed requests into the app over real HTTP, built the way Slack builds them, and the running
app they go to (the real server, with the local fake Slack behind it)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.localslack import FakeSlack
from bot.server import HttpServer, make_wsgi
from bot.settings import Settings

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token"


class SlackSender:
    def __init__(self, base_url: str, response_url: Any, secret: str = SIGNING_SECRET) -> None:
        self.base_url = base_url
        self.response_url = response_url  # callable: name -> URL on the fake Slack
        self.verifier = SignatureVerifier(secret)
        self.http = httpx.Client(timeout=10)
        self.counter = 0

    def post(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        sig = signature or self.verifier.generate_signature(timestamp=ts, body=body)
        all_headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
            **(headers or {}),
        }
        return self.http.post(f"{self.base_url}/slack/events", content=body.encode(), headers=all_headers)

    def command_body(
        self, text: str, *, user_id: str = "U1", channel_id: str = "C1", name: str | None = None
    ) -> str:
        self.counter += 1
        return urllib.parse.urlencode(
            {
                "token": "legacy",
                "team_id": "T1",
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

    def command(self, text: str, **kwargs: Any) -> httpx.Response:
        return self.post(self.command_body(text, **kwargs))

    def action_body(
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
    ) -> str:
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
        payload = {
            "type": "block_actions",
            "team": {"id": "T1", "domain": "test"},
            "user": {"id": user_id, "username": "manager", "team_id": "T1"},
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
        return urllib.parse.urlencode({"payload": json.dumps(payload)})

    def action(self, action_id: str, value: str | None, **kwargs: Any) -> httpx.Response:
        return self.post(self.action_body(action_id, value, **kwargs))


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


def text_of(blocks: list[dict[str, Any]]) -> str:
    """All visible text in blocks, for assertions."""
    return json.dumps(blocks, ensure_ascii=False)


@dataclass
class Env:
    slack: FakeSlack
    sender: SlackSender
    factory: sessionmaker[Session]
    settings: Settings
    server: HttpServer
    today: dt.date  # what the handlers call today


@contextlib.contextmanager
def running_app(factory: sessionmaker[Session], settings: Settings, **overrides: Any) -> Iterator[Env]:
    """`create_app` behind a real HTTP server on a free port, with the local fake Slack as its API."""
    with FakeSlack() as slack:
        configured = settings.model_copy(
            update={
                "slack_bot_token": SecretStr(BOT_TOKEN),
                "slack_signing_secret": SecretStr(SIGNING_SECRET),
                "slack_api_url": slack.api_url,
                **overrides,
            }
        )
        app = create_app(configured, factory=factory)
        server = HttpServer(make_wsgi(app, factory), host="127.0.0.1", port=0, poll=0.05).start()
        try:
            today = dt.datetime.now(configured.tz).date()
            yield Env(slack, SlackSender(server.url, slack.response_url), factory, configured, server, today)
        finally:
            server.stop()
