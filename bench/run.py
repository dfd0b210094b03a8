"""`healthbot bench`: every figure of PRODUCT.md "Scale and speed" at portfolio S, M, L (or XL on
PostgreSQL), each printed beside the ack-only floor measured in the same run.

1. Writes the demo portfolio as CSV and imports it with `healthbot import` in a subprocess: rows/s
   and that process's peak RSS.
2. Times building the digest (`build_digest`).
3. Serves an ack-only Bolt app (`bench.floor`) the way `healthbot serve` serves the bot (gunicorn,
   same worker count) beside the bot itself (against a local fake Slack), and sends both the same
   signed slash commands over HTTP, taking turns so that the machine's other load falls on both
   alike: p50/p95 per command one client at a time, then throughput and p95 under 16 concurrent
   clients (the four commands alike, then cards only), and each server's memory (master and
   workers).
4. One-row metrics imports while both serve, each followed at once by a request to the floor or
   the bot in turn, so the first reply after a change is measured beside the floor's first reply
   after the same kind of import (and the one-row import time).
Server output goes to files beside the report: bench-results/<size>/report.json (SQLite) or
report-postgresql.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text

from bench.digest import time_build
from bench.load import (
    SECRET,
    Server,
    click,
    free_port,
    many_clients,
    one_client,
    percentiles,
    server_env,
)
from bench.portfolio import write_csvs
from blocks.ids import ActionId, CommandRef
from bot import db
from bot.db.models import MetricSnapshot, Shop
from bot.ingest.demo import DemoSize
from bot.ingest.importer import import_files
from bot.playground.fakeslack import FakeSlack
from bot.settings import Settings
from bot.web.server import default_workers

SIZES = {
    "S": DemoSize(shops=1_000, days=30),
    "M": DemoSize(shops=10_000, days=180),
    "L": DemoSize(shops=100_000, days=60),
    "XL": DemoSize(shops=1_000_000, days=30),
}
END = dt.date(2026, 11, 24)
LABELS = ("overview", "atrisk", "list", "shop")
TARGET_P95_MS = {"S": 30.0, "M": 30.0, "L": 60.0, "XL": 60.0}
FLOOR_RATIO = 3.0  # every reply's p95 within 3x the floor's


def _full_import(url: str, paths: list[Path], log: Path) -> dict[str, Any]:
    """`healthbot import` in its own process: wall time and that process's peak RSS."""
    argv = [sys.executable, "-m", "bot.cli", "import", *map(str, paths)]
    start = time.perf_counter()
    peak_mb = run_for_peak(argv, env=server_env(DATABASE_URL=url), log=log)
    return {"seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": peak_mb}


# Starts the command and reports its peak RSS (KB) on the file named first, its own output
# untouched. Only os, subprocess and sys: this process stays small.
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run_for_peak(argv: list[str], *, env: dict[str, str], log: Path) -> int:
    """Run `argv` (output to `log`), raise if it fails, and return its peak RSS in MB.

    Through a small launcher: Linux carries a process's peak across `exec` into the image that
    replaces it, so a command started straight from this process counts this one's peak as its
    own (after writing XL's CSV, 191 MB against the import's own 124 MB)."""
    outcome = log.with_suffix(".peak")
    with log.open("wb") as out:
        status = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(outcome), *argv],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        ).returncode
    code, peak_kb = map(int, outcome.read_text().split()) if status == 0 else (status, 0)
    outcome.unlink(missing_ok=True)
    if code != 0:
        raise RuntimeError(f"{argv[2:4]} failed: {log.read_text(errors='replace')[-800:]}")
    return round(peak_kb / 1024)


def _reset(url: str, out: Path) -> None:
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{out / 'bench.db'}{suffix}").unlink(missing_ok=True)
    else:
        engine = db.make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    db.upgrade(url)


