"""Sending a seller the authorization-request link: where it goes, the audit, the 24-hour guard.

A send is recorded before it is posted. A retried delivery of the same click finds its own record
(unique idempotency key) and does nothing; a second click within 24 hours, or a concurrent double
click, finds an earlier record and asks for confirmation instead of sending twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import AuthRequestSend

RESEND_GUARD = dt.timedelta(hours=24)


class Outcome(StrEnum):
    CLAIMED = "claimed"  # go ahead and post
    DUPLICATE_DELIVERY = "duplicate"  # the same click again: already handled
    NEEDS_CONFIRMATION = "confirm"  # sent recently: ask before sending again


@dataclass(frozen=True)
class PreviousSend:
    id: int
    sent_by: str
    channel: str
    sent_at: dt.datetime


@dataclass(frozen=True)
class Claim:
    outcome: Outcome
    send_id: int | None = None
    previous: PreviousSend | None = None


def claim_send(
    factory: sessionmaker[Session],
    shop_id: str,
    *,
    user_id: str,
    channel: str,
    idempotency_key: str,
    confirmed: bool,
    now: dt.datetime | None = None,
) -> Claim:
    now = now or dt.datetime.now(dt.UTC)
    try:
        with factory() as session, session.begin():
            send = AuthRequestSend(
                shop_id=shop_id,
                sent_by=user_id,
                channel=channel,
                sent_at=now,
                idempotency_key=idempotency_key,
            )
            session.add(send)
            session.flush()
            send_id = send.id
    except IntegrityError:
        return Claim(Outcome.DUPLICATE_DELIVERY)
    if confirmed:
        return Claim(Outcome.CLAIMED, send_id)
    with factory() as session, session.begin():
        # Records are committed before this check, so of two concurrent clicks the later id yields.
        earlier = session.scalars(
            select(AuthRequestSend)
            .where(
                AuthRequestSend.shop_id == shop_id,
                AuthRequestSend.id < send_id,
                AuthRequestSend.sent_at > now - RESEND_GUARD,
            )
            .order_by(AuthRequestSend.id.desc())
            .limit(1)
        ).first()
        if earlier is not None:
            session.execute(delete(AuthRequestSend).where(AuthRequestSend.id == send_id))
            sent_at = earlier.sent_at if earlier.sent_at.tzinfo else earlier.sent_at.replace(tzinfo=dt.UTC)
            previous = PreviousSend(earlier.id, earlier.sent_by, earlier.channel, sent_at)
            return Claim(Outcome.NEEDS_CONFIRMATION, previous=previous)
    return Claim(Outcome.CLAIMED, send_id)


def mark_sent(factory: sessionmaker[Session], send_id: int, *, channel: str, message_ts: str | None) -> None:
    with factory() as session, session.begin():
        session.execute(
            update(AuthRequestSend)
            .where(AuthRequestSend.id == send_id)
            .values(channel=channel, message_ts=message_ts)
        )


def cancel_send(factory: sessionmaker[Session], send_id: int) -> None:
    """The post failed: forget the record so it does not block the next try."""
    with factory() as session, session.begin():
        session.execute(delete(AuthRequestSend).where(AuthRequestSend.id == send_id))
