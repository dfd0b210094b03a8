"""`/health import` in a channel: the admin's next file shared there is imported.

A wait row per (admin, channel) lasts a few minutes. The first message whose file uses it is
remembered (its ts), so every file of that message is imported and no later message is: "the next
file" even when Slack delivers one event per file, on any replica.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import UploadWait
from bot.services.health import aware

WAIT_MINUTES = 10


def open_wait(
    session: Session, user_id: str, channel_id: str, *, now: dt.datetime | None = None
) -> dt.datetime:
    """Start (or restart) waiting for the user's next file in the channel; returns when it ends.
    The caller commits."""
    now = now or dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(minutes=WAIT_MINUTES)
    session.execute(
        delete(UploadWait).where(UploadWait.user_id == user_id, UploadWait.channel_id == channel_id)
    )
    session.add(UploadWait(user_id=user_id, channel_id=channel_id, expires_at=expires, message_ts=None))
    return expires


def waiting(session: Session, user_id: str, channel_id: str, *, now: dt.datetime | None = None) -> bool:
    """Whether a file the user shares in the channel may be for an import (cheap; decides nothing)."""
    expires = session.scalar(
        select(UploadWait.expires_at).where(
            UploadWait.user_id == user_id, UploadWait.channel_id == channel_id
        )
    )
    return expires is not None and aware(expires) > (now or dt.datetime.now(dt.UTC))


def take_wait(
    factory: sessionmaker[Session],
    user_id: str,
    channel_id: str,
    message_ts: str,
    *,
    now: dt.datetime | None = None,
) -> bool:
    """True when the file shared in message `message_ts` is the one the wait is for: the first
    message to ask takes the wait (a conditional update, so two replicas cannot both take it)."""
    now = now or dt.datetime.now(dt.UTC)
    key = (UploadWait.user_id == user_id, UploadWait.channel_id == channel_id)
    with factory() as session, session.begin():
        session.execute(
            update(UploadWait).where(*key, UploadWait.message_ts.is_(None)).values(message_ts=message_ts)
        )
        row = session.execute(select(UploadWait.expires_at, UploadWait.message_ts).where(*key)).first()
    return row is not None and aware(row.expires_at) > now and row.message_ts == message_ts
