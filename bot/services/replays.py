"""Replay protection: each signed Slack request is handled once. A replay of it within the
5-minute window in which its signature still verifies finds its record and repeats nothing, on any
replica (the database decides)."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from typing import Any, cast

from sqlalchemy import Engine, Table

from bot.db import upsert_insert
from bot.db.models import SeenRequest

KEEP = dt.timedelta(minutes=10)  # twice the window a signature is valid in
PRUNE_ONE_IN = 100  # forget expired records on about one request in a hundred
# Statements on the table, on a connection: every request runs them, and the ORM's session and
# bulk machinery cost more than the INSERT itself.
SEEN = cast(Table, SeenRequest.__table__)
_RECORD: dict[str, Any] = {}  # the record's INSERT, by dialect name


def first_sight(engine: Engine, signature: str, *, now: dt.datetime | None = None) -> bool:
    """True the first time this signature is seen; False for a replay. One INSERT that does
    nothing on a replay (no exception to recover from), committed on its own: in autocommit mode,
    no BEGIN and COMMIT around it (on PostgreSQL two round trips fewer on every request)."""
    now = now or dt.datetime.now(dt.UTC)
    key = hashlib.sha256(signature.encode("utf-8")).hexdigest()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        insert = _RECORD.get(conn.dialect.name)
        if insert is None:  # built once per database kind: building it cost more than sending it
            insert = _RECORD[conn.dialect.name] = (
                upsert_insert(conn, SEEN)
                .on_conflict_do_nothing(index_elements=["signature"])
                .returning(SEEN.c.signature)  # a row only when inserted (rowcount is -1 on psycopg)
            )
        first = conn.execute(insert, {"signature": key, "seen_at": now}).first() is not None
        if random.randrange(PRUNE_ONE_IN) == 0:  # not security: it only spreads the clean-up
            conn.execute(SEEN.delete().where(SEEN.c.seen_at < now - KEEP))
    return first
