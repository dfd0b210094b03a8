"""Daily digests: subscriptions, what goes in one, and posting each exactly once per local day.

Exactly once: a claim row (unique per subscription and local date) is written before posting and
the message timestamp after. A claim left without a timestamp by a crashed process is taken over
after a lease, on the same local day only; a digest missed while the bot was down is sent when it
comes back, the same day, never the next.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from blocks.cards import message
from blocks.common import Reply, escape, finish, section
from blocks.digest import digest_reply, shown_shop_ids, thread_updates
from bot import claims, commands, domain, followup, services
from bot.digests import Digest, build_digest
from bot.health import latest_data_date
from bot.models import DigestRun, DigestSubscription, DigestThread, Shop, ShopHealth
from bot.replies import Asker
from bot.settings import Settings

log = logging.getLogger(__name__)

CLAIM_LEASE = dt.timedelta(minutes=5)


class ChannelPacer:
    """Spaces this process's messages to one channel by Slack's limit (about one a second), so
    posting waits its turn instead of running into 429s. A cache of timings, not state: another
    replica's posts are still covered by the client's Retry-After handling."""

    def __init__(self, interval: float = 1.05) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def next_slot(self, channel: str) -> float:
        with self._lock:
            return self._next.get(channel, 0.0)

    def wait(self, channel: str) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(channel, 0.0))
            self._next[channel] = slot + self.interval  # reserve: the next caller waits after us
        if slot > now:
            time.sleep(slot - now)


PACER = ChannelPacer()
WORKER = f"{socket.gethostname()}:{os.getpid()}"


# ---- subscriptions (`/health digest ...`) ----

_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(\|[^>]*)?>$|^([CG][A-Z0-9]{6,})$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _parse_subscribe(
    args: Sequence[str], default_channel: str | None, default_tz: str
) -> tuple[str, str, str, bool]:
    channel, at, tz, skip_quiet = default_channel, "09:00", default_tz, False
    i = 0
    while i < len(args):
        word = args[i]
        lowered = word.lower()
        if _CHANNEL.match(word):
            m = _CHANNEL.match(word)
            assert m is not None
            channel = m.group(1) or m.group(3)
            i += 1
        elif word.startswith("#"):
            raise commands.CommandError(
                f"I can't tell which channel `{word[:40]}` is; pick it from Slack's channel list so it becomes a link"
            )
        elif lowered == "at" and i + 1 < len(args):
            m = _TIME.match(args[i + 1])
            if not m:
                raise commands.CommandError(
                    f"`{args[i + 1][:20]}` is not a time; use 24-hour HH:MM, e.g. `at 08:30`"
                )
            at = f"{int(m.group(1)):02d}:{m.group(2)}"
            i += 2
        elif lowered == "tz" and i + 1 < len(args):
            try:
                ZoneInfo(args[i + 1])
            except (ZoneInfoNotFoundError, ValueError):
                raise commands.CommandError(
                    f"`{args[i + 1][:40]}` is not a time zone; use Area/City, e.g. `tz America/New_York`"
                ) from None
            tz = args[i + 1]
            i += 2
        elif lowered in ("skip-quiet", "quiet:skip", "skip"):
            skip_quiet, i = True, i + 1
        else:
            raise commands.CommandError(
                f"`digest subscribe` does not understand `{word[:30]}`; try `digest subscribe #channel at 09:00 tz America/New_York [skip-quiet]`"
            )
    if not channel:
        raise commands.CommandError("which channel? e.g. `digest subscribe #seller-health`")
    return channel, at, tz, skip_quiet


def manage_digest(session: Session, command: commands.Digest, asker: Asker, settings: Settings) -> Reply:
    """`/health digest subscribe|unsubscribe|list|preview`; changes are for admins only."""
    if command.action in ("subscribe", "unsubscribe") and not asker.is_admin:
        return message("Only the bot's admins (HEALTHBOT_ADMINS) may change digest subscriptions.")
    try:
        if command.action == "subscribe":
            channel, at, tz, skip_quiet = _parse_subscribe(
                command.args, asker.channel_id, settings.healthbot_timezone
            )
            return _subscribe(session, channel, at, tz, skip_quiet, asker.user_id)
        if command.action == "unsubscribe":
            channel, *_ = _parse_subscribe(command.args, asker.channel_id, settings.healthbot_timezone)
            with session.begin():
                gone = session.execute(
                    delete(DigestSubscription).where(DigestSubscription.channel_id == channel)
                )
            if not gone.rowcount:  # type: ignore[attr-defined]
                return message(f"<#{channel}> had no digest subscription.", mrkdwn=True)
            return message(f"Unsubscribed <#{channel}> from the daily digest.", mrkdwn=True)
    except commands.CommandError as exc:
        return message(f"Sorry, {exc}.")
    if command.action == "list":
        subs = list(session.scalars(select(DigestSubscription).order_by(DigestSubscription.channel_id)))
        if not subs:
            return message("No channel is subscribed yet: `/health digest subscribe #channel at 09:00`.")
        lines = [
            f"• <#{s.channel_id}> at {s.post_at} {s.timezone}{' (skips quiet days)' if s.skip_quiet_days else ''}"
            for s in subs
        ]
        return Reply(
            "Digest subscriptions", finish([section("*Daily digest subscriptions*\n" + "\n".join(lines))])
        )
    today = dt.datetime.now(ZoneInfo(settings.healthbot_timezone)).date()
    return digest_reply(build_digest(session, day=today, uk_48_point=settings.healthbot_uk_48_point))


def _subscribe(session: Session, channel: str, at: str, tz: str, skip_quiet: bool, user_id: str) -> Reply:
    with session.begin():
        sub = session.scalar(select(DigestSubscription).where(DigestSubscription.channel_id == channel))
        if sub is None:
            sub = DigestSubscription(
                channel_id=channel, created_by=user_id, created_at=dt.datetime.now(dt.UTC)
            )
        sub.post_at, sub.timezone, sub.skip_quiet_days = at, tz, skip_quiet
        session.add(sub)
    quiet = " Quiet days are skipped." if skip_quiet else " Quiet days get one all-clear line."
    return message(f"<#{channel}> will get the daily digest at {at} ({escape(tz)}).{quiet}", mrkdwn=True)


# ---- threads: a seller's later news goes into the thread where it first appeared ----

THREAD_DAYS = 7  # a seller absent from the digest this long starts a new thread


def open_threads(session: Session, channel_id: str, shop_ids: set[str], day: dt.date) -> dict[str, str]:
    """shop_id -> thread ts for sellers posted in this channel in the last week (before today)."""
    if not shop_ids:
        return {}
    rows = session.execute(
        select(DigestThread.shop_id, DigestThread.thread_ts).where(
            DigestThread.channel_id == channel_id,
            DigestThread.shop_id.in_(sorted(shop_ids)),
            DigestThread.last_day >= day - dt.timedelta(days=THREAD_DAYS),
            DigestThread.last_day < day,
        )
    )
    return {shop_id: ts for shop_id, ts in rows}


def remember_threads(
    factory: sessionmaker[Session],
    channel_id: str,
    digest: Digest,
    threaded: Mapping[str, str],
    ts: str,
    day: dt.date,
) -> None:
    shop_ids = shown_shop_ids(digest, threaded) | set(threaded)
    with factory() as session, session.begin():
        existing = {
            row.shop_id: row
            for row in session.scalars(
                select(DigestThread).where(
                    DigestThread.channel_id == channel_id, DigestThread.shop_id.in_(sorted(shop_ids))
                )
            )
        }
        for shop_id in shop_ids:
            row = existing.get(shop_id) or DigestThread(channel_id=channel_id, shop_id=shop_id)
            if shop_id not in threaded:  # a new thread starts at today's message
                row.thread_ts, row.first_day = ts, day
            row.last_day = day
            session.add(row)


# ---- owners' milestone DMs ----


def notify_milestones(
    factory: sessionmaker[Session], client: WebClient, *, uk_48_point: bool = False
) -> list[str]:
    """DM opted-in owners once when one of their sellers crossed an AHR milestone since the day before.

    Keyed on the data's day, so a later run without new data never sends the same news again."""
    with factory() as session:
        day = latest_data_date(session)
        if day is None:
            return []
        rows = [
            services.SellerRow(*values)
            for values in session.execute(
                services.seller_select(services.Window.DAY).where(
                    Shop.owner.is_not(None), Shop.authorized.is_(True), ShopHealth.ahr < ShopHealth.ahr_1d
                )
            )
        ]
        crossings = [
            (r, domain.crossed_milestones(r.ahr_then, r.ahr, r.region))
            for r in rows
            if not domain.uses_penalty_points(r.region, uk_48_point=uk_48_point)
        ]
        crossings = [(r, c) for r, c in crossings if c]
        wanted = followup.wants_milestone_dm(session, {r.owner for r, _ in crossings if r.owner})
    sent = []
    for row, crossed in crossings:
        if row.owner not in wanted:
            continue
        key = f"milestone-dm:{row.shop_id}:{day.isoformat()}:{crossed[-1].score}"
        if not claims.claim(factory, key, WORKER):
            continue
        text = (
            f":warning: *{escape(row.shop_name)}* (`{escape(row.shop_code)}`) fell to AHR {row.ahr} "
            f"(from {row.ahr_then}) and reached {crossed[-1].score}: {crossed[-1].restriction}. "
            f"`/health shop {escape(row.shop_code)}` for the card."
        )
        try:
            channel = client.conversations_open(users=row.owner)["channel"]["id"]
            client.chat_postMessage(channel=channel, text=text)
            sent.append(row.shop_id)
        except SlackApiError as exc:
            claims.release(factory, key)
            log.warning("milestone DM for %s failed: %s", row.shop_id, exc.response.get("error"))
    return sent


