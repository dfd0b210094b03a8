"""Answers cached per (database, question, data version), in this process and in the database.

An answer is reused only while the stamp that every health, access or owner write renews is
unchanged, so no replica or worker process serves a stale one: each reads the stamp (one indexed
row) before trusting its cache. The writes that renew the stamp also store the portfolio-wide
answers for it (`portfolio_answers`, see `bot.services.portfolio.data_changed`), so the first
request after a change, in any process, reads one row instead of running the query.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db import upsert_insert
from bot.db.models import PortfolioAnswer
from bot.services.health import data_version

T = TypeVar("T")

_CACHE: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()
_SIZE = 256


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How an answer is stored as JSON and read back."""

    encode: Callable[[T], Any]
    decode: Callable[[Any], T]


def question_key(question: tuple[Any, ...]) -> str:
    """A question as text, e.g. ('atrisk', (AHR, SPS), Window.DAY, 0, 10) -> 'atrisk|ahr,sps|1d|0|10'."""

    def word(part: Any) -> str:
        if isinstance(part, tuple):
            return ",".join(word(p) for p in part)
        return str(part.value if isinstance(part, Enum) else part)

    return "|".join(word(part) for part in question)


def cached(
    session: Session, question: tuple[Any, ...], compute: Callable[[], T], codec: Codec[T] | None = None
) -> T:
    stamp = data_version(session)
    if stamp is None:  # no stamp yet (an empty database): nothing to key on
        return compute()
    key = (str(session.connection().engine.url), stamp, *question)
    with _LOCK:
        if key in _CACHE:
            return cast(T, _CACHE[key])
    value = None if codec is None else stored(session, question, stamp, codec)
    if value is None:
        value = compute()
    with _LOCK:
        if len(_CACHE) >= _SIZE:
            _CACHE.clear()
        _CACHE[key] = value
    return value


def stored(session: Session, question: tuple[Any, ...], stamp: str, codec: Codec[T]) -> T | None:
    """The answer stored for `stamp`, if any."""
    body = session.scalar(
        select(PortfolioAnswer.body).where(
            PortfolioAnswer.question == question_key(question), PortfolioAnswer.stamp == stamp
        )
    )
    return None if body is None else codec.decode(json.loads(body))


def store(session: Session, stamp: str, answers: dict[tuple[Any, ...], tuple[Any, Codec[Any]]]) -> None:
    """Write answers for `stamp` in the caller's transaction (one upsert); forget older stamps' answers."""
    if not answers:
        return
    rows = [
        {"question": question_key(question), "stamp": stamp, "body": json.dumps(codec.encode(value))}
        for question, (value, codec) in answers.items()
    ]
    stmt = upsert_insert(session, PortfolioAnswer)
    stmt = stmt.on_conflict_do_update(
        index_elements=["question"], set_={"stamp": stmt.excluded.stamp, "body": stmt.excluded.body}
    )
    session.execute(stmt, rows)
    # Answers for older stamps are never read again (a totals question names its day: they pile up).
    session.execute(delete(PortfolioAnswer).where(PortfolioAnswer.stamp != stamp))
