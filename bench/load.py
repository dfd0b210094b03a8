"""Serving and loading for `healthbot bench`: a server in a subprocess (its output to a file, never
an unread pipe), signed `/health` requests over real HTTP, one client at a time or 16 at once."""

from __future__ import annotations

import itertools
import json
import os
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import httpx
import psutil
from slack_sdk.signature import SignatureVerifier

SECRET = "bench-signing-secret"
_TRIGGERS = itertools.count()  # the same signed body twice in one second is a replay, refused


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 2), "p95": round(p95, 2)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server process on a local port; stdout and stderr go to `log`."""

    def __init__(self, argv: list[str], *, env: dict[str, str], log: Path, port: int) -> None:
        self.argv, self.env, self.log, self.port = argv, env, log, port
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        with httpx.Client(timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    tail = self.log.read_text(errors="replace")[-800:]
                    raise RuntimeError(f"{self.argv[2:4]} exited at start:\n{tail}")
                try:
                    if client.get(f"{self.base}/readyz").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"{self.argv[2:4]} was not ready within 60 s (see {self.log})")

    def memory_mb(self) -> dict[str, float]:
        """The whole server, the master process and every worker: RSS added up (pages the workers
        share with the master counted once per process) and PSS (shared pages split between them)."""
        assert self.process is not None
        root = psutil.Process(self.process.pid)
        processes = [root, *root.children(recursive=True)]
        infos = [p.memory_full_info() for p in processes]
        return {
            "rss_mb": round(sum(i.rss for i in infos) / 1e6),
            "pss_mb": round(sum(getattr(i, "pss", i.rss) for i in infos) / 1e6),
            "processes": len(infos),
        }

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def command_request(text: str, response_url: str) -> tuple[str, dict[str, str]]:
    body = urllib.parse.urlencode(
        {
            "command": "/health",
            "text": text,
            "user_id": "U1",
            "channel_id": "C1",
            "team_id": "T1",
            "response_url": response_url,
            "trigger_id": f"{time.time_ns()}.{next(_TRIGGERS)}",  # as Slack's: never twice
        }
    )
    return body, signed(body)


def signed(body: str, content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body) or "",
    }


def action_request(action_id: str, value: str, response_url: str) -> tuple[str, dict[str, str]]:
    """A signed button click (`block_actions`) from a member of the home team, each its own (a
    new trigger and action_ts), never a replay of another."""
    unique = f"{time.time_ns()}.{next(_TRIGGERS)}"
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "bench"},
        "user": {"id": "U1", "username": "manager", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": "C1",
            "is_ephemeral": True,
        },
        "trigger_id": unique,
        "channel": {"id": "C1", "name": "bench"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "text": {"type": "plain_text", "text": "button"},
                "action_ts": unique,
            }
        ],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    return body, signed(body)


def click(client: httpx.Client, base: str, action_id: str, value: str, response_url: str) -> float:
    """One click; its round trip (the ack) in ms."""
    body, headers = action_request(action_id, value, response_url)
    start = time.perf_counter()
    response = client.post(f"{base}/slack/events", content=body, headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise RuntimeError(
            f"click {action_id}: unexpected reply {response.status_code} {response.text[:200]}"
        )
    return elapsed


def ask(client: httpx.Client, base: str, text: str, response_url: str) -> float:
    """One signed `/health <text>` request; its round trip in ms. A reply without blocks is an error."""
    body, headers = command_request(text, response_url)
    start = time.perf_counter()
    response = client.post(f"{base}/slack/events", content=body, headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200 or "blocks" not in response.json():
        raise RuntimeError(f"/health {text}: unexpected reply {response.status_code} {response.text[:200]}")
    return elapsed


def one_client(
    bases: dict[str, str],
    commands: dict[str, list[str]],
    requests: int,
    response_url: str,
    *,
    warmup: int = 10,
) -> dict[str, dict[str, list[float]]]:
    """Each label's commands, one request at a time, to each server in turn (so a change in the
    machine's load falls on all of them alike); the first `warmup` of each are left out."""
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in bases}
    with httpx.Client(timeout=30) as client:
        for label, texts in commands.items():
            times: dict[str, list[float]] = {name: [] for name in bases}
            for i in range(requests + warmup):
                for name, base in bases.items():
                    times[name].append(ask(client, base, texts[i % len(texts)], response_url))
            for name in bases:
                samples[name][label] = times[name][warmup:]
    return samples


def _burst(
    base: str, texts: list[str], *, clients: int, requests: int, response_url: str
) -> tuple[list[float], float, list[str]]:
    """`clients` threads, each with its own connection, sending `requests` requests in all."""
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    share = requests // clients

    def run(n: int) -> None:
        mine = []
        with httpx.Client(timeout=30) as client:
            for i in range(share):
                try:
                    mine.append(ask(client, base, texts[(n + i) % len(texts)], response_url))
                except (RuntimeError, httpx.HTTPError) as exc:
                    with lock:
                        errors.append(str(exc)[:200])
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, time.perf_counter() - start, errors


def many_clients(
    bases: dict[str, str],
    texts: list[str],
    *,
    clients: int,
    requests: int,
    response_url: str,
    rounds: int = 4,
) -> dict[str, dict[str, Any]]:
    """Throughput and latency under `clients` concurrent clients: the servers take turns, in
    `rounds` bursts each, so both see the same background load."""
    times: dict[str, list[float]] = {name: [] for name in bases}
    walls = dict.fromkeys(bases, 0.0)
    errors: dict[str, list[str]] = {name: [] for name in bases}
    for _ in range(rounds):
        for name, base in bases.items():
            burst, wall, failed = _burst(
                base, texts, clients=clients, requests=requests // rounds, response_url=response_url
            )
            times[name] += burst
            walls[name] += wall
            errors[name] += failed
    return {
        name: {
            "requests": len(times[name]),
            "errors": len(errors[name]),
            "first_error": errors[name][0] if errors[name] else None,
            "throughput_rps": round(len(times[name]) / walls[name], 1),
            **({"p50": 0.0, "p95": 0.0} if not times[name] else percentiles(times[name])),
        }
        for name in bases
    }


def server_env(**values: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SLACK_APP_TOKEN", None)
    env.update(values)
    return env
