"""The `healthbot` command line: serve, demo, import, sync, ask, digest run, db upgrade, bench."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.settings import Settings

log = logging.getLogger("healthbot")


def _factory(settings: Settings, *, check: bool = True) -> sessionmaker[Session]:
    engine = db.make_engine(settings.database_url)
    if check:
        db.check_schema(engine)
    return db.session_factory(engine)


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    db.upgrade(settings.database_url)
    print(f"Database is at revision {db.head_revision()}.")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import DemoSize, load_demo
    from bot.models import Shop

    factory = _factory(settings)
    if args.if_empty:
        with factory() as session:
            if session.query(Shop.shop_id).first() is not None:
                print("Data already present; demo not loaded (drop --if-empty to load it anyway).")
                return 0
    end = args.end_date or dt.datetime.now(settings.tz).date()
    results = load_demo(factory, DemoSize(shops=args.shops, days=args.days, seed=args.seed), end)
    counts = ", ".join(f"{r.imported} {r.kind}" for r in results)
    print(f"Demo portfolio loaded ({counts}), data up to {end}.")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.importer import import_files

    results = import_files(_factory(settings), [Path(p) for p in args.files], skip_invalid=args.skip_invalid)
    failed = False
    for result in results:
        if result.errors and not result.committed:
            failed = True
            print(
                f"{result.source}: REJECTED, nothing imported ({result.bad_rows} bad row(s) of {result.rows}):"
            )
        elif result.errors:
            print(
                f"{result.source}: imported {result.imported} {result.kind} row(s), skipped {result.bad_rows} bad row(s):"
            )
        else:
            print(f"{result.source}: imported {result.imported} {result.kind} row(s).")
        for error in result.errors[: args.max_errors]:
            print(f"  {error}")
        if len(result.errors) > args.max_errors:
            print(f"  … and {len(result.errors) - args.max_errors} more")
    return 1 if failed else 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.replies import answer
    from bot.terminal import render

    text = args.text.strip()
    if text.startswith("/health"):
        text = text[len("/health") :]
    elif text.startswith("/"):
        print(
            'healthbot ask: only /health commands exist, e.g. healthbot ask "/health atrisk"', file=sys.stderr
        )
        return 2
    from bot import commands
    from bot.replies import Asker
    from jobs.digests import manage_digest

    asker = Asker(user_id=args.user, channel_id=args.channel, is_admin=True)
    with _factory(settings)() as session:
        reply = answer(
            session, text, settings=settings, offset=args.offset, asker=asker, digest=manage_digest
        )
        if args.png:
            command = commands.parse(text) if text.strip() else None
            if not isinstance(command, commands.Trend):
                print("healthbot ask: --png goes with /health trend <shop> [30d|90d|180d]", file=sys.stderr)
                return 2
            written = _write_trend(session, command, settings, Path(args.png))
            print(f"chart written to {written}" if written else "no chart: the seller has no visible scores")
    if args.json:
        print(json.dumps(reply.as_message(), indent=2, ensure_ascii=False))
    else:
        print(render(reply.blocks), end="")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import create_app
    from bot.server import HttpServer, make_wsgi
    from jobs.scheduler import start_scheduler

    if not settings.has_slack_credentials or args.playground:
        from bot.playground import serve_playground

        return serve_playground(settings, port=args.port or settings.port)
    factory = _factory(settings)
    app = create_app(settings, factory=factory)
    scheduler = start_scheduler(settings, factory, app.client) if not args.no_scheduler else None
    try:
        if settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("Socket Mode: connecting to Slack (no public URL needed)")
            SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]
        else:
            server = HttpServer(
                make_wsgi(app, factory, webhook_routes(settings, factory)), port=args.port or settings.port
            )
            log.info("HTTP mode: POST %s/slack/events, GET /healthz, GET /readyz", server.url)
            server.serve_forever()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
    return 0


def webhook_routes(settings: Settings, factory: sessionmaker[Session]) -> dict[str, Any]:
    from jobs.sync import tiktok_webhook_route

    return {"/tiktok/webhook": tiktok_webhook_route(settings, factory)}


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.sync import run_sync

    report = run_sync(settings, _factory(settings))
    for name in report.imported:
        print(f"imported {name}")
    for name in report.rejected:
        print(f"REJECTED {name} (see the .errors.txt beside it)")
    if report.shops_authorized or report.shops_deauthorized or report.gmv_updated:
        print(
            f"TikTok: {report.shops_authorized} newly authorized, {report.shops_deauthorized} lost access, "
            f"GMV refreshed for {report.gmv_updated} shop(s)"
        )
    for source, error in report.errors.items():
        print(f"{source}: FAILED: {error}", file=sys.stderr)
    if not (settings.healthbot_import_dir or settings.tiktok_app_key):
        print("Nothing to sync: set HEALTHBOT_IMPORT_DIR and/or the TIKTOK_* settings.")
    return 1 if report.errors or report.rejected else 0


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import web_client
    from jobs.digests import notify_milestones, run_due

    if not args.dry_run and settings.slack_bot_token is None:
        print(
            "healthbot digest run: SLACK_BOT_TOKEN is not set (use --dry-run to see what is due)",
            file=sys.stderr,
        )
        return 2
    factory, client = _factory(settings), web_client(settings)
    uk = settings.healthbot_uk_48_point
    report = run_due(factory, client, dry_run=args.dry_run, uk_48_point=uk)
    if not args.dry_run:
        for shop_id in notify_milestones(factory, client, uk_48_point=uk):
            print(f"milestone DM sent for shop {shop_id}")
    verb = "would post" if args.dry_run else "posted"
    print(
        f"{verb} {len(report.posted)} digest(s); {len(report.skipped)} not due or already sent; {len(report.failed)} failed"
    )
    for channel in report.failed:
        print(f"  failed: {channel} (will be retried on the next run today)", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bench.run import main as bench

    return bench(args, settings)


def _write_trend(session: Session, command: Any, settings: Settings, path: Path) -> Path | None:
    from bot import services
    from bot.charts import shop_trend

    shop = services.find_shop(session, command.query).shop
    if shop is None or not shop.authorized:
        return None
    trend = shop_trend(session, shop, command.days, uk_48_point=settings.healthbot_uk_48_point)
    if trend.empty:
        return None
    path.write_bytes(trend.png())
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healthbot", description="TikTok Shop seller health in Slack.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the bot (Socket Mode, HTTP mode, or the local playground)")
    p.add_argument("--port", type=int, help="HTTP port (default: PORT, 3000)")
    p.add_argument(
        "--playground", action="store_true", help="serve the local playground even with Slack credentials"
    )
    p.add_argument("--no-scheduler", action="store_true", help="do not run digests and sync in this process")
    p.set_defaults(func=cmd_serve)

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

    p = sub.add_parser("import", help="import CSV files (shops, metrics, accounts, violations)")
    p.add_argument("files", nargs="+")
    p.add_argument("--skip-invalid", action="store_true", help="import the good rows, report the bad")
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
    p.add_argument("--png", help="with /health trend: also write the chart to this PNG file")
    p.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("bench", help="benchmark import and query latency")
    p.add_argument("--size", choices=["S", "M", "L"], default="M")
    p.add_argument("--database-url", help="default: a fresh SQLite file under bench-results/")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument(
        "--reuse", action="store_true", help="reuse the database if it already holds the portfolio"
    )
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
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


if __name__ == "__main__":
    sys.exit(main())
