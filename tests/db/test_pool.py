"""Pooled connections to a server database are checked before use only after resting
(`db.make_engine`'s `ping_after_idle`): one that died while resting is replaced unseen; one that
died a moment after use fails one statement, and the pool then replaces its connections."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from bot import db

pytestmark = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)


def _killed_after_use(engine: Engine, other: Engine) -> int:
    """Use a connection of `engine`, return it to the pool, and end its server process."""
    with engine.connect() as conn:
        pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    with other.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar_one()
    return pid


def _pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def test_a_connection_that_died_while_resting_is_replaced_before_use(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    resting, other = db.make_engine(url, ping_after_idle=0.0), db.make_engine(url)
    try:
        dead = _killed_after_use(resting, other)
        assert _pid(resting) != dead  # no error: the check found it dead and the pool took another
    finally:
        resting.dispose()
        other.dispose()


def test_a_connection_used_a_moment_ago_is_not_checked_and_the_pool_recovers(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    busy, other = db.make_engine(url, ping_after_idle=3600.0), db.make_engine(url)
    try:
        dead = _killed_after_use(busy, other)
        with pytest.raises(DBAPIError) as failed:  # not checked: its first statement finds it dead
            _pid(busy)
        assert failed.value.connection_invalidated
        assert _pid(busy) != dead  # and the next checkout has a new one
    finally:
        busy.dispose()
        other.dispose()
