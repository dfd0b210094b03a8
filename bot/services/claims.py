"""Idempotency for side effects: a claim row per key, taken before acting.

Slack may deliver the same interaction twice (retries) and people double-click; whichever delivery
inserts the key first acts, every other one finds it taken. Works across threads and replicas
because the database's primary key decides.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import ActionClaim


def claim(factory: sessionmaker[Session], key: str, user_id: str, *, now: dt.datetime | None = None) -> bool:
    """True when this caller took the key, False when someone already had it."""
    try:
        with factory() as session, session.begin():
            session.add(
                ActionClaim(key=key[:255], user_id=user_id, created_at=now or dt.datetime.now(dt.UTC))
            )
        return True
    except IntegrityError:
        return False


def release(factory: sessionmaker[Session], key: str) -> None:
    """Give a claim back after the side effect failed, so that a later try may act."""
    with factory() as session, session.begin():
        session.execute(delete(ActionClaim).where(ActionClaim.key == key[:255]))
