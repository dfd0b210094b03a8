"""`/health digest subscribe|unsubscribe|list|preview`: the channel's daily digest."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from blocks.digest import digest_reply, subscriptions_card
from blocks.kit import Reply
from blocks.message import message
from blocks.text import escape
from bot.commands.grammar import CommandError, Words
from bot.commands.spec import Invocation, Subcommand
from bot.services import dispatch, subscriptions
from bot.services.digest import build_digest

ACTIONS = ("subscribe", "unsubscribe", "list", "preview")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(\|[^>]*)?>$|^([CG][A-Z0-9]{6,})$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Digest:
    action: str  # subscribe | unsubscribe | list | preview
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    channel: str
    at: str
    tz: str
    skip_quiet: bool


def _parse(words: Words) -> Digest:
    rest = words.lower
    if not rest or rest[0] not in ACTIONS:
        raise CommandError("`digest` takes `subscribe`, `unsubscribe`, `list` or `preview`")
    return Digest(rest[0], words.raw[1:])


def parse_schedule(args: tuple[str, ...], default_channel: str | None, default_tz: str) -> Schedule:
    channel, at, tz, skip_quiet = default_channel, "09:00", default_tz, False
    i = 0
    while i < len(args):
        word = args[i]
        lowered = word.lower()
        matched = _CHANNEL.match(word)
        if matched:
            channel = matched.group(1) or matched.group(3)
            i += 1
        elif word.startswith("#"):
            raise CommandError(
                f"I can't tell which channel `{word[:40]}` is; pick it from Slack's channel list so it becomes a link"
            )
        elif lowered == "at" and i + 1 < len(args):
            time = _TIME.match(args[i + 1])
            if not time:
                raise CommandError(f"`{args[i + 1][:20]}` is not a time; use 24-hour HH:MM, e.g. `at 08:30`")
            at = f"{int(time.group(1)):02d}:{time.group(2)}"
            i += 2
        elif lowered == "tz" and i + 1 < len(args):
            try:
                ZoneInfo(args[i + 1])
            except (ZoneInfoNotFoundError, ValueError):
                raise CommandError(
                    f"`{args[i + 1][:40]}` is not a time zone; use Area/City, e.g. `tz America/New_York`"
                ) from None
            tz = args[i + 1]
            i += 2
        elif lowered in ("skip-quiet", "quiet:skip", "skip"):
            skip_quiet, i = True, i + 1
        else:
            raise CommandError(
                f"`digest subscribe` does not understand `{word[:30]}`; try `digest subscribe #channel at 09:00 tz America/New_York [skip-quiet]`"
            )
    if not channel:
        raise CommandError("which channel? e.g. `digest subscribe #seller-health`")
    return Schedule(channel, at, tz, skip_quiet)


def _run(invocation: Invocation, args: Digest) -> Reply:
    session, asker, settings = invocation.session, invocation.asker, invocation.settings
    if args.action in ("subscribe", "unsubscribe"):
        try:
            schedule = parse_schedule(args.args, asker.channel_id, settings.healthbot_timezone)
        except CommandError as exc:
            return message(f"Sorry, {exc}.")
        channel = schedule.channel
        if args.action == "unsubscribe":
            if not subscriptions.unsubscribe(session, channel):
                return message(f"<#{channel}> had no digest subscription.", mrkdwn=True)
            return message(f"Unsubscribed <#{channel}> from the daily digest.", mrkdwn=True)
        if asker.shared(channel):
            return message(
                f"<#{channel}> is shared with another organisation (or I cannot see it), and the digest "
                "lists every seller's health and GMV: subscribe an internal channel instead.",
                mrkdwn=True,
            )
        subscriptions.subscribe(
            session, channel, schedule.at, schedule.tz, schedule.skip_quiet, asker.user_id
        )
        quiet = " Quiet days are skipped." if schedule.skip_quiet else " Quiet days get one all-clear line."
        return message(
            f"<#{channel}> will get the daily digest at {schedule.at} ({escape(schedule.tz)}).{quiet}",
            mrkdwn=True,
        )
    if args.action == "list":
        return subscriptions_card(subscriptions.subscriptions(session))
    now = dt.datetime.now(dt.UTC)
    late = dispatch.late_dispatch_rows(session, now)
    return digest_reply(
        build_digest(session, invocation.lens()), late_dispatch=late, now=now, zone=invocation.zone
    )


SUBCOMMANDS = (
    Subcommand(
        name="digest",
        usage="digest subscribe [#channel] [at HH:MM] [tz Area/City] [skip-quiet] | unsubscribe | list | preview",
        summary="this channel's daily digest (changes are for admins)",
        example="digest subscribe #seller-health at 09:00 tz America/New_York",
        parse=_parse,
        run=_run,
        admin_only=lambda args: args.action in ("subscribe", "unsubscribe"),
        admin_action="change digest subscriptions",
        shareable=lambda args: args.action == "preview",
        rank=85,
    ),
)
