"""What the database is asked: every statement an engine sends inside a block (an engine event,
no patching), and whether the driver ran it in a transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def statements_sent(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) `engine` sends while the block runs, in order."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def autocommit(dbapi_connection: Any) -> bool:
    """Whether the driver runs each statement on its own (psycopg's autocommit, sqlite3's None)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        return dbapi_connection.isolation_level is None
    return bool(dbapi_connection.autocommit)


@contextmanager
def driver_modes(engine: Engine) -> Iterator[list[bool]]:
    """For each statement `engine` sends while the block runs: whether the driver was in
    autocommit mode (no transaction begun for it: `db.reads_first`)."""
    seen: list[bool] = []

    def record(conn: Any, *_args: Any) -> None:
        seen.append(autocommit(conn.connection.dbapi_connection))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
