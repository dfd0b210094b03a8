"""`healthbot serve` as a real process: HTTP mode under waitress, health checks, schema guard."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot import db
from bot.localslack import FakeSlack
from tests.slackclient import SIGNING_SECRET, SlackSender, text_of


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(url: str, port: int, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HEALTHBOT_", "TIKTOK_"))}
    env.update(
        DATABASE_URL=url,
        PORT=str(port),
        SLACK_BOT_TOKEN="xoxb-serve-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
    )
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FakeSlack]]:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    db.upgrade(url)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--shops", "40", "--days", "10"],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    port = _free_port()
    with FakeSlack() as slack:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--no-scheduler"],
            env=_env(url, port, slack.api_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield base, slack
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_http_mode_answers_signed_commands_and_health_checks(served: tuple[str, FakeSlack]) -> None:
    base, slack = served
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}
    assert httpx.get(f"{base}/slack/events").status_code == 405
    sender = SlackSender(base, slack.response_url)
    reply = sender.command("overview")
    assert reply.status_code == 200
    assert reply.headers["server"].startswith("healthbot")  # waitress, not a development server
    assert "Portfolio health overview" in text_of(reply.json()["blocks"])
    assert sender.post(sender.command_body("overview"), signature="v0=bad").status_code == 401


def test_serve_refuses_an_outdated_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, "0001")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--no-scheduler"],
        env=_env(url, _free_port(), "http://127.0.0.1:9/api/"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "healthbot db upgrade" in result.stderr