def _one_row_changes(
    factory: Any,
    servers: dict[str, Server],
    codes: list[tuple[str, str]],
    rounds: int,
    folder: Path,
    slack_url: str,
    settings: Settings,
) -> dict[str, Any]:
    """Import a one-row metrics file (a shop's AHR on the newest day) while both serve, then ask
    one of them at once, the floor and the bot in turn: the import's time, and each one's first
    reply after the change. The floor is asked under the same conditions because the import
    itself leaves the machine's caches cold for whoever answers next (on two cores every reply
    just after an import was ~1.5x slower in process, the floor's too)."""
    import httpx

    from bench.load import ask

    rng = random.Random(11)
    imports: list[float] = []
    firsts: dict[str, list[float]] = {name: [] for name in servers}
    folder.mkdir(parents=True, exist_ok=True)
    with httpx.Client(timeout=30) as client:
        for i in range(rounds):
            shop_id, code = codes[rng.randrange(len(codes))]
            with factory() as session:
                current = session.get(MetricSnapshot, (shop_id, END))
            sps = "" if current is None or current.sps_tenths is None else f"{current.sps_tenths / 10:.1f}"
            gmv = "" if current is None or current.gmv_7d is None else f"{current.gmv_7d:.2f}"
            path = folder / f"change-{i}.csv"
            path.write_text(
                f"date,shop_id,ahr,sps,gmv_7d\n{END},{shop_id},{rng.randint(0, 1000)},{sps},{gmv}\n"
            )
            start = time.perf_counter()
            (result,) = import_files(factory, [path], settings=settings)
            imports.append((time.perf_counter() - start) * 1000)
            assert result.committed, result.errors
            label = LABELS[(i // len(servers)) % len(LABELS)]
            command = f"shop {code}" if label == "shop" else label
            name = list(servers)[i % len(servers)]
            firsts[name].append(ask(client, servers[name].base, command, slack_url))
    return {
        "one_row_import_ms": percentiles(imports),
        "first_after_import_ms": {name: percentiles(times) for name, times in firsts.items()},
    }


def _shares_under_429(
    slack: FakeSlack, bases: dict[str, str], clicks: int, response_url: str
) -> dict[str, dict[str, float]]:
    """The ack of a Share click while Slack rate-limits posting (three 429s with Retry-After 1
    before each post is accepted): the post and its retries come after the answer to Slack, so
    the ack should cost what the floor's does, never the retries' seconds."""
    value = CommandRef(text="overview").encode()
    times: dict[str, list[float]] = {name: [] for name in bases}
    with httpx.Client(timeout=30) as client:
        for _ in range(clicks):
            slack.rate_limit_next("chat.postMessage", retry_after=1, times=3)
            for name, base in bases.items():
                times[name].append(click(client, base, ActionId.SHARE.value, value, response_url))
    return {name: percentiles(samples) for name, samples in times.items()}


def _server(kind: str, url: str, out: Path, workers: int, slack_api_url: str) -> Server:
    """The floor (`bench.floor`) or the bot (`healthbot serve`), served the same way."""
    port = free_port()
    if kind == "floor":
        argv = [sys.executable, "-m", "bench.floor", "--port", str(port), "--workers", str(workers)]
        argv += ["--signing-secret", SECRET, "--slack-api-url", slack_api_url]
        env = server_env()
    else:
        argv = [sys.executable, "-m", "bot.cli", "serve", "--no-scheduler", "--workers", str(workers)]
        env = server_env(
            DATABASE_URL=url,
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack_api_url,
            PORT=str(port),
        )
    return Server(argv, env=env, log=out / f"{kind}.log", port=port)


def main(args: argparse.Namespace, settings: Settings) -> int:
    size = SIZES[args.size]
    postgres = bool(args.database_url) and not args.database_url.startswith("sqlite")
    if args.size == "XL" and not postgres:
        print("healthbot bench: --size XL is for PostgreSQL (give --database-url postgresql+psycopg://...)")
        return 2
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury the figures
    out = Path("bench-results") / args.size
    out.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{(out / 'bench.db').resolve()}"
    database = "postgresql" if postgres else "sqlite"
    workers = args.workers or default_workers()
    report: dict[str, Any] = {
        "size": args.size, "shops": size.shops, "days": size.days, "database": database,
        "workers": workers, "cores": os.cpu_count(), "target_p95_ms": TARGET_P95_MS[args.size],
        "load_average_at_start": os.getloadavg()[0],  # other work on the machine skews every figure
    }  # fmt: skip
    report_name = "report.json" if database == "sqlite" else f"report-{database}.json"
    engine = db.make_engine(url)
    if not args.reuse or db.current_revision(engine) is None:
        engine.dispose()
        _reset(url, out)
        paths, rows = write_csvs(size, out / "csv", END)
        print(f"importing {rows:,} rows ({size.shops:,} shops x {size.days} days) ...", flush=True)
        full = _full_import(url, paths, out / f"import-{database}.log")
        report["full_import"] = {"rows": rows, **full, "rows_per_s": round(rows / full["seconds"])}
        print(f"imported in {full['seconds']} s, peak RSS {full['peak_rss_mb']} MB", flush=True)
        engine = db.make_engine(url)
    elif (out / report_name).exists():  # the import was measured when the database was made
        earlier = json.loads((out / report_name).read_text()).get("full_import")
        if earlier:
            report["full_import"] = {**earlier, "measured_in_an_earlier_run": True}
    db.upgrade(url)  # a reused database may predate the newest migration
    factory = db.session_factory(engine)
    with factory() as session:
        pairs = [(s, c) for s, c in session.execute(select(Shop.shop_id, Shop.shop_code).limit(5000))]
    random.Random(7).shuffle(pairs)
    commands = {label: [label] for label in LABELS}
    commands["shop"] = [f"shop {code}" for _, code in pairs]

    try:
        built = time_build(factory, END + dt.timedelta(days=1), args.digest_runs)
    except Exception as exc:  # a failing digest is a finding; the replies are still measured
        report["digest_build_ms"] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
        print(f"digest build FAILED: {report['digest_build_ms']['error']}", flush=True)
    else:
        p50, p95 = built["build"]
        report["digest_build_ms"] = {"p50": round(p50, 1), "p95": round(p95, 1)}
        print(f"digest build: p50 {p50:.0f} ms, p95 {p95:.0f} ms", flush=True)

    # The four commands in turn (any client's run of requests asks each alike), and cards alone.
    loads_of = {
        "concurrent": [commands[label][i % len(commands[label])] for i in range(50) for label in LABELS],
        "concurrent_cards": commands["shop"][:50],
    }
    with FakeSlack() as slack:
        slack_url = slack.response_url("bench")
        with (
            _server("floor", url, out, workers, slack.api_url) as floor,
            _server("bot", url, out, workers, slack.api_url) as bot,
        ):
            bases = {"floor": floor.base, "bot": bot.base}
            print(
                f"{args.requests} requests per command, one client, to the floor and the bot in turn ...",
                flush=True,
            )
            samples = one_client(bases, commands, args.requests, slack_url)
            for name in bases:
                report[name] = {label: percentiles(times) for label, times in samples[name].items()}
            # The concurrent clients come first: their many connections reach every worker, so
            # the first reply after a change is not also some worker's first reply of its kind
            # (one client keeps one connection, served by one worker only).
            for key, texts in loads_of.items():
                print(
                    f"{args.load_requests} requests each from {args.clients} clients at once, in turns"
                    f"{' (cards only)' if key == 'concurrent_cards' else ''} ...",
                    flush=True,
                )
                loads = many_clients(
                    bases, texts, clients=args.clients, requests=args.load_requests, response_url=slack_url
                )
                for name in bases:
                    report[name][key] = loads[name]
            for name, server in (("floor", floor), ("bot", bot)):
                report[name]["server_memory"] = server.memory_mb()
            print(
                f"{args.changes} one-row imports, each followed by one request to the floor or the bot ...",
                flush=True,
            )
            changes = _one_row_changes(
                factory,
                {"floor": floor, "bot": bot},
                pairs,
                args.changes,
                out / "changes",
                slack_url,
                settings,
            )
            report["bot"]["one_row_import_ms"] = changes["one_row_import_ms"]
            for name, figures in changes["first_after_import_ms"].items():
                report[name]["first_after_import_ms"] = figures
            print(f"{args.shares} Share clicks while Slack answers chat.postMessage with 429 ...", flush=True)
            shares = _shares_under_429(slack, bases, args.shares, slack_url)
            for name in bases:
                report[name]["share_under_429_ms"] = shares[name]
    report["load_average_at_end"] = os.getloadavg()[0]
    _print(report)
    (out / report_name).write_text(json.dumps(report, indent=2))
    print(f"report: {out / report_name}")
    return 0


def _print(report: dict[str, Any]) -> None:
    bot, floor = report["bot"], report["floor"]
    target = TARGET_P95_MS[report["size"]]
    print(
        f"\nportfolio {report['size']}: {report['shops']:,} shops x {report['days']} days on "
        f"{report['database']}, {report['workers']} workers on {report['cores']} cores "
        f"(load average {report['load_average_at_start']:.1f} at the start, {report['load_average_at_end']:.1f} at the end)"
    )
    print(f"{'reply (ms)':<24}{'bot p50/p95':>16}{'floor p50/p95':>16}{'p95 ratio':>11}   target")
    rows = [(label, bot[label], floor[label]) for label in LABELS]
    rows.append(("first after import", bot["first_after_import_ms"], floor["first_after_import_ms"]))
    for label, figures, base in rows:
        ratio = figures["p95"] / base["p95"]
        ok = figures["p95"] <= target and ratio <= FLOOR_RATIO
        print(
            f"{label:<24}{figures['p50']:>7.1f} /{figures['p95']:>7.1f}{base['p50']:>7.1f} /{base['p95']:>7.1f}"
            f"{ratio:>10.1f}x   p95 <= {target:.0f} ms and <= 3x: {'ok' if ok else 'MISSED'}"
        )
    for key, label in (("concurrent", "16 clients"), ("concurrent_cards", "16 clients, cards")):
        b, f = bot[key], floor[key]
        share = b["throughput_rps"] / f["throughput_rps"]
        print(
            f"{label:<24}{b['throughput_rps']:>9.0f} rps{f['throughput_rps']:>12.0f} rps{share:>10.0%}"
            f"    >= 50% of the floor: {'ok' if share >= 0.5 else 'MISSED'}"
        )
        print(f"{label + ' p95':<24}{b['p95']:>12.1f}{f['p95']:>16.1f}{b['p95'] / f['p95']:>10.1f}x")
        if b["errors"]:
            print(f"  {b['errors']} failed requests, e.g. {b['first_error']}")
    mine, base = bot["share_under_429_ms"], floor["share_under_429_ms"]
    print(
        f"{'Share ack under 429s':<24}{mine['p50']:>7.1f} /{mine['p95']:>7.1f}{base['p50']:>7.1f} /{base['p95']:>7.1f}"
        f"{mine['p95'] / base['p95']:>10.1f}x   Slack's limit 3000 ms"
    )
    for name, key in (("server RSS (MB)", "rss_mb"), ("server PSS (MB)", "pss_mb")):
        mine, base = bot["server_memory"][key], floor["server_memory"][key]
        print(f"{name:<24}{mine:>12}{base:>16}{mine / base:>10.1f}x   <= 200 MB")
    one_row = bot["one_row_import_ms"]
    print(f"{'one-row import (ms)':<24}{one_row['p50']:>7.0f} /{one_row['p95']:>7.0f}{'':>27}   <= 1000 ms")
    digest = report["digest_build_ms"]
    if "error" in digest:
        print(f"{'digest build':<24}FAILED: {digest['error']}")
    else:
        print(f"{'digest build (ms)':<24}{digest['p50']:>7.0f} /{digest['p95']:>7.0f}{'':>27}   <= 1000 ms")
    if "full_import" in report:
        full = report["full_import"]
        earlier = " (earlier run)" if full.get("measured_in_an_earlier_run") else ""
        print(
            f"{'full import':<24}{full['rows_per_s']:>9,} rows/s, peak RSS {full['peak_rss_mb']} MB"
            f"   >= 100,000 rows/s, <= 150 MB{earlier}"
        )
