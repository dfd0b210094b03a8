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
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from blocks.cards import message, seller_row
from blocks.common import Reply, context, divider, escape, finish, header, money, section
from blocks.common import name as display_name
from bot import claims, commands, domain, followup, security, services
from bot.domain import Score
from bot.health import latest_data_date
from bot.models import DigestRun, DigestSubscription, DigestThread, Shop, ShopHealth, Violation
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
APPEAL_SOON_DAYS = 7
MAX_DIGEST_ROWS = 30
WORKER = f"{socket.gethostname()}:{os.getpid()}"


# ---- content ----


class Section:
    MILESTONE = "Crossed an AHR milestone"
    AHR_DROP = "AHR dropped more than 20"
    SPS_DROP = "SPS dropped more than 0.5"
    CHR_DROP = "CHR dropped more than 20"
    APPEALS = "Appeal deadlines within 7 days"
    AUTH_LOST = "Authorization lost"

    ORDER = (MILESTONE, AHR_DROP, SPS_DROP, CHR_DROP, APPEALS, AUTH_LOST)


@dataclass
class Digest:
    day: dt.date
    sections: dict[str, list[services.SellerRow]] = field(default_factory=dict)
    gmv_at_risk: float = 0.0
    groups: list[tuple[str, int]] = field(default_factory=list)  # (policy, sellers) hit the same day
    snoozed: int = 0
    notes: dict[str, str] = field(default_factory=dict)  # shop_id -> trusted mrkdwn (acknowledged by ...)
    security: list[tuple[str, str, str, int]] = field(default_factory=list)  # open Security Center items

    @property
    def shop_ids(self) -> set[str]:
        return {row.shop_id for rows in self.sections.values() for row in rows}

    @property
    def sellers(self) -> int:
        return len(self.shop_ids)

    @property
    def quiet(self) -> bool:
        return not any(self.sections.values()) and not self.security and not self.groups


GROUP_MIN_SELLERS = 3  # "several" sellers hit by one policy within a day make an incident


def _forecast(row: services.SellerRow) -> str:
    """How far the score is from the next milestone, e.g. '15 above 150 (7 days without ...)'."""
    if row.ahr is None:
        return ""
    milestone = domain.next_milestone(row.ahr, row.region)
    if milestone is None:
        return ""
    warn = ":warning: " if domain.milestone_warning(row.ahr, row.region) else ""
    return f" · {warn}{row.ahr - milestone.score} above {milestone.score}"


def build_digest(session: Session, *, day: dt.date, since: dt.datetime | None = None) -> Digest:
    """What changed since yesterday that a manager must act on, highest GMV first in each section.

    Snoozed sellers are left out unless they got worse since they were snoozed.
    """
    # Access lost since the previous daily digest (24 hours ago), so no loss is reported twice.
    since = since or dt.datetime.now(dt.UTC) - dt.timedelta(hours=24)
    window = services.Window.DAY
    query = services.seller_select(window).where(
        services.needs_action(tuple(Score), window)
        | (ShopHealth.ahr < ShopHealth.ahr_1d)  # any fall may cross a milestone, however small
        | (Shop.authorization_lost_at.is_not(None))
    )
    rows = [services.SellerRow(*values) for values in session.execute(query)]
    digest = Digest(day=day, sections={name: [] for name in Section.ORDER})
    for row in rows:
        # 48-point regions collect penalty points: never AHR milestones or AHR advice (DOMAIN.md).
        if row.authorized and not domain.uses_penalty_points(row.region):
            crossed = domain.crossed_milestones(row.ahr_then, row.ahr, row.region)
            if crossed:
                text = (
                    f"AHR {row.ahr_then} → {row.ahr}: reached {crossed[-1].score}, {crossed[-1].restriction}"
                )
                digest.sections[Section.MILESTONE].append(_with(row, text))
            elif domain.action_required(Score.AHR, row.ahr, row.ahr_then):
                text = f"AHR {row.ahr_then} → {row.ahr}{_forecast(row)}"
                digest.sections[Section.AHR_DROP].append(_with(row, text))
        if row.authorized and domain.action_required(Score.SPS, row.sps_tenths, row.sps_tenths_then):
            text = f"SPS {domain.format_sps(row.sps_tenths_then)} → {domain.format_sps(row.sps_tenths)}"
            digest.sections[Section.SPS_DROP].append(_with(row, text))
        if row.authorized and row.chr_authorized and domain.action_required(Score.CHR, row.chr, row.chr_then):
            change = domain.delta(row.chr, row.chr_then) or 0
            text = f"CHR fell {-change} (lowest account now {row.chr})"
            digest.sections[Section.CHR_DROP].append(_with(row, text))
    lost = session.execute(
        services.seller_select(window)
        .add_columns(Shop.authorization_lost_at)
        .where(Shop.authorization_lost_at >= since)
    )
    for *values, _lost_at in lost:
        digest.sections[Section.AUTH_LOST].append(
            _with(services.SellerRow(*values), "shop data access was revoked")
        )
    for row, text in _appeals_closing(session, day):
        digest.sections[Section.APPEALS].append(_with(row, text))
    snoozed = followup.active_snoozes(session, day)
    before = digest.shop_ids
    for name in Section.ORDER:
        kept = [r for r in digest.sections[name] if r.shop_id not in snoozed]
        digest.sections[name] = sorted(kept, key=lambda r: (-(r.gmv_7d or 0), r.shop_code))
    digest.snoozed = len(before - digest.shop_ids)
    seen: set[str] = set()
    for rows_in_section in digest.sections.values():
        for row in rows_in_section:
            if row.shop_id not in seen and row.authorized:
                seen.add(row.shop_id)
                digest.gmv_at_risk += row.gmv_7d or 0
    for shop_id, ack in followup.latest_acknowledgements(session, sorted(digest.shop_ids)).items():
        digest.notes[shop_id] = (
            f":white_check_mark: acknowledged by <@{ack.user_id}> {ack.acknowledged_at:%b %-d}"
        )
    digest.groups = _incidents(session, day)
    digest.security = security.shops_with_open_items(session)
    return digest


