"""`healthbot bench`: import throughput, memory, and reply latency at portfolio S, M or L.

1. Writes the demo portfolio as CSV files, then times `healthbot import` of them (rows/s, peak RSS).
2. Times overview, at-risk and shop replies (query + builders) in process: p50/p95.
3. Starts `healthbot serve` (HTTP mode) in a subprocess against a local fake Slack, sends signed
   slash commands over real HTTP, and reports p50/p95 request-to-reply and the server's RSS.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from bot import db
from bot.commands.registry import answer
from bot.ingest.demo import DemoSize, generate
from bot.ingest.formats import KIND_ORDER
from bot.ingest.importer import import_files
from bot.playground.fakeslack import FakeSlack
from bot.settings import Settings

SIZES = {
    "S": DemoSize(shops=1_000, days=30),
    "M": DemoSize(shops=10_000, days=180),
    "L": DemoSize(shops=100_000, days=60),
}
TARGET_P95_MS = {"S": 100.0, "M": 100.0, "L": 300.0}
SECRET = "bench-signing-secret"
END = dt.date(2026, 11, 24)


def _write_csvs(size: DemoSize, folder: Path) -> tuple[list[Path], int]:
    folder.mkdir(parents=True, exist_ok=True)
    paths, rows = [], 0
    for kind, stream in generate(size, END).items():
        path = folder / f"{kind}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer: csv.DictWriter[str] | None = None
            for _, row in stream:
                if writer is None:  # the demo's rows carry every column their kind has
                    writer = csv.DictWriter(handle, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow(row)
                rows += 1
        paths.append(path)
    paths.sort(key=lambda p: [k.value for k in KIND_ORDER].index(p.stem))
    return paths, rows


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signed(body: str) -> dict[str, str]:
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body) or "",
    }


def _http_phase(url: str, codes: list[str], requests: int) -> tuple[dict[str, tuple[float, float]], float]:
    import urllib.parse

    env = dict(os.environ)
    port = _free_port()
    results: dict[str, tuple[float, float]] = {}
    with FakeSlack() as slack:
        env.update(
            DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url,
            PORT=str(port),
        )  # fmt: skip
        env.pop("SLACK_APP_TOKEN", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--no-scheduler"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(timeout=10) as client:
                for _ in range(400):
                    if server.poll() is not None:
                        raise RuntimeError(f"healthbot serve exited: {server.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
                    try:
                        if client.get(f"{base}/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.05)
                rng = random.Random(1)
                for label, texts in (
                    ("overview", ["overview"]),
                    ("atrisk", ["atrisk"]),
                    ("shop", [f"shop {c}" for c in codes]),
                ):
                    samples = []
                    for i in range(requests + 10):
                        body = urllib.parse.urlencode(
                            {"command": "/health", "text": rng.choice(texts), "user_id": "U1", "channel_id": "C1",
                             "team_id": "T1", "response_url": slack.response_url("bench"), "trigger_id": "t"}
                        )  # fmt: skip
                        start = time.perf_counter()
                        response = client.post(f"{base}/slack/events", content=body, headers=_signed(body))
                        elapsed = (time.perf_counter() - start) * 1000
                        if response.status_code != 200 or "blocks" not in response.json():
                            raise RuntimeError(f"{label}: unexpected reply {response.status_code}")
                        if i >= 10:  # warm-up excluded
                            samples.append(elapsed)
                    results[label] = _percentiles(samples)
            rss = psutil.Process(server.pid).memory_info().rss / 1e6
        finally:
            server.terminate()
            server.wait(timeout=10)
    return results, rss


def main(args: argparse.Namespace, settings: Settings) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    size = SIZES[args.size]
    out = Path("bench-results") / args.size
    out.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{(out / 'bench.db').resolve()}"
    report: dict[str, Any] = {
        "size": args.size,
        "shops": size.shops,
        "days": size.days,
        "database": url.split("://")[0],
    }
    engine = db.make_engine(url)
    fresh = not args.reuse or db.current_revision(engine) is None
    if fresh:
        if url.startswith("sqlite"):
            (out / "bench.db").unlink(missing_ok=True)
        else:
            from sqlalchemy import text

            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        db.upgrade(url)
        print(f"writing portfolio {args.size} ({size.shops} shops x {size.days} days) as CSV ...", flush=True)
        paths, rows = _write_csvs(size, out / "csv")
        engine = db.make_engine(url)
        factory = db.session_factory(engine)
        start = time.perf_counter()
        results = import_files(factory, paths)
        elapsed = time.perf_counter() - start
        assert all(r.committed for r in results), [r.errors[:3] for r in results]
        report["import_rows"] = rows
        report["import_seconds"] = round(elapsed, 1)
        report["import_rows_per_s"] = round(rows / elapsed)
        report["import_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(f"imported {rows:,} rows in {elapsed:.1f} s: {rows / elapsed:,.0f} rows/s", flush=True)
    db.upgrade(url)  # a reused database may predate the newest migration
    factory = db.session_factory(engine)
    bench_settings = settings.model_copy(update={"database_url": url})
    with factory() as session:
        from sqlalchemy import select

        from bot.db.models import Shop

        codes = list(session.scalars(select(Shop.shop_code).limit(5000)))
    rng = random.Random(7)
    in_process: dict[str, tuple[float, float]] = {}
    makers: list[tuple[str, Callable[[], str]]] = [
        ("overview", lambda: "overview"),
        ("atrisk", lambda: "atrisk"),
        ("shop", lambda: f"shop {rng.choice(codes)}"),
    ]
    for label, make in makers:
        samples = []
        for i in range(args.requests + 5):
            command = make()
            start = time.perf_counter()
            with factory() as session:
                answer(session, command, settings=bench_settings, today=END)
            if i >= 5:
                samples.append((time.perf_counter() - start) * 1000)
        in_process[label] = _percentiles(samples)
    report["in_process_ms"] = {
        k: {"p50": round(a, 2), "p95": round(b, 2)} for k, (a, b) in in_process.items()
    }
    http, rss = _http_phase(url, codes, args.requests)
    report["http_ms"] = {k: {"p50": round(a, 2), "p95": round(b, 2)} for k, (a, b) in http.items()}
    report["server_rss_mb"] = round(rss)
    target = TARGET_P95_MS[args.size]
    print(f"\nportfolio {args.size}: {size.shops:,} shops x {size.days} days on {report['database']}")
    if "import_rows_per_s" in report:
        print(f"import: {report['import_rows_per_s']:,} rows/s, peak RSS {report['import_peak_rss_mb']} MB")
    print(
        f"{'reply':<10} {'in-process p50/p95 ms':>24} {'signed HTTP p50/p95 ms':>26}   target p95 {target:.0f} ms"
    )
    for label in ("overview", "atrisk", "shop"):
        a, b = in_process[label]
        c, d = http[label]
        flag = "ok" if d <= target else "SLOW"
        print(f"{label:<10} {a:>12.1f} / {b:<10.1f} {c:>13.1f} / {d:<10.1f}   {flag}")
    print(f"server RSS after {3 * args.requests} requests: {rss:.0f} MB (target <= 200 MB)")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print(f"report: {out / 'report.json'}")
    return 0
