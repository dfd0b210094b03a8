"""Answers cached per (database, question, data version).

An answer is reused only while the stamp that every health, access or owner write renews is
unchanged, so no replica or worker process serves a stale one: each reads the stamp (one indexed
row) before trusting its cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session

from bot.services.health import data_version

T = TypeVar("T")

_CACHE: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()
_SIZE = 256


def cached(session: Session, question: tuple[Any, ...], compute: Callable[[], T]) -> T:
    stamp = data_version(session)
    if stamp is None:  # no stamp yet (an empty database): nothing to key on
        return compute()
    key = (str(session.connection().engine.url), stamp, *question)
    with _LOCK:
        if key in _CACHE:
            return cast(T, _CACHE[key])
    value = compute()
    with _LOCK:
        if len(_CACHE) >= _SIZE:
            _CACHE.clear()
        _CACHE[key] = value
    return value
