"""Posting each digest exactly once per subscription and local day, and the threads that carry a
seller's later news.

A claim row (unique per subscription and local date) is written before posting and the message
timestamp after. A claim left without a timestamp by a crashed process is taken over after a
lease, on the same local day only; a digest missed while the bot was down is sent when it comes
back, the same day, never the next.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import domain
from bot.db.models import DigestRun, DigestSubscription, DigestThread, Shop, ShopHealth
from bot.domain import Window
from bot.services import followup
from bot.services.digest_records import Subscription
from bot.services.filters import seller_row, seller_select
from bot.services.health import latest_data_date
from bot.services.records import SellerRow

CLAIM_LEASE = dt.timedelta(minutes=5)
THREAD_DAYS = 7  # a seller absent from the digest this long starts a new thread
WORKER = f"{socket.gethostname()}:{os.getpid()}"


def day_start(sub: Subscription, day: dt.date) -> dt.datetime:
    """The start of the subscription's local day: every post of that day's digest is after it."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(sub.timezone))


def local_day(sub: Subscription, now: dt.datetime) -> tuple[dt.date, bool]:
    """The subscription's local date now, and whether its posting time has come."""
    local = now.astimezone(ZoneInfo(sub.timezone))
    hour, minute = (int(p) for p in sub.post_at.split(":"))
    return local.date(), (local.hour, local.minute) >= (hour, minute)


def all_subscriptions(session: Session) -> list[tuple[int, Subscription]]:
    return [
        (s.id, Subscription(s.channel_id, s.post_at, s.timezone, s.skip_quiet_days))
        for s in session.scalars(select(DigestSubscription))
    ]


def posted_runs(session: Session, days: Iterable[dt.date]) -> set[tuple[int, dt.date]]:
    """(subscription, local date) pairs whose digest is posted."""
    return {
        (sub_id, day)
        for sub_id, day in session.execute(
            select(DigestRun.subscription_id, DigestRun.local_date).where(
                DigestRun.message_ts.is_not(None), DigestRun.local_date.in_(sorted(set(days)))
            )
        )
    }


@dataclass(frozen=True)
class RunClaim:
    run_id: int
    takeover: bool  # an earlier holder died without recording: it may have posted


def claim_run(factory: sessionmaker[Session], sub_id: int, day: dt.date, now: dt.datetime) -> RunClaim | None:
    """This worker's claim on today's digest, None when it is done or another worker holds it."""
    try:
        with factory() as session, session.begin():
            run = DigestRun(subscription_id=sub_id, local_date=day, claimed_at=now, claimed_by=WORKER)
            session.add(run)
            session.flush()
            return RunClaim(run.id, takeover=False)
    except IntegrityError:
        pass
    with factory() as session, session.begin():
        # Take over a claim whose holder died before recording (no timestamp, lease expired).
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
        if not taken.rowcount:  # type: ignore[attr-defined]
            return None
        return RunClaim(existing.id, takeover=True)


def release_run(factory: sessionmaker[Session], run_id: int) -> None:
    """Give the claim back (the post failed) so the next run the same day tries again."""
    with factory() as session, session.begin():
        session.execute(delete(DigestRun).where(DigestRun.id == run_id, DigestRun.message_ts.is_(None)))


def record_posted(factory: sessionmaker[Session], run_id: int, ts: str | None) -> None:
    with factory() as session, session.begin():
        session.execute(
            update(DigestRun)
            .where(DigestRun.id == run_id)
            .values(message_ts=ts, posted_at=dt.datetime.now(dt.UTC))
        )


def sent_today(factory: sessionmaker[Session], sub_id: int, day: dt.date) -> bool:
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


def _recent(day: dt.date) -> ColumnElement[bool]:
    return and_(DigestThread.last_day >= day - dt.timedelta(days=THREAD_DAYS), DigestThread.last_day < day)


def threads_since(session: Session, day: dt.date) -> set[str]:
    """Sellers with a digest thread of the last week (before `day`) in any channel."""
    return set(session.scalars(select(DigestThread.shop_id).where(_recent(day)).distinct()))


def open_threads(session: Session, channel_id: str, shop_ids: set[str], day: dt.date) -> dict[str, str]:
    """shop_id -> thread ts for sellers posted in this channel in the last week (before today)."""
    if not shop_ids:
        return {}
    # The channel's threads of the last week: a range read (no IN list of every seller due).
    rows = session.execute(
        select(DigestThread.shop_id, DigestThread.thread_ts).where(
            DigestThread.channel_id == channel_id, _recent(day)
        )
    )
    return {shop_id: ts for shop_id, ts in rows if shop_id in shop_ids}


def remember_threads(
    factory: sessionmaker[Session],
    channel_id: str,
    shop_ids: set[str],
    threaded: Mapping[str, str],
    ts: str,
    day: dt.date,
) -> None:
    """Sellers shown in today's message start a thread there; threaded ones keep theirs."""
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


def end_finished_snoozes(factory: sessionmaker[Session], day: dt.date) -> int:
    with factory() as session, session.begin():
        return followup.end_finished_snoozes(session, day)


def milestone_crossings(
    session: Session, *, uk_48_point: bool = False
) -> tuple[dt.date | None, list[tuple[SellerRow, domain.Milestone]]]:
    """The data day, and owned sellers whose AHR reached a milestone since the day before, with the
    lowest milestone reached, for owners who asked for a DM."""
    day = latest_data_date(session)
    if day is None:
        return None, []
    rows = [
        seller_row(values)
        for values in session.execute(
            seller_select(Window.DAY).where(
                Shop.owner.is_not(None), Shop.authorized.is_(True), ShopHealth.ahr < ShopHealth.ahr_1d
            )
        )
    ]
    crossings = [
        (r, domain.crossed_milestones(r.ahr_then, r.ahr, r.region))
        for r in rows
        if not domain.uses_penalty_points(r.region, uk_48_point=uk_48_point)
    ]
    wanted = followup.wants_milestone_dm(session, {r.owner for r, c in crossings if c and r.owner})
    return day, [(r, c[-1]) for r, c in crossings if c and r.owner in wanted]