# ---- running ----


@dataclass
class RunReport:
    posted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _local(sub: DigestSubscription, now: dt.datetime) -> tuple[dt.date, bool]:
    local = now.astimezone(ZoneInfo(sub.timezone))
    hour, minute = (int(p) for p in sub.post_at.split(":"))
    return local.date(), (local.hour, local.minute) >= (hour, minute)


def _claim(factory: sessionmaker[Session], sub_id: int, day: dt.date, now: dt.datetime) -> int | None:
    """The run's id when this worker may post today's digest, None when it is done or taken."""
    try:
        with factory() as session, session.begin():
            run = DigestRun(subscription_id=sub_id, local_date=day, claimed_at=now, claimed_by=WORKER)
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        pass
    with factory() as session, session.begin():
        # Take over a claim whose holder died before posting (no timestamp, lease expired).
        existing = session.scalar(
            select(DigestRun).where(DigestRun.subscription_id == sub_id, DigestRun.local_date == day)
        )
        if existing is None or existing.message_ts is not None:
            return None
        taken = session.execute(
            update(DigestRun)
            .where(
                DigestRun.id == existing.id,
                DigestRun.message_ts.is_(None),
                DigestRun.claimed_at < now - CLAIM_LEASE,
            )
            .values(claimed_at=now, claimed_by=WORKER)
            # The database decides; comparing in Python would mix SQLite's naive and aware datetimes.
            .execution_options(synchronize_session=False)
        )
        return existing.id if taken.rowcount else None  # type: ignore[attr-defined]


