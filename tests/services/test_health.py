"""Each source's freshness (bot.services.health), on both backends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import DataRefresh
from bot.services.health import aware, freshness, record_refresh
from tests.conftest import TODAY

# ---- freshness ----


def test_freshness_after_an_import(factory: sessionmaker[Session], banded: None) -> None:
    with factory() as session:
        fresh = freshness(session)
    assert fresh.data_date == TODAY
    assert fresh.refreshed_at is not None
    assert fresh.refreshed_at.tzinfo is not None
    assert fresh.stale_sources == () and fresh.failing_sources == ()


def test_freshness_stale_after_36_hours(factory: sessionmaker[Session], banded: None) -> None:
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    with factory() as session, session.begin():
        record_refresh(session, "csv", now=now - dt.timedelta(hours=36))
        record_refresh(session, "tiktok", now=now - dt.timedelta(hours=36, minutes=1))
    with factory() as session:
        fresh = freshness(session, now=now)
    assert fresh.stale_sources == ("tiktok",)
    assert fresh.refreshed_at == now - dt.timedelta(hours=36)


def test_freshness_failing_source_keeps_its_last_success(
    factory: sessionmaker[Session], banded: None
) -> None:
    now = dt.datetime.now(dt.UTC)
    with factory() as session, session.begin():
        record_refresh(session, "tiktok", now=now - dt.timedelta(hours=2))
    with factory() as session, session.begin():
        record_refresh(session, "tiktok", error="401 Unauthorized", now=now)
        record_refresh(session, "never", error="timeout", now=now)
    with factory() as session:
        fresh = freshness(session, now=now)
        row = session.get(DataRefresh, "tiktok")
    assert fresh.failing_sources == ("never", "tiktok")
    assert row is not None and row.last_error == "401 Unauthorized"
    assert row.refreshed_at is not None
    assert aware(row.refreshed_at) == now - dt.timedelta(hours=2)
    # a later success clears the failure
    with factory() as session, session.begin():
        record_refresh(session, "tiktok", now=now)
    with factory() as session:
        assert freshness(session, now=now).failing_sources == ("never",)
