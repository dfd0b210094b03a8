"""Claims on the messages the bot posts on its own (shares, request links, thread updates, DMs).

A claim is taken before posting and the message's timestamp recorded after. Its claim ID goes
into the message's metadata, so when the outcome of a post is unknown (a timeout, a reset
connection, a crash between posting and recording) the poster looks for that ID in the channel's
history instead of posting again blindly. A claim left without a timestamp is another worker's
until its lease ends.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import PostClaim
from bot.services.health import aware

LEASE = dt.timedelta(minutes=5)


class State(StrEnum):
    NEW = "new"  # ours: post it
    POSTED = "posted"  # done before: `ts` says where
    UNSETTLED = "unsettled"  # ours now, but an earlier attempt may have posted: settle first
    BUSY = "busy"  # another worker holds it (within its lease)


@dataclass(frozen=True)
class Claim:
    state: State
    claim_id: str
    claimed_at: dt.datetime
    ts: str | None = None


def claim(
    factory: sessionmaker[Session],
    key: str,
    *,
    channel: str,
    thread_ts: str | None,
    worker: str,
    now: dt.datetime | None = None,
    lease: dt.timedelta = LEASE,
) -> Claim:
    now = now or dt.datetime.now(dt.UTC)
    claim_id = uuid.uuid4().hex
    try:
        with factory() as session, session.begin():
            session.add(
                PostClaim(
                    key=key[:255], claim_id=claim_id, channel=channel, thread_ts=thread_ts,
                    claimed_at=now, attempted_at=now, claimed_by=worker,
                )
            )  # fmt: skip
        return Claim(State.NEW, claim_id, now)
    except IntegrityError:
        pass
    with factory() as session, session.begin():
        row = session.get(PostClaim, key[:255])
        if row is None:  # released in between: try again from the start
            return claim(
                factory, key, channel=channel, thread_ts=thread_ts, worker=worker, now=now, lease=lease
            )
        if row.message_ts is not None:
            return Claim(State.POSTED, row.claim_id, aware(row.claimed_at), row.message_ts)
        # Take the claim over when its lease has ended, keeping its ID and first claim time: the
        # earlier attempt's message (if it was posted) carries that ID and came after that time.
        taken = session.execute(
            update(PostClaim)
            .where(
                PostClaim.key == row.key, PostClaim.message_ts.is_(None), PostClaim.attempted_at < now - lease
            )
            .values(claimed_by=worker, attempted_at=now)  # a second worker now finds it busy
            .execution_options(synchronize_session=False)
        )
        state = State.UNSETTLED if taken.rowcount else State.BUSY  # type: ignore[attr-defined]
        return Claim(state, row.claim_id, aware(row.claimed_at))


def record(factory: sessionmaker[Session], key: str, ts: str) -> None:
    with factory() as session, session.begin():
        session.execute(update(PostClaim).where(PostClaim.key == key[:255]).values(message_ts=ts))


def release(factory: sessionmaker[Session], key: str) -> None:
    """The post surely failed (Slack said so): a later try may post."""
    with factory() as session, session.begin():
        session.execute(delete(PostClaim).where(PostClaim.key == key[:255], PostClaim.message_ts.is_(None)))


def posted_ts(session: Session, key: str) -> str | None:
    return session.scalar(select(PostClaim.message_ts).where(PostClaim.key == key[:255]))
