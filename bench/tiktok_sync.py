"""`python -m bench.tiktok_sync`: how long one sync takes for many connected sellers.

Starts the fake TikTok Shop server of the tests (real HTTP on 127.0.0.1, signatures checked) with
N sellers, each with one shop and M open orders, stores the sellers' tokens (encrypted) in a fresh
SQLite file under bench-results/ (or --database-url), then times:
  1. the first sync: every seller's shop list, each shop's GMV and its orders of the last 35 days
     (paged, 100 a page), deadlines settled;
  2. a second sync: the same calls, orders changed since the first (none).
and prints the wall time, requests served, orders stored and peak RSS. Run on demand, never as a
timed test. Options: --sellers, --orders, --database-url.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import resource
import sys
import time
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import func, select

from bot import db
from bot.db import transaction
from bot.db.models import Order, TikTokSeller
from bot.services import tiktok_sellers
from bot.services.vault import TokenVault
from bot.settings import Settings
from jobs.sync import run_sync
from tests.support.tiktok import FakeTikTok
from tests.support.tiktok_app import TEST_ENCRYPTION_KEY, quick_http, tiktok_settings

RESULTS = Path("bench-results/tiktok")


def build_fake(fake: FakeTikTok, sellers: int, orders: int, now: dt.datetime) -> None:
    created = int((now - dt.timedelta(hours=20)).timestamp())
    for n in range(sellers):
        cipher = f"cipher-{n}"
        fake.add_seller(
            f"Bench Seller {n:04d}",
            [
                {
                    "id": f"B{n:05d}",
                    "code": f"BENCH{n:05d}",
                    "name": f"Bench Shop {n}",
                    "region": "US",
                    "cipher": cipher,
                }
            ],
        )
        fake.gmv[cipher] = f"{1000 + n}.00"
        fake.orders[cipher] = [
            {
                "id": f"{n:05d}-{k:03d}",
                "status": "AWAITING_SHIPMENT",
                "create_time": created + k,
                "update_time": created + k,
            }
            for k in range(orders)
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tiktok_sync")
    parser.add_argument("--sellers", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=50, help="open orders per seller's shop")
    parser.add_argument("--database-url", help="default: a fresh SQLite file under bench-results/tiktok/")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = args.database_url
    if url is None:
        path = RESULTS / "sync.db"
        for stale in RESULTS.glob("sync.db*"):
            stale.unlink()
        url = f"sqlite:///{path}"
    db.upgrade(url)
    factory = db.session_factory(db.make_engine(url))
    now = dt.datetime.now(dt.UTC)
    with FakeTikTok() as fake:
        build_fake(fake, args.sellers, args.orders, now)
        settings = tiktok_settings(Settings(_env_file=None, database_url=url), fake)  # type: ignore[call-arg]
        settings = settings.model_copy(update={"healthbot_encryption_key": SecretStr(TEST_ENCRYPTION_KEY)})
        vault = TokenVault(TEST_ENCRYPTION_KEY)
        with transaction(factory) as session:
            for seller in fake.sellers[1:]:
                tiktok_sellers.store_seller(
                    session, vault, open_id=seller.open_id, seller_name=seller.name,
                    access_token=seller.access_token, refresh_token=seller.refresh_token,
                    access_expires_at=now + dt.timedelta(days=7), refresh_expires_at=None, now=now,
                )  # fmt: skip
        timings = []
        with quick_http(settings) as http:
            for label in ("first sync", "second sync"):
                served = len(fake.requests)
                start = time.perf_counter()
                report = run_sync(settings, factory, today=now.date(), http=http)
                elapsed = time.perf_counter() - start
                timings.append((label, elapsed, len(fake.requests) - served, report))
    with factory() as session:
        stored_orders = session.scalar(select(func.count()).select_from(Order))
        sellers = session.scalar(select(func.count()).select_from(TikTokSeller))
        settled = session.scalar(select(func.count()).select_from(Order).where(Order.due_at.is_not(None)))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{sellers} sellers x {args.orders} open orders, {db.make_engine(url).dialect.name}")
    for label, elapsed, requests, report in timings:
        errors = "; ".join(f"{k}: {v[:120]}" for k, v in report.errors.items()) or "none"
        print(
            f"  {label}: {elapsed:6.2f} s, {requests} requests ({requests / elapsed:.0f}/s), errors: {errors}"
        )
    print(f"  orders stored: {stored_orders}, deadlines settled: {settled}; peak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