def _sent_today(factory: sessionmaker[Session], sub_id: int, day: dt.date) -> bool:
    with factory() as session:
        return (
            session.scalar(
                select(DigestRun.id).where(
                    DigestRun.subscription_id == sub_id,
                    DigestRun.local_date == day,
                    DigestRun.message_ts.is_not(None),
                )
            )
            is not None
        )


def run_due(
    factory: sessionmaker[Session],
    client: WebClient,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    workers: int = 8,
    uk_48_point: bool = False,
) -> RunReport:
    """Post every digest that is due now and not yet posted today (local to each subscription)."""
    now = now or dt.datetime.now(dt.UTC)
    report = RunReport()
    with factory() as session:
        subs = list(session.scalars(select(DigestSubscription)))
    if subs and not dry_run:
        # Ended snoozes are removed for good; the earliest local day never ends one too soon.
        with factory() as session, session.begin():
            followup.end_finished_snoozes(session, min(_local(sub, now)[0] for sub in subs))
    with factory() as session:
        # Digests already posted need no build: the scheduler asks every minute, on every replica.
        days = {_local(sub, now)[0] for sub in subs}
        posted = {
            (sub_id, day)
            for sub_id, day in session.execute(
                select(DigestRun.subscription_id, DigestRun.local_date).where(
                    DigestRun.message_ts.is_not(None), DigestRun.local_date.in_(days)
                )
            )
        }
    due = []
    for sub in subs:
        day, is_due = _local(sub, now)
        if is_due and (sub.id, day) not in posted:
            due.append((sub, day))
        else:
            report.skipped.append(sub.channel_id)
    # One build per local date, shared by every channel due that day.
    built: dict[dt.date, Digest] = {}
    for day in {d for _, d in due}:
        with factory() as session:
            built[day] = build_digest(
                session, day=day, since=now - dt.timedelta(hours=24), uk_48_point=uk_48_point
            )

    thread_posts: list[tuple[str, str, str, Reply]] = []  # (claim key, channel, thread ts, reply)

    def post(item: tuple[DigestSubscription, dt.date]) -> None:
        sub, day = item
        digest = built[day]
        if digest.quiet and sub.skip_quiet_days:
            report.skipped.append(sub.channel_id)
            return
        if dry_run:
            (report.skipped if _sent_today(factory, sub.id, day) else report.posted).append(sub.channel_id)
            return
        run_id = _claim(factory, sub.id, day, now)
        if run_id is None:
            report.skipped.append(sub.channel_id)
            return
        with factory() as session:
            threaded = open_threads(session, sub.channel_id, digest.shop_ids, day)
        reply = digest_reply(digest, threaded=threaded)
        try:
            PACER.wait(sub.channel_id)
            posted = client.chat_postMessage(channel=sub.channel_id, text=reply.text, blocks=reply.blocks)
        except SlackApiError as exc:
            # Give the claim back so the next run (same day) tries again.
            with factory() as session, session.begin():
                session.execute(
                    delete(DigestRun).where(DigestRun.id == run_id, DigestRun.message_ts.is_(None))
                )
            log.warning("digest for %s failed: %s", sub.channel_id, exc.response.get("error"))
            report.failed.append(sub.channel_id)
            return
        with factory() as session, session.begin():
            session.execute(
                update(DigestRun)
                .where(DigestRun.id == run_id)
                .values(message_ts=posted.get("ts"), posted_at=dt.datetime.now(dt.UTC))
            )
        report.posted.append(sub.channel_id)
        remember_threads(factory, sub.channel_id, digest, threaded, str(posted.get("ts")), day)
        for thread_ts, update_reply in thread_updates(digest, threaded).items():
            thread_posts.append(
                (f"digest-thread:{run_id}:{thread_ts}", sub.channel_id, thread_ts, update_reply)
            )

    def post_in_thread(item: tuple[str, str, str, Reply]) -> None:
        key, channel, thread_ts, reply = item
        if not claims.claim(factory, key, WORKER):
            return
        try:
            PACER.wait(channel)
            client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=reply.text, blocks=reply.blocks
            )
        except SlackApiError as exc:
            claims.release(factory, key)
            log.warning("thread update in %s failed: %s", channel, exc.response.get("error"))

    # Every channel's digest first, thread updates in a second pass: a channel's next message then
    # comes after the others' digests, not straight into Slack's one-per-second limit.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(post, due))
        thread_posts.sort(key=lambda item: PACER.next_slot(item[1]))  # channels free first go first
        list(pool.map(post_in_thread, thread_posts))
    return report
