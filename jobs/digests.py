"""Posting the daily digests that are due, their thread updates, and owners' milestone DMs.

Which digests are due and the claims that make each post once live in
`bot.services.digest_runs`; what a digest says in `bot.services.digest` and `blocks.digest`.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session, sessionmaker

from blocks.digest import digest_reply, milestone_dm, shown_shop_ids, thread_lists, thread_updates
from blocks.kit import Reply
from blocks.trend import portfolio_alt_text, portfolio_comment
from bot import domain
from bot.services import claims, digest_runs, dispatch, posts
from bot.services.attention import Lens
from bot.services.digest import build_digest
from bot.services.digest_records import Digest, PortfolioTrend, Subscription
from bot.services.digest_runs import WORKER
from bot.services.portfolio_trend import chart_title, portfolio_png, portfolio_trend
from bot.slack.channels import Channels
from bot.slack.poster import Outcome, Poster
from jobs.pacer import PACER, ChannelPacer

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    posted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # Posted or not, Slack did not say and the history could not be read: the next run settles it.
    unsettled: list[str] = field(default_factory=list)
    # Shared with another organisation since it was subscribed: portfolio content never goes there.
    refused: list[str] = field(default_factory=list)


def notify_milestones(
    factory: sessionmaker[Session],
    client: WebClient,
    *,
    uk_48_point: bool = False,
    poster: Poster | None = None,
) -> list[str]:
    """DM opted-in owners once when one of their sellers crossed an AHR milestone since the day before.

    Keyed on the data's day, so a later run without new data never sends the same news again."""
    with factory() as session:
        day, crossings = digest_runs.milestone_crossings(session, uk_48_point=uk_48_point)
    poster = poster or Poster(client, factory, worker=WORKER)
    sent = []
    for row, milestone in crossings:
        assert day is not None and row.owner is not None
        key = f"milestone-dm:{row.shop_id}:{day.isoformat()}:{milestone.score}"
        with factory() as session:
            if posts.posted_ts(session, key):
                continue
        try:
            channel = client.conversations_open(users=row.owner)["channel"]["id"]
        except SlackApiError as exc:
            log.warning("milestone DM for %s failed: %s", row.shop_id, exc.response.get("error"))
            continue
        delivery = poster.post(key, channel=channel, text=milestone_dm(row, milestone))
        if delivery.outcome is Outcome.POSTED:
            sent.append(row.shop_id)
        elif delivery.outcome is Outcome.FAILED:
            log.warning("milestone DM for %s failed: %s", row.shop_id, delivery.error)
    return sent


