"""`healthbot serve` as a real process: HTTP mode under gunicorn (worker processes, and the
`healthbot scheduler` child unless --no-scheduler), health checks, a signed command, the schema
guard, and a SIGTERM that ends every process it started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from bot import db
from bot.playground.fakeslack import FakeSlack
from tests.support.slack import SIGNING_SECRET, SlackSender, http_to, text_of

WORKERS = 2
STARTUP_SECONDS = 60


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


def _ended(process: psutil.Process) -> bool:
    """Gone, or a zombie (it has exited; only its exit status is left to collect)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@dataclass
class Served:
    base: str
    slack: FakeSlack
    process: subprocess.Popen[bytes]
    log: Path
    scheduler: bool  # started without --no-scheduler

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def started(self) -> list[psutil.Process]:
        """Every process `healthbot serve` started (its whole tree), alive or not yet reaped."""
        return [p for p in psutil.Process(self.process.pid).children(recursive=True) if not _ended(p)]


def _role(process: psutil.Process) -> str:
    """'worker' (a fork of the serve process) or 'scheduler' (`healthbot scheduler`)."""
    command = process.cmdline()
    if "scheduler" in command:
        return "scheduler"
    return "worker" if "serve" in command else " ".join(command)


def _roles(processes: list[psutil.Process]) -> list[str]:
    roles = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            roles.append(_role(process))
    return sorted(roles)


@pytest.fixture(params=[True, False], ids=["with-scheduler", "no-scheduler"])
def served(request: pytest.FixtureRequest, tmp_path: Path, slack: FakeSlack) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    db.upgrade(url)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--shops", "40", "--days", "10"],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    port = _free_port()
    command = [sys.executable, "-m", "bot.cli", "serve", "--workers", str(WORKERS)]
    if not request.param:
        command.append("--no-scheduler")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would block the processes writing to it
        process = subprocess.Popen(
            command, env=_env(url, port, slack.api_url), stdout=out, stderr=subprocess.STDOUT
        )
    served = Served(f"http://127.0.0.1:{port}", slack, process, log, scheduler=request.param)
    seen: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, served.output()
            try:
                if httpx.get(f"{served.base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"never ready:\n{served.output()}"
            time.sleep(0.05)
        yield served
    finally:
        if process.poll() is None:
            seen = served.started()
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for leftover in seen:  # only what this test started, by id: never leave it behind
            if not _ended(leftover):
                leftover.kill()


def _wait_for_tree(served: Served, expected: list[str]) -> list[psutil.Process]:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        started = served.started()
        if _roles(started) == expected:
            return started
        assert time.monotonic() < deadline, (
            f"processes {_roles(started)}, expected {expected}:\n{served.output()}"
        )
        time.sleep(0.1)


def test_http_mode_answers_signed_commands_and_health_checks(served: Served) -> None:
    base, slack = served.base, served.slack
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}
    assert httpx.get(f"{base}/slack/events").status_code == 405
    with httpx.Client(timeout=10) as client:
        sender = SlackSender(http_to(base, client), slack.response_url)
        reply = sender.command("overview")
        assert reply.status_code == 200
        assert reply.headers["server"].startswith("gunicorn")  # the production server, not a development one
        assert "Portfolio health overview" in text_of(reply.json()["blocks"])
        assert sender.post(sender.command_body("overview"), signature="v0=bad").status_code == 401
    # A setting a feature needs is named once at start-up (and again in the reply that needs it).
    assert served.output().count("HEALTHBOT_SERVICE_ID is not set, so authorization-request links") == 1


def test_sigterm_ends_every_process_serve_started(served: Served) -> None:
    expected = sorted(["worker"] * WORKERS + (["scheduler"] if served.scheduler else []))
    started = _wait_for_tree(served, expected)
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=30) == 0, served.output()
    deadline = time.monotonic() + 15
    while (orphans := [p for p in started if not _ended(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert orphans == [], f"still running after SIGTERM: {_roles(orphans)}\n{served.output()}"


def test_serve_refuses_an_outdated_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, "0001")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--workers", str(WORKERS)],
        env=_env(url, _free_port(), "http://127.0.0.1:9/api/"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "healthbot db upgrade" in result.stderr


def test_serve_that_cannot_listen_leaves_no_scheduler_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    db.upgrade(url)
    with socket.socket() as busy, (tmp_path / "serve.log").open("wb") as out:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        env = _env(url, int(busy.getsockname()[1]), "http://127.0.0.1:9/api/")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--workers", str(WORKERS)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        started: dict[int, psutil.Process] = {}
        roles: set[str] = set()
        deadline = time.monotonic() + STARTUP_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            try:
                children = psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                break
            for child in children:
                started.setdefault(child.pid, child)
                roles.update(_roles([child]))
            time.sleep(0.05)
    try:
        assert process.wait(timeout=30) == 2  # the port is taken: serve says so...
        assert f"cannot listen on port {env['PORT']}" in (tmp_path / "serve.log").read_text()
        deadline = time.monotonic() + 10
        while (orphans := [p for p in started.values() if not _ended(p)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert orphans == [], f"still running after serve failed: {_roles(orphans)}"  # ...and leaves nothing
    finally:
        if process.poll() is None:
            process.kill()
        for leftover in started.values():  # only what this test started, by id
            if not _ended(leftover):
                leftover.kill()