def _incidents(session: Session, day: dt.date) -> list[tuple[str, int]]:
    """Policies that hit several sellers within the day (notices dated the digest day or the day before)."""
    counts = session.execute(
        select(Violation.policy, func.count(func.distinct(Violation.shop_id)))
        .join(Shop, Shop.shop_id == Violation.shop_id)
        .where(
            Shop.authorized.is_(True),
            Violation.notified_at >= day - dt.timedelta(days=1),
            Violation.notified_at <= day,
        )
        .group_by(Violation.policy)
    )
    groups = [(policy, int(n)) for policy, n in counts if n >= GROUP_MIN_SELLERS]
    return sorted(groups, key=lambda g: (-g[1], g[0]))


def _with(row: services.SellerRow, reason: str) -> services.SellerRow:
    return replace(row, reasons=(reason,))


def _appeals_closing(session: Session, day: dt.date) -> list[tuple[services.SellerRow, str]]:
    """Appealable violations whose deadline falls within the next 7 days (deadline day included)."""
    # Shop violations stay appealable for 60 days after notice (a second appeal after a rejection).
    candidates = session.scalars(
        select(Violation)
        .join(Shop, Shop.shop_id == Violation.shop_id)
        .where(Shop.authorized.is_(True), Violation.notified_at >= day - dt.timedelta(days=60))
    )
    nearest: dict[str, tuple[dt.date, Violation]] = {}
    for violation in candidates:
        facts = services.violation_facts(violation)
        if not domain.appealable(facts, day):
            continue
        deadline = domain.appeal_deadline(facts)
        if (deadline - day).days <= APPEAL_SOON_DAYS and (
            violation.shop_id not in nearest or deadline < nearest[violation.shop_id][0]
        ):
            nearest[violation.shop_id] = (deadline, violation)
    if not nearest:
        return []
    rows = {
        values[0]: services.SellerRow(*values)
        for values in session.execute(
            services.seller_select(services.Window.DAY).where(Shop.shop_id.in_(list(nearest)))
        )
    }
    out = []
    for shop_id, (deadline, violation) in nearest.items():
        left = (deadline - day).days
        text = f"{violation.policy}: appeal by {deadline:%b %-d} ({left} day{'s' if left != 1 else ''} left)"
        out.append((rows[shop_id], text))
    return out


