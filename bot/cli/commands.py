"""What each `healthbot` command does (the parser is in `bot.cli`)."""

from __future__ import annotations

import argparse
import json
import logging
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from blocks.text import plural
from bot import db
from bot.settings import Settings

log = logging.getLogger("healthbot")


def _factory(settings: Settings, *, check: bool = True) -> sessionmaker[Session]:
    engine = db.make_engine(settings.database_url)
    if check:
        db.check_schema(engine)
    return db.session_factory(engine)


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.portfolio_trend import MAX_DAYS, portfolio_trend

    db.upgrade(settings.database_url)
    print(f"Database is at revision {db.head_revision()}.")
    with _factory(settings)() as session:  # days imported before they were kept: store them now,
        portfolio_trend(session, MAX_DAYS)  # not at the first trend someone asks for
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.models import Shop
    from bot.ingest.demo import DemoSize, load_demo

    factory = _factory(settings)
    if args.if_empty:
        with factory() as session:
            if session.query(Shop.shop_id).first() is not None:
                print("Data already present; demo not loaded (drop --if-empty to load it anyway).")
                return 0
    end = args.end_date or settings.today()
    results = load_demo(factory, DemoSize(shops=args.shops, days=args.days, seed=args.seed), end)
    counts = ", ".join(f"{r.imported} {r.kind}" for r in results)
    print(f"Demo portfolio loaded ({counts}), data up to {end}.")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.progress import ImportBar
    from bot.db import transaction
    from bot.ingest.loader import import_paths
    from bot.services.dispatch import settle_deadlines

    factory = _factory(settings)
    bar = ImportBar()
    try:
        results = import_paths(
            factory,
            [Path(p) for p in args.files],
            skip_invalid=args.skip_invalid,
            data_date=args.date,
            sheet=args.sheet,
            dry_run=args.dry_run,
            settings=settings,
            progress=bar,
        )
    finally:
        bar.close()
    if not args.dry_run:
        with transaction(factory) as session:  # imported orders get their dispatch deadlines now
            settle_deadlines(session, settings.healthbot_timezone)
    failed = False
    verb = "would import" if args.dry_run else "imported"
    for result in results:
        what = f" from a {result.layout}" if result.layout and result.layout != result.kind else ""
        what += f", data date {result.data_date}" if result.data_date else ""
        rejected = result.errors and (
            not result.committed if not args.dry_run else (not args.skip_invalid or not result.layout)
        )
        if rejected:
            failed = True
            print(
                f"{result.source}: REJECTED, nothing {'would be ' if args.dry_run else ''}imported "
                f"({plural(result.bad_rows, 'bad row')} of {result.rows:,}):"
            )
        elif result.errors:
            print(
                f"{result.source}: {verb} {plural(result.imported, f'{result.kind} row')}{what}, "
                f"skipped {plural(result.bad_rows, 'bad row')}:"
            )
        else:
            print(f"{result.source}: {verb} {plural(result.imported, f'{result.kind} row')}{what}.")
        for note in result.notes:
            print(f"  note: {note}")
        for error in result.errors[: args.max_errors]:
            print(f"  {error}")
        if len(result.errors) > args.max_errors:
            print(f"  … and {len(result.errors) - args.max_errors} more")
    if args.dry_run:
        print("Dry run: nothing was written.")
    return 1 if failed else 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.render import render
    from bot.commands.asker import Asker
    from bot.commands.registry import answer

    text = args.text.strip()
    if text.startswith("/health"):
        text = text[len("/health") :]
    elif text.startswith("/"):
        print(
            'healthbot ask: only /health commands exist, e.g. healthbot ask "/health atrisk"', file=sys.stderr
        )
        return 2
    asker = Asker(user_id=args.user, channel_id=args.channel)
    with _factory(settings)() as session:
        reply = answer(session, text, settings=settings, offset=args.offset, asker=asker)
        if args.png:
            status = _write_trend(session, text, settings, Path(args.png))
            if status is None:
                print(
                    "healthbot ask: --png goes with /health trend <shop>|portfolio [30d|90d|180d]",
                    file=sys.stderr,
                )
                return 2
            print(status)
    if args.json:
        print(json.dumps(reply.as_message(), indent=2, ensure_ascii=False))
    else:
        print(render(reply.blocks, color=sys.stdout.isatty()), end="")
    return 0


def _write_trend(session: Session, text: str, settings: Settings, path: Path) -> str | None:
    """Write the chart `/health trend` would post; None when the text is not a trend command."""
    from bot.commands.grammar import CommandError
    from bot.commands.registry import parse
    from bot.commands.subcommands.trend import Trend
    from bot.services.lookup import find_shop
    from bot.services.trend import shop_trend

    try:
        _, args = parse(text)
    except CommandError:
        return None
    if not isinstance(args, Trend):
        return None
    if args.portfolio:
        from bot.services.portfolio_trend import portfolio_png, portfolio_trend

        uk_48_point = settings.healthbot_uk_48_point
        path.write_bytes(portfolio_png(portfolio_trend(session, args.days, uk_48_point=uk_48_point)))
        return f"chart written to {path}"
    shop = find_shop(session, args.query).shop
    if shop is None or not shop.authorized:
        return "no chart: the seller has no visible scores"
    chart = shop_trend(session, shop, args.days, uk_48_point=settings.healthbot_uk_48_point)
    if chart.empty:
        return "no chart: the seller has no visible scores"
    path.write_bytes(chart.png())
    return f"chart written to {path}"


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.has_slack_credentials or args.playground:
        from bot.playground.core import serve_playground

        return serve_playground(settings, port=args.port or settings.port)
    factory = _factory(settings)  # refuses an outdated schema before anything starts
    name_missing_settings(settings)
    if settings.slack_app_token is not None:
        return _serve_socket_mode(settings, factory, scheduler=not args.no_scheduler)
    factory.kw["bind"].dispose()  # no connection is shared with the forked workers
    return _serve_http(
        settings, port=args.port or settings.port, workers=args.workers, scheduler=not args.no_scheduler
    )


