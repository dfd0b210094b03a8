"""`python -m bench.digest`: how long the daily digest takes to build and to post.

1. Loads the demo portfolio (default M: 10,000 shops x 180 days) into a fresh SQLite file under
   bench-results/ (or reuses it with --reuse), then times build_digest and digest_reply: p50/p95.
2. Starts the local fake Slack with Slack's limit of one message per second per channel, subscribes
   N channels through `/health digest subscribe`, and times `run_due` posting with the app's own
   `web_client` (its RateLimitErrorRetryHandler honours Retry-After):
   - one digest per channel: no rate-limit floor, the time is the build plus N requests;
   - three digests per channel (three local days, `now=`): the 2nd and 3rd message to a channel
     must each wait a second after the previous one, so no client can finish in under
     (3 - 1) / rate = 2 s (more when the digests also post updates into earlier threads: the
     floor is (messages in the busiest channel - 1) / rate). The table prints the wall time and
     its ratio to that floor.

Options: --shops, --days, --channels, --runs, --workers, --reuse, --database-url.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from blocks.digest import digest_reply, thread_lists
from bot import db
from bot.commands.asker import Asker
from bot.commands.registry import answer
from bot.db import models
from bot.db.models import DigestRun, DigestSubscription, Shop
from bot.deps import web_client
from bot.ingest.demo import DemoSize, load_demo
from bot.playground.fakeslack import FakeSlack
from bot.services.attention import Lens
from bot.services.digest import build_digest
from bot.services.health import latest_data_date
from bot.settings import Settings
from jobs.digests import run_due

POST = "chat.postMessage"
RATE = 1.0  # Slack: about one message per second per channel


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def prepare(url: str, path: Path | None, size: DemoSize, reuse: bool) -> sessionmaker[Session]:
    """A database holding the portfolio: loaded now unless --reuse finds it already there."""
    if reuse and (path is None or path.exists()):
        engine = db.make_engine(url)
        if db.current_revision(engine) is not None:
            db.upgrade(url)  # newer migrations only add tables and columns: the data stays
            factory = db.session_factory(engine)
            with factory() as session:
                shops = session.scalar(select(func.count()).select_from(Shop))
            if shops == size.shops:
                print(f"reusing {url} ({shops:,} shops)", flush=True)
                return factory
        engine.dispose()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    db.upgrade(url)
    factory = db.session_factory(db.make_engine(url))
    end = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    print(f"loading demo portfolio: {size.shops:,} shops x {size.days} days up to {end} ...", flush=True)
    start = time.perf_counter()
    results = load_demo(factory, size, end)
    elapsed = time.perf_counter() - start
    rows = sum(r.imported for r in results)
    print(f"loaded {rows:,} rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)", flush=True)
    return factory


def time_build(factory: sessionmaker[Session], day: dt.date, runs: int) -> dict[str, Any]:
    build, reply, total = [], [], []
    digest = None
    message = None
    for _ in range(runs + 2):
        t0 = time.perf_counter()
        with factory() as session:
            digest = build_digest(session, Lens(today=day))
        t1 = time.perf_counter()
        message = digest_reply(digest)
        lists = thread_lists(digest)
        t2 = time.perf_counter()
        build.append((t1 - t0) * 1000)
        reply.append((t2 - t1) * 1000)
        total.append((t2 - t0) * 1000)
    assert digest is not None and message is not None
    warm = slice(2, None)  # the first two runs warm caches and are left out
    return {
        "build": percentiles(build[warm]),
        "reply": percentiles(reply[warm]),
        "total": percentiles(total[warm]),
        "sellers": digest.sellers,
        "rows": sum(len(rows) for rows in digest.sections.values()),
        "blocks": len(message.blocks),
        "chars": len(json.dumps(message.blocks, ensure_ascii=False)),
        "text": message.text,
        "thread lists": len(lists),
        "thread blocks": max((len(r.blocks) for r in lists), default=0),
        "thread chars": max((len(json.dumps(r.blocks, ensure_ascii=False)) for r in lists), default=0),
    }


def forget_posts(factory: sessionmaker[Session], *, subscriptions: bool = False) -> None:
    """Forget what earlier runs posted (runs, digest threads, thread-update claims)."""
    with factory() as session, session.begin():
        session.execute(delete(DigestRun))
        threads = getattr(models, "DigestThread", None)  # digest threads, where the schema has them
        if threads is not None:
            session.execute(delete(threads))
        session.execute(delete(models.ActionClaim).where(models.ActionClaim.key.like("digest-%")))
        # and the posts claimed by key (run IDs start again from 1 once the runs are gone)
        session.execute(delete(models.PostClaim).where(models.PostClaim.key.like("digest-%")))
        if subscriptions:
            session.execute(delete(DigestSubscription))


def subscribe(factory: sessionmaker[Session], settings: Settings, channels: list[str]) -> None:
    forget_posts(factory, subscriptions=True)
    admin = Asker(user_id="UBENCH", channel_id=channels[0])
    for i, channel in enumerate(channels):
        with factory() as session:
            reply = answer(
                session,
                f"digest subscribe <#{channel}|bench-{i}> at 00:00 tz UTC",
                settings=settings,
                asker=admin,
            )
        if "will get the daily digest" not in reply.text:
            raise RuntimeError(f"subscribe failed: {reply.text}")


def post_latency(slack: FakeSlack, settings: Settings, samples: int = 15) -> float:
    """Median seconds of one chat.postMessage round trip (small message, fresh channels)."""
    client = web_client(settings)
    times = []
    for i in range(samples):
        start = time.perf_counter()
        client.chat_postMessage(channel=f"CLATENCY{i:03d}", text="ping")
        times.append(time.perf_counter() - start)
    slack.reset()
    return statistics.median(times[3:])


def scenario(
    factory: sessionmaker[Session],
    slack: FakeSlack,
    settings: Settings,
    *,
    days: list[dt.date],
    channels: list[str],
    workers: int,
) -> dict[str, Any]:
    """Post one digest per channel per local day, the days one after another, as fast as allowed."""
    forget_posts(factory)
    slack.reset()
    client = web_client(settings)
    posted = failed = 0
    start = time.perf_counter()
    for day in days:
        report = run_due(
            factory, client, now=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), workers=workers
        )
        posted += len(report.posted)
        failed += len(report.failed)
    wall = time.perf_counter() - start
    calls = slack.calls_to(POST)
    ok = [c for c in calls if c.ok]
    per_channel = Counter(c.params["channel"] for c in ok)
    digests = Counter(c.params["channel"] for c in ok if not c.params.get("thread_ts"))
    return {
        "wall": wall,
        "messages": len(ok),
        "digests": sum(digests.values()),
        "thread_replies": len(ok) - sum(digests.values()),
        "posted": posted,
        "failed": failed,
        "429s": sum(1 for c in calls if c.status == 429),
        "per_channel": (min(per_channel.values(), default=0), max(per_channel.values(), default=0)),
        # Slack allows one message per second per channel: the busiest channel sets the floor.
        "floor": (max(per_channel.values(), default=1) - 1) / RATE,
        "complete": set(digests) == set(channels) and set(digests.values()) == {len(days)},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.digest", description=__doc__.split("\n")[0])
    parser.add_argument("--shops", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--runs", type=int, default=20, help="timed digest builds")
    parser.add_argument("--workers", type=int, default=8, help="run_due's posting threads")
    parser.add_argument("--reuse", action="store_true", help="reuse the database if it holds the portfolio")
    parser.add_argument("--database-url", help="default: bench-results/digest/<shops>x<days>.db (SQLite)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    size = DemoSize(shops=args.shops, days=args.days)
    path = None
    url = args.database_url
    if url is None:
        path = (Path("bench-results") / "digest" / f"{args.shops}x{args.days}.db").resolve()
        url = f"sqlite:///{path}"
    factory = prepare(url, path, size, args.reuse)
    with factory() as session:
        data_day = latest_data_date(session)
    day = (data_day or dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=1)

    # 1. build_digest + digest_reply
    built = time_build(factory, day, args.runs)
    print()
    print(f"digest for {day} over {args.shops:,} shops x {args.days} days ({args.runs} runs, ms):")
    print(f"  {'step':<24}{'p50':>9}{'p95':>9}")
    for label, key in (
        ("build_digest", "build"),
        ("digest_reply + thread lists", "reply"),
        ("build + reply", "total"),
    ):
        p50, p95 = built[key]
        print(f"  {label:<24}{p50:>9.1f}{p95:>9.1f}")
    print(
        f"  content: {built['sellers']} sellers, {built['rows']} section rows; the message "
        f"{built['blocks']} blocks, {built['chars']:,} characters of blocks (Slack: 50 blocks); "
        f"{built['thread lists']} full lists in its thread, the largest {built['thread blocks']} blocks, "
        f"{built['thread chars']:,} characters"
    )
    print(f"  notification text: {built['text']}")

    # 2. posting to N channels under Slack's per-channel rate limit
    channels = [f"CBENCH{i:04d}" for i in range(args.channels)]
    with FakeSlack() as slack:
        slack.per_channel_rate = RATE
        settings = Settings(
            _env_file=None,
            database_url=url,
            slack_bot_token=SecretStr("xoxb-bench"),
            slack_api_url=slack.api_url,
        )
        subscribe(factory, settings, channels)
        latency = post_latency(slack, settings)
        results = []
        for label, days in (
            ("1 per channel", [day]),
            ("3 per channel", [day + dt.timedelta(days=k) for k in range(3)]),
        ):
            outcome = scenario(factory, slack, settings, days=days, channels=channels, workers=args.workers)
            # What the requests alone would take if nothing ever waited: one build per local day
            # plus the messages spread over the workers at the measured round-trip time.
            requests = len(days) * built["total"][0] / 1000 + (
                math.ceil(outcome["messages"] / args.workers) * latency
            )
            results.append((label, outcome, requests))
        forget_posts(factory, subscriptions=True)

    print()
    print(
        f"posting to {args.channels} channels, {args.workers} workers, Slack limit {RATE:g} msg/s/channel, "
        f"median post round trip {latency * 1000:.1f} ms:"
    )
    header = (
        f"  {'scenario':<15}{'digests':>8}{'thread':>7}{'per ch':>7}{'429s':>6}{'failed':>7}{'wall s':>8}"
        f"{'floor s':>8}{'wall/floor':>11}{'no-wait s':>10}{'wall/no-wait':>13}"
    )
    print(header)
    ok = True
    for label, outcome, requests in results:
        low, high = outcome["per_channel"]
        floor = outcome["floor"]
        ratio = f"{outcome['wall'] / floor:.2f}" if floor else "-"
        print(
            f"  {label:<15}{outcome['digests']:>8}{outcome['thread_replies']:>7}{f'{low}-{high}':>7}"
            f"{outcome['429s']:>6}{outcome['failed']:>7}{outcome['wall']:>8.2f}{floor:>8.1f}{ratio:>11}"
            f"{requests:>10.2f}{outcome['wall'] / requests:>13.2f}"
        )
        ok = ok and outcome["complete"] and not outcome["failed"]
    print()
    print("digests: top-level digest messages; thread: updates posted into earlier digests' threads.")
    print(
        "floor: (messages in the busiest channel - 1) / rate: the least any client can take under the limit."
    )
    print("no-wait: one digest build per local day + ceil(messages / workers) round trips, never waiting.")
    if not ok:
        print("INCOMPLETE: some channel did not get exactly its digests", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
