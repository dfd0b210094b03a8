"""Socket Mode end to end: `healthbot serve` with SLACK_APP_TOKEN connects to a local WebSocket
server (handed out by the local Slack's apps.connections.open) and acks envelopes with replies."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from websockets.sync.server import ServerConnection, serve

from bot import db
from bot.db.models import ButtonClick
from bot.playground.fakeslack import FakeSlack
from tests.support.slack import text_of


def _command_envelope(envelope_id: str, text: str) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "token": "legacy",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "command": "/health",
            "text": text,
            "api_app_id": "A1",
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": "t1",
        },
    }


@dataclass
class SocketBot:
    acks: queue.Queue[dict[str, Any]]
    connections: list[ServerConnection]
    database_url: str  # the served bot's database


@pytest.fixture
def socket_bot(tmp_path: Path, slack: FakeSlack) -> Iterator[SocketBot]:
    url = f"sqlite:///{tmp_path / 'socket.db'}"
    db.upgrade(url)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--shops", "30", "--days", "10"],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    acks: queue.Queue[dict[str, Any]] = queue.Queue()
    connections: list[ServerConnection] = []
    connected = threading.Event()

    def handler(connection: ServerConnection) -> None:
        connections.append(connection)
        connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        connected.set()
        for message in connection:
            acks.put(json.loads(message))

    with serve(handler, "127.0.0.1", 0) as server:
        port = server.socket.getsockname()[1]
        slack.socket_mode_url = f"ws://127.0.0.1:{port}/link"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HEALTHBOT_", "TIKTOK_"))}
        env.update(
            DATABASE_URL=url,
            SLACK_BOT_TOKEN="xoxb-socket",
            SLACK_APP_TOKEN="xapp-1-socket",
            SLACK_API_URL=slack.api_url,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--no-scheduler"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            assert connected.wait(30), "the bot never connected over Socket Mode"
            assert slack.calls_to("apps.connections.open")[0].token == "xapp-1-socket"
            yield SocketBot(acks, connections, url)
        finally:
            process.terminate()
            process.wait(timeout=10)
            server.shutdown()


def test_slash_command_over_socket_mode(socket_bot: SocketBot) -> None:
    acks, connections = socket_bot.acks, socket_bot.connections
    connections[0].send(json.dumps(_command_envelope("env-1", "atrisk")))
    ack = acks.get(timeout=20)
    assert ack["envelope_id"] == "env-1"
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "Sellers needing action" in text_of(ack["payload"]["blocks"])
    connections[0].send(json.dumps(_command_envelope("env-2", "no-such-subcommand " + "x" * 50)))
    ack = acks.get(timeout=20)
    assert ack["envelope_id"] == "env-2"
    assert "Sorry, I don't know" in text_of(
        ack["payload"]["blocks"]
    )  # one line and a Help button, never an error


def test_button_over_socket_mode_is_acked(socket_bot: SocketBot) -> None:
    acks, connections = socket_bot.acks, socket_bot.connections
    payload = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "container": {"type": "message", "message_ts": "1.1", "is_ephemeral": True},
        "channel": {"id": "C1"},
        "trigger_id": "t2",
        "actions": [
            {
                "type": "button",
                "action_id": "visit_seller_center",
                "block_id": "b",
                "value": '{"shop_id":"7000000003"}',
                "action_ts": "1.2",
            }
        ],
    }
    connections[0].send(
        json.dumps(
            {
                "envelope_id": "env-3",
                "type": "interactive",
                "accepts_response_payload": False,
                "payload": payload,
            }
        )
    )
    ack = acks.get(timeout=20)
    assert ack["envelope_id"] == "env-3"
    # Its listener ran (a value it could not decode would be acked too, by the middleware, unheard).
    engine = db.make_engine(socket_bot.database_url)
    try:
        with db.session_factory(engine)() as session:
            clicks = [(c.action, c.shop_id, c.user_id) for c in session.scalars(select(ButtonClick))]
    finally:
        engine.dispose()
    assert clicks == [("visit_seller_center", "7000000003", "U1")]