def name_missing_settings(settings: Settings) -> None:
    """Once, at start-up: every setting a configured feature needs and does not have. The reply of
    the feature that needs one names it again."""
    missing = settings.missing_settings()
    for item in missing:
        log.warning("%s", item.sentence())
    if missing:
        log.warning(
            "`healthbot doctor` checks every setting, the database, and the Slack and TikTok connections."
        )


def _serve_socket_mode(settings: Settings, factory: sessionmaker[Session], *, scheduler: bool) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.web.app import create_app
    from jobs.scheduler import start_scheduler

    app = create_app(settings, factory=factory)
    running = start_scheduler(settings, factory, app.client) if scheduler else None
    try:
        log.info("Socket Mode: connecting to Slack (no public URL needed)")
        assert settings.slack_app_token is not None
        SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]
    finally:
        if running is not None:
            running.shutdown(wait=False)
    return 0


def _serve_http(settings: Settings, *, port: int, workers: int | None, scheduler: bool) -> int:
    """gunicorn with one worker per core; the scheduler runs beside it as `healthbot scheduler`."""
    from bot.web.routes import create_web_app
    from bot.web.server import default_workers, serve_production

    def load() -> Any:
        from bot.web.app import create_app

        app = create_app(settings)
        return create_web_app(app, app.deps)

    try:  # a taken port is said at once, before anything is started
        with socket.create_server(("0.0.0.0", port)):
            pass
    except OSError as exc:
        print(f"healthbot: cannot listen on port {port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    child = subprocess.Popen([sys.executable, "-m", "bot.cli", "scheduler"]) if scheduler else None

    def on_exit(_server: Any) -> None:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait(timeout=10)

    _preload()
    count = workers or default_workers()
    log.info(
        "HTTP mode: POST http://0.0.0.0:%s/slack/events, GET /healthz, GET /readyz (%s workers)", port, count
    )
    try:
        serve_production(load, port=port, workers=count, hooks={"on_exit": on_exit})
    finally:
        on_exit(None)  # gunicorn skips on_exit when it cannot start (a port in use, say)
    return 0


def _preload() -> None:
    """Import the app's code in the master before gunicorn forks, and freeze it out of the garbage
    collector, so the workers share those pages instead of each holding a copy (the app itself, its
    engine and threads, is still built in each worker after the fork)."""
    import gc

    import bot.web.app
    import bot.web.routes  # noqa: F401
    import handlers  # noqa: F401

    gc.collect()
    gc.freeze()


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    """Run the digests, milestone DMs and sync on their schedule, in the foreground."""
    import threading

    from bot.deps import web_client
    from jobs.scheduler import start_scheduler

    running = start_scheduler(settings, _factory(settings), web_client(settings))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.shutdown(wait=False)
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.sync import run_sync

    report = run_sync(settings, _factory(settings))
    for name in report.imported:
        print(f"imported {name}")
    for name in report.rejected:
        print(f"REJECTED {name} (see the .errors.txt beside it)")
    tiktok = report.tiktok
    if tiktok is not None and tiktok.migrated_single_token:
        print("TikTok: moved TIKTOK_ACCESS_TOKEN into the database as one seller (encrypted)")
    if tiktok is not None and tiktok.sellers:
        print(
            f"TikTok: {plural(tiktok.sellers, 'seller')}, {report.shops_authorized} newly authorized, "
            f"{report.shops_deauthorized} lost access, GMV refreshed for {plural(report.gmv_updated, 'shop')}, "
            f"{plural(tiktok.orders, 'order')} read"
        )
    elif tiktok is not None:
        print("TikTok: no seller has connected yet; send one `healthbot tiktok link`")
    for source, error in report.errors.items():
        print(f"{source}: FAILED: {error}", file=sys.stderr)
    if not (settings.healthbot_import_dir or settings.tiktok_app_key):
        print("Nothing to sync: set HEALTHBOT_IMPORT_DIR and/or the TIKTOK_* settings.")
    return 1 if report.errors or report.rejected else 0


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.deps import web_client
    from bot.services.attention import points_rules
    from jobs.digests import notify_milestones, run_due

    if not args.dry_run and settings.slack_bot_token is None:
        print(
            "healthbot digest run: SLACK_BOT_TOKEN is not set (use --dry-run to see what is due)",
            file=sys.stderr,
        )
        return 2
    factory, client = _factory(settings), web_client(settings)
    uk = settings.healthbot_uk_48_point
    report = run_due(factory, client, dry_run=args.dry_run, uk_48_point=uk, rules=points_rules(settings))
    if not args.dry_run:
        for shop_id in notify_milestones(factory, client, uk_48_point=uk):
            print(f"milestone DM sent for shop {shop_id}")
    verb = "would post" if args.dry_run else "posted"
    print(
        f"{verb} {plural(len(report.posted), 'digest')}; {len(report.skipped)} not due or already sent; "
        f"{len(report.failed)} failed"
    )
    for channel in report.failed:
        print(f"  failed: {channel} (will be retried on the next run today)", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bench.run import main as bench

    return bench(args, settings)
