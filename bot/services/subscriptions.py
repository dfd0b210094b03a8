"""Which channels get the daily digest, when, and in which time zone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.models import DigestSubscription
from bot.services.digest_records import Subscription


def subscribe(session: Session, channel: str, at: str, tz: str, skip_quiet: bool, user_id: str) -> None:
    """Create or change the channel's subscription; commits."""
    sub = session.scalar(select(DigestSubscription).where(DigestSubscription.channel_id == channel))
    if sub is None:
        sub = DigestSubscription(channel_id=channel, created_by=user_id, created_at=dt.datetime.now(dt.UTC))
    sub.post_at, sub.timezone, sub.skip_quiet_days = at, tz, skip_quiet
    session.add(sub)
    session.commit()


def unsubscribe(session: Session, channel: str) -> bool:
    """Remove the channel's subscription; commits. False when it had none."""
    gone = session.execute(delete(DigestSubscription).where(DigestSubscription.channel_id == channel))
    session.commit()
    return bool(gone.rowcount)  # type: ignore[attr-defined]


def subscriptions(session: Session) -> list[Subscription]:
    return [
        Subscription(s.channel_id, s.post_at, s.timezone, s.skip_quiet_days)
        for s in session.scalars(select(DigestSubscription).order_by(DigestSubscription.channel_id))
    ]
