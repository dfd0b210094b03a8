"""Posting the daily digests that are due, their thread updates, and owners' milestone DMs.

Which digests are due and the claims that make each post once live in
`bot.services.digest_runs`; what a digest says in `bot.services.digest` and `blocks.digest`.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from blocks.digest import digest_reply, milestone_dm, shown_shop_ids, thread_updates
from blocks.dispatch import with_late_dispatch
from blocks.kit import Reply
from bot.services import claims, digest_runs, dispatch
from bot.services.digest import build_digest
from bot.services.digest_runs import WORKER
from bot.services.records import Digest, Subscription
from jobs.pacer import PACER

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    posted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def notify_milestones(
    factory: sessionmaker[Session], client: WebClient, *, uk_48_point: bool = False
) -> list[str]:
    """DM opted-in owners once when one of their sellers crossed an AHR milestone since the day before.

    Keyed on the data's day, so a later run without new data never sends the same news again."""
    with factory() as session:
        day, crossings = digest_runs.milestone_crossings(session, uk_48_point=uk_48_point)
    sent = []
    for row, milestone in crossings:
        assert day is not None and row.owner is not None
        key = f"milestone-dm:{row.shop_id}:{day.isoformat()}:{milestone.score}"
        if not claims.claim(factory, key, WORKER):
            continue
        try:
            channel = client.conversations_open(users=row.owner)["channel"]["id"]
            client.chat_postMessage(channel=channel, text=milestone_dm(row, milestone))
            sent.append(row.shop_id)
        except SlackApiError as exc:
            claims.release(factory, key)
            log.warning("milestone DM for %s failed: %s", row.shop_id, exc.response.get("error"))
    return sent


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
        subs = digest_runs.all_subscriptions(session)
    if subs and not dry_run:
        # Ended snoozes are removed for good; the earliest local day never ends one too soon.
        digest_runs.end_finished_snoozes(factory, min(digest_runs.local_day(sub, now)[0] for _, sub in subs))
    with factory() as session:
        # Digests already posted need no build: the scheduler asks every minute, on every replica.
        posted = digest_runs.posted_runs(session, (digest_runs.local_day(sub, now)[0] for _, sub in subs))
    due: list[tuple[int, Subscription, dt.date]] = []
    for sub_id, sub in subs:
        day, is_due = digest_runs.local_day(sub, now)
        if is_due and (sub_id, day) not in posted:
            due.append((sub_id, sub, day))
        else:
            report.skipped.append(sub.channel_id)
    # One build per local date, shared by every channel due that day.
    built: dict[dt.date, Digest] = {}
    for day in {d for _, _, d in due}:
        with factory() as session:
            built[day] = build_digest(
                session, day=day, since=now - dt.timedelta(hours=24), uk_48_point=uk_48_point
            )

    with factory() as session:  # the dispatch watch's section, the same for every channel
        late_dispatch = dispatch.late_dispatch_rows(session, now) if due else []

    thread_posts: list[tuple[str, str, str, Reply]] = []  # (claim key, channel, thread ts, reply)

    def post(item: tuple[int, Subscription, dt.date]) -> None:
        sub_id, sub, day = item
        digest = built[day]
        if digest.quiet and sub.skip_quiet_days:
            report.skipped.append(sub.channel_id)
            return
        if dry_run:
            sent = digest_runs.sent_today(factory, sub_id, day)
            (report.skipped if sent else report.posted).append(sub.channel_id)
            return
        run_id = digest_runs.claim_run(factory, sub_id, day, now)
        if run_id is None:
            report.skipped.append(sub.channel_id)
            return
        with factory() as session:
            threaded = digest_runs.open_threads(session, sub.channel_id, digest.shop_ids, day)
        reply = with_late_dispatch(digest_reply(digest, threaded=threaded), late_dispatch)
        try:
            PACER.wait(sub.channel_id)
            message = client.chat_postMessage(channel=sub.channel_id, text=reply.text, blocks=reply.blocks)
        except SlackApiError as exc:
            digest_runs.release_run(factory, run_id)
            log.warning("digest for %s failed: %s", sub.channel_id, exc.response.get("error"))
            report.failed.append(sub.channel_id)
            return
        ts = str(message.get("ts"))
        digest_runs.record_posted(factory, run_id, ts)
        report.posted.append(sub.channel_id)
        shown = shown_shop_ids(digest, threaded) | set(threaded)
        digest_runs.remember_threads(factory, sub.channel_id, shown, threaded, ts, day)
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
