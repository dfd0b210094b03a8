"""A long import holding the database: requests wait briefly and say "busy, try again" well inside
Slack's 3 seconds (not a 30-second hang), and /readyz reports a database it cannot write to."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.ingest.formats import Kind
from bot.settings import Settings
from tests.support.data import load, shop
from tests.support.slack import running_app, text_of


@pytest.fixture
def request_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    """The web app's own engine: a 1-second wait for a lock another writer holds."""
    engine = db.make_engine(database_url, wait_seconds=1.0)
    yield db.session_factory(engine)
    engine.dispose()


def hold_write_lock(engine: Engine) -> Connection:
    """What a long import does: keep the database (SQLite) or the table (PostgreSQL) locked."""
    conn = engine.connect()
    if engine.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(text("LOCK TABLE seen_requests, acknowledgements IN ACCESS EXCLUSIVE MODE"))
    return conn


def test_a_command_behind_a_long_import_says_busy_within_seconds(
    factory: sessionmaker[Session], request_factory: sessionmaker[Session], settings: Settings
) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "US1", "Alpha Goods")])
    with running_app(request_factory, settings, http=True) as env:
        env.sender.command("help")  # warm up: Slack's auth.test and the first connection
        holder = hold_write_lock(factory.kw["bind"])
        try:
            started = time.monotonic()
            answer = env.sender.command("ack US1")
            waited = time.monotonic() - started
            assert answer.status_code == 200 and waited < 2.5
            assert "busy" in text_of(answer.json()["blocks"])
            ready = httpx.get(f"{env.url}/readyz", timeout=10)
            assert ready.status_code == 503 and "busy" in ready.json()["status"]
        finally:
            holder.rollback()
            holder.close()
        assert httpx.get(f"{env.url}/readyz", timeout=10).status_code == 200
        assert "acknowledged" in text_of(env.sender.command("ack US1").json()["blocks"])