def digest_reply(
    digest: Digest, *, max_rows: int = MAX_DIGEST_ROWS, threaded: Mapping[str, str] | None = None
) -> Reply:
    """The top-level digest message. Sellers in `threaded` (shop_id -> thread ts) already have a
    thread in this channel: they are counted here and updated in their thread instead."""
    threaded = threaded or {}
    title = f"Daily seller health digest · {digest.day:%a %b %-d, %Y}"
    if digest.quiet:
        return Reply(
            f"{title}: all clear",
            finish(
                [
                    header(title),
                    section(
                        ":white_check_mark: All clear: no seller needs action today."
                        + (f" ({digest.snoozed} snoozed)" if digest.snoozed else "")
                    ),
                ]
            ),
        )
    summary = (
        f"*{digest.sellers}* seller(s) need action · *{money(digest.gmv_at_risk)}* GMV (last 7 days) at risk"
    )
    if digest.snoozed:
        summary += f" · {digest.snoozed} snoozed"
    blocks: list[Block] = [header(title), section(summary)]
    if digest.groups:
        lines = [f"• *{escape(policy)}*: {count} sellers" for policy, count in digest.groups[:8]]
        blocks.append(section(":rotating_light: *Same policy, several sellers today*\n" + "\n".join(lines)))
    if digest.security:
        lines = [
            f"• *{display_name(shop_name)}* `{escape(code)}`: {count} open item(s)"
            for _, code, shop_name, count in digest.security[:5]
        ]
        more = f"\n… and {len(digest.security) - 5} more shops" if len(digest.security) > 5 else ""
        blocks.append(
            section(
                ":shield: *Security Center: alert orders and risk refunds to handle* (no penalty for acting)\n"
                + "\n".join(lines)
                + more
                + "\n`/health security <shop>` for details".replace("<", "&lt;").replace(">", "&gt;")
            )
        )
    in_threads = sorted(digest.shop_ids & set(threaded))
    if in_threads:
        blocks.append(
            context(
                f":thread: {len(in_threads)} seller(s) already in a recent digest: updates are in their threads"
            )
        )
    sections, hidden = _layout(digest, threaded, max_rows)
    index = 0
    for name, rows, total in sections:
        blocks.append(divider())
        blocks.append(section(f"*{name}* ({total})"))
        for row in rows:
            blocks.extend(
                seller_row(row, services.Window.DAY, index, note=digest.notes.get(row.shop_id), menu=True)
            )
            index += 1
    footer: list[Block] = []
    if hidden:
        footer.append(context(f"… and {hidden} more: run `/health atrisk` for the full list"))
    return Reply(f"{title}: {digest.sellers} sellers need action", finish(blocks, footer=footer))


def _layout(
    digest: Digest, threaded: Mapping[str, str], max_rows: int
) -> tuple[list[tuple[str, list[services.SellerRow], int]], int]:
    """Sections as the top-level message shows them: (name, rows shown, rows in all), and how many
    rows the cap hid. Sellers with a thread are left to their thread."""
    shown: list[tuple[str, list[services.SellerRow], int]] = []
    room, hidden = max_rows, 0
    for name in Section.ORDER:
        rows = [r for r in digest.sections[name] if r.shop_id not in threaded]
        if not rows:
            continue
        if room > 0:
            shown.append((name, rows[:room], len(rows)))
        hidden += max(0, len(rows) - room)
        room = max(0, room - len(rows))
    return shown, hidden


def shown_shop_ids(digest: Digest, threaded: Mapping[str, str], max_rows: int = MAX_DIGEST_ROWS) -> set[str]:
    """The sellers the top-level message shows as rows (the cap hides the rest)."""
    sections, _ = _layout(digest, threaded, max_rows)
    return {row.shop_id for _, rows, _ in sections for row in rows}


def thread_updates(digest: Digest, threaded: Mapping[str, str]) -> dict[str, Reply]:
    """One reply per existing thread, listing today's news for the sellers it follows."""
    by_thread: dict[str, list[tuple[str, services.SellerRow]]] = {}
    for name in Section.ORDER:
        for row in digest.sections[name]:
            if row.shop_id in threaded:
                by_thread.setdefault(threaded[row.shop_id], []).append((name, row))
    replies = {}
    for ts, items in by_thread.items():
        blocks: list[Block] = [section(f"*Update {digest.day:%a %b %-d}*")]
        for i, (name, row) in enumerate(items[:MAX_DIGEST_ROWS]):
            blocks.extend(
                seller_row(replace(row, reasons=(f"{name}: {row.reasons[0]}",) if row.reasons else ()),
                           services.Window.DAY, i, note=digest.notes.get(row.shop_id), menu=True)
            )  # fmt: skip
        if len(items) > MAX_DIGEST_ROWS:
            blocks.append(context(f"… and {len(items) - MAX_DIGEST_ROWS} more"))
        replies[ts] = Reply(f"Update {digest.day:%b %-d}: {len(items)} item(s)", finish(blocks))
    return replies


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
    return digest_reply(build_digest(session, day=today))


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


def notify_milestones(factory: sessionmaker[Session], client: WebClient) -> list[str]:
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
            if not domain.uses_penalty_points(r.region)
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
) -> RunReport:
    """Post every digest that is due now and not yet posted today (local to each subscription)."""
    now = now or dt.datetime.now(dt.UTC)
    report = RunReport()
    with factory() as session:
        subs = list(session.scalars(select(DigestSubscription)))
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
            built[day] = build_digest(session, day=day, since=now - dt.timedelta(hours=24))

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
