"""`healthbot tiktok link` (a fresh authorization link for a seller) and `healthbot dispatch due`
(one order's dispatch deadline, in ISO 8601 with its offset)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import domain
from bot.settings import Settings


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tiktok", help="TikTok Shop: a fresh authorization link for a seller")
    p.add_argument("action", choices=["link"])
    p.set_defaults(func=cmd_tiktok)

    p = sub.add_parser("dispatch", help="dispatch deadlines")
    p.add_argument("action", choices=["due"])
    p.add_argument(
        "ordered_at", help="when the order was placed, ISO 8601 (local to --tz unless it has an offset)"
    )
    p.add_argument("--tz", default=None, help="the shop's time zone (default: HEALTHBOT_TIMEZONE)")
    p.add_argument("--sla", help="TikTok's own SLA time for the order, ISO 8601: it wins")
    p.set_defaults(func=cmd_dispatch)


def cmd_tiktok(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ingest.tiktok.connect import NotConfigured, new_authorization_link

    try:
        link = new_authorization_link(settings)
    except NotConfigured as exc:
        print(f"healthbot tiktok link: {exc}", file=sys.stderr)
        return 2
    print(link)
    print(
        f"Send it to the seller: valid {settings.tiktok_link_hours} h, single use. "
        "TikTok brings them back to GET /tiktok/oauth/callback.",
        file=sys.stderr,
    )
    return 0


def _moment(text: str, zone: ZoneInfo, what: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} {text[:40]!r} is not an ISO 8601 time, e.g. 2026-07-02T10:00") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def cmd_dispatch(args: argparse.Namespace, settings: Settings) -> int:
    name = args.tz or settings.healthbot_timezone
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        print(
            f"healthbot dispatch due: unknown time zone {name[:40]!r} (e.g. America/New_York)",
            file=sys.stderr,
        )
        return 2
    try:
        ordered = _moment(args.ordered_at, zone, "the order time")
        sla = _moment(args.sla, zone, "--sla") if args.sla else None
    except ValueError as exc:
        print(f"healthbot dispatch due: {exc}", file=sys.stderr)
        return 2
    print(domain.dispatch_deadline(ordered, zone, sla).isoformat())
    return 0