def run_due(
    factory: sessionmaker[Session],
    client: WebClient,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    workers: int = 8,
    uk_48_point: bool = False,
    rules: domain.PointsRules = domain.DEFAULT_RULES,
    poster: Poster | None = None,
    channels: Channels | None = None,
    pacer: ChannelPacer | None = None,
) -> RunReport:
    """Post every digest that is due now and not yet posted today (local to each subscription),
    then, in its thread, the full lists it could not show and (Mondays) the portfolio's trend.

    Each post is claimed first and carries the claim in its metadata; a claim whose post was not
    confirmed (a timeout, a reset connection, a crash) is settled from the channel's history before
    anything is posted again, so each channel gets one digest per local day."""
    now = now or dt.datetime.now(dt.UTC)
    poster = poster or Poster(client, factory, worker=WORKER)
    channels = channels or Channels(client)
    pacer = pacer or PACER
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
            built[day] = build_digest(session, Lens(today=day, rules=rules, uk_48_point=uk_48_point))

    with factory() as session:  # the dispatch watch's section, the same for every channel
        late_dispatch = dispatch.late_dispatch_rows(session, now) if due else []

    thread_posts: list[tuple[str, str, str, Reply]] = []  # (claim key, channel, thread ts, reply)
    charts: list[tuple[str, str, str, dt.date]] = []  # (claim key, channel, thread ts, day)

    def post(item: tuple[int, Subscription, dt.date]) -> None:
        sub_id, sub, day = item
        digest = built[day]
        if digest.quiet and not late_dispatch and sub.skip_quiet_days:
            report.skipped.append(sub.channel_id)
            return
        if dry_run:
            sent = digest_runs.sent_today(factory, sub_id, day)
            (report.skipped if sent else report.posted).append(sub.channel_id)
            return
        if channels.shared(sub.channel_id) is not False:
            log.warning(
                "digest for %s not posted: the channel is shared with another organisation", sub.channel_id
            )
            report.refused.append(sub.channel_id)
            return
        claim = digest_runs.claim_run(factory, sub_id, day, now)
        if claim is None:
            report.skipped.append(sub.channel_id)
            return
        run_id, zone = claim.run_id, ZoneInfo(sub.timezone)
        with factory() as session:
            threaded = digest_runs.open_threads(session, sub.channel_id, digest.shop_ids, day)
        reply = digest_reply(digest, threaded=threaded, late_dispatch=late_dispatch, now=now, zone=zone)
        delivery = poster.deliver(
            f"digest-run-{run_id}",
            digest_runs.day_start(sub, day),
            channel=sub.channel_id,
            text=reply.text,
            blocks=reply.blocks,
            unsettled=claim.takeover,
            pace=pacer.wait,
        )
        if delivery.outcome is Outcome.FAILED:
            # Slack refused it: give the claim back so the next run (same day) tries again.
            digest_runs.release_run(factory, run_id)
            log.warning("digest for %s failed: %s", sub.channel_id, delivery.error)
            report.failed.append(sub.channel_id)
            return
        if delivery.outcome is not Outcome.POSTED or not delivery.ts:
            # Perhaps posted: the claim stays, and the next run after its lease reads the history.
            log.warning("digest for %s not confirmed: %s", sub.channel_id, delivery.error)
            report.unsettled.append(sub.channel_id)
            return
        ts = delivery.ts
        digest_runs.record_posted(factory, run_id, ts)
        report.posted.append(sub.channel_id)
        shown = shown_shop_ids(digest, threaded) | set(threaded)
        digest_runs.remember_threads(factory, sub.channel_id, shown, threaded, ts, day)
        for i, full_list in enumerate(thread_lists(digest, threaded=threaded, now=now, zone=zone)):
            thread_posts.append((f"digest-list:{run_id}:{i}", sub.channel_id, ts, full_list))
        for thread_ts, update_reply in thread_updates(digest, threaded, now=now, zone=zone).items():
            thread_posts.append(
                (f"digest-thread:{run_id}:{thread_ts}", sub.channel_id, thread_ts, update_reply)
            )
        if day.weekday() == WEEKLY_CHART_DAY and not digest.quiet:
            charts.append((f"digest-chart:{run_id}", sub.channel_id, ts, day))

    def post_in_thread(item: tuple[str, str, str, Reply]) -> None:
        key, channel, thread_ts, reply = item
        delivery = poster.post(
            key, channel=channel, thread_ts=thread_ts, text=reply.text, blocks=reply.blocks, pace=pacer.wait
        )
        if delivery.outcome in (Outcome.FAILED, Outcome.UNKNOWN):
            log.warning("thread post in %s: %s (%s)", channel, delivery.outcome, delivery.error)

    # Every channel's digest first, thread posts in a second pass: a channel's next message then
    # comes after the others' digests, not straight into Slack's one-per-second limit.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(post, due))
        thread_posts.sort(key=lambda item: pacer.next_slot(item[1]))  # channels free first go first
        list(pool.map(post_in_thread, thread_posts))
    drawn: dict[dt.date, tuple[PortfolioTrend, bytes]] = {}  # one chart per day, for every channel
    for key, channel, ts, day in charts:
        post_weekly_chart(factory, client, key, channel, ts, day, uk_48_point=uk_48_point, drawn=drawn)
    return report


WEEKLY_CHART_DAY = 0  # Monday: the week's digest thread gets the portfolio's trend
WEEKLY_CHART_DAYS = 90


def post_weekly_chart(
    factory: sessionmaker[Session],
    client: WebClient,
    key: str,
    channel: str,
    thread_ts: str,
    day: dt.date,
    *,
    uk_48_point: bool = False,
    drawn: dict[dt.date, tuple[PortfolioTrend, bytes]] | None = None,
) -> bool:
    """The portfolio's bands and GMV at risk over 90 days, uploaded into the digest's thread once
    (`drawn`: the charts already drawn, by day, shared by the channels of one run).

    A file upload carries no metadata to settle an unknown outcome from, so the claim is kept
    unless Slack refused: at most once (a lost chart is shown again next Monday), never twice."""
    if not claims.claim(factory, key, WORKER):
        return False
    drawn = {} if drawn is None else drawn
    if day not in drawn:
        with factory() as session:
            trend = portfolio_trend(session, WEEKLY_CHART_DAYS, end=day, uk_48_point=uk_48_point)
        drawn[day] = (trend, portfolio_png(trend))
    chart, png = drawn[day]
    try:
        client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            file=png,
            filename=f"portfolio-trend-{day.isoformat()}.png",
            title=chart_title(chart.days),
            alt_txt=portfolio_alt_text(chart),
            initial_comment=portfolio_comment("", chart),
        )
    except SlackApiError as exc:
        claims.release(factory, key)
        log.warning("weekly chart for %s refused: %s", channel, exc.response.get("error"))
        return False
    except SlackClientError as exc:
        log.warning("weekly chart for %s not confirmed: %s", channel, type(exc).__name__)
        return False
    return True
