"""The `healthbot` command line: serve, scheduler, doctor, demo, import, sync, ask, digest run, db
upgrade, tiktok link, dispatch due, bench."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

from bot import db, logs
from bot.cli.commands import (
    cmd_ask,
    cmd_bench,
    cmd_db,
    cmd_demo,
    cmd_digest,
    cmd_import,
    cmd_scheduler,
    cmd_serve,
    cmd_sync,
)
from bot.cli.doctor import cmd_doctor
from bot.cli.tiktok import add_parsers as add_tiktok_parsers
from bot.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healthbot", description="TikTok Shop seller health in Slack.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the bot (Socket Mode, HTTP mode, or the local playground)")
    p.add_argument("--port", type=int, help="HTTP port (default: PORT, 3000)")
    p.add_argument(
        "--playground", action="store_true", help="serve the local playground even with Slack credentials"
    )
    p.add_argument(
        "--no-scheduler", action="store_true", help="do not run digests and sync beside the server"
    )
    p.add_argument(
        "--workers", type=int, help="HTTP mode: worker processes (default: one per core, at least 2)"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("scheduler", help="run digests, milestone DMs and sync on their schedule (foreground)")
    p.set_defaults(func=cmd_scheduler)

    p = sub.add_parser(
        "doctor",
        help="check settings, database, Slack token and scopes, TikTok and time zone; say what to fix",
    )
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("db", help="database schema")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("demo", help="load a deterministic synthetic portfolio")
    p.add_argument("--shops", type=int, default=200)
    p.add_argument("--days", type=int, default=180)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--end-date", type=dt.date.fromisoformat, help="last data day (default: today)")
    p.add_argument("--if-empty", action="store_true", help="only when the database has no shops")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "import", help="import .csv or .xlsx files (ours, or Partner Center's Health List / Account Health)"
    )
    p.add_argument("files", nargs="+")
    p.add_argument("--skip-invalid", action="store_true", help="import the good rows, report the bad")
    p.add_argument("--dry-run", action="store_true", help="check the files and report, writing nothing")
    p.add_argument(
        "--date", type=dt.date.fromisoformat, help="data date for files without a date column (YYYY-MM-DD)"
    )
    p.add_argument("--sheet", help="the .xlsx sheet to read (default: the first)")
    p.add_argument("--max-errors", type=int, default=200, help="how many row errors to print per file")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("sync", help="pull from the configured sources now (CSV folder, TikTok Open API)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("digest", help="daily digests")
    p.add_argument("action", choices=["run"])
    p.add_argument("--dry-run", action="store_true", help="show what is due without posting")
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("ask", help="the reply the bot would give to a /health command")
    p.add_argument("text")
    p.add_argument("--json", action="store_true", help="print the Block Kit payload")
    p.add_argument("--user", default="cli", help="ask as this Slack user ID (for mine, ack, assign me, ...)")
    p.add_argument("--channel", help="ask from this channel ID (for digest subscribe)")
    p.add_argument(
        "--png", help="with /health trend (a shop or portfolio): also write the chart to this PNG file"
    )
    p.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_ask)

    add_tiktok_parsers(sub)

    p = sub.add_parser("bench", help="benchmark import, replies and load beside an ack-only floor")
    p.add_argument(
        "--size",
        choices=["S", "M", "L", "XL"],
        default="M",
        help="XL (1,000,000 shops x 30 days): PostgreSQL",
    )
    p.add_argument("--database-url", help="default: a fresh SQLite file under bench-results/")
    p.add_argument("--requests", type=int, default=200, help="requests per command, one client")
    p.add_argument(
        "--changes",
        type=int,
        default=40,
        help="one-row imports, each followed by a request to the floor or the bot in turn",
    )
    p.add_argument("--clients", type=int, default=16, help="concurrent clients")
    p.add_argument("--load-requests", type=int, default=1600, help="requests sent by the concurrent clients")
    p.add_argument("--shares", type=int, default=20, help="Share clicks timed while Slack answers 429")
    p.add_argument("--digest-runs", type=int, default=5, help="timed digest builds")
    p.add_argument("--workers", type=int, help="server worker processes (default: as healthbot serve)")
    p.add_argument(
        "--reuse", action="store_true", help="reuse the database if it already holds the portfolio"
    )
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None:  # the real command line; in-process callers (tests) keep their own logging
        logs.configure(verbose=args.verbose)
    try:
        settings = Settings()
    except Exception as exc:  # pydantic's message names the bad setting, never a secret's value
        print(f"healthbot: invalid settings: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args, settings))
    except db.SchemaOutdated as exc:
        print(f"healthbot: {exc}", file=sys.stderr)
        return 2
