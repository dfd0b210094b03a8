"""How a request's session ends (`db.close_session`): committed when it only read, so that
PostgreSQL keeps the statements psycopg prepared; rolled back when anything else happened."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.db.models import Shop
from bot.ingest.formats import Kind
from tests.support.data import load, shop


@pytest.fixture
def ended(engine: Engine) -> Iterator[list[str]]:
    """How each transaction on the engine ended, from now on."""
    endings: list[str] = []

    def committed(_conn: object) -> None:
        endings.append("commit")

    def rolled_back(_conn: object) -> None:
        endings.append("rollback")

    event.listen(engine, "commit", committed)
    event.listen(engine, "rollback", rolled_back)
    yield endings
    event.remove(engine, "commit", committed)
    event.remove(engine, "rollback", rolled_back)


def test_a_session_that_only_read_is_committed(
    factory: sessionmaker[Session], engine: Engine, ended: list[str]
) -> None:
    load(factory, Kind.SHOPS, [shop("1")])
    engine.dispose()  # one connection from here on, whatever earlier tests left in the pool
    ended.clear()
    count = select(func.count()).select_from(Shop)
    for _ in range(12):  # a statement is prepared on its fifth run on a connection
        session = factory()
        assert session.scalar(count) == 1
        db.close_session(session)
    assert set(ended) == {"commit"}
    if engine.dialect.name == "postgresql":  # what the commit is for: psycopg kept them
        session = factory()
        prepared = session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
        session.close()
        assert prepared and prepared >= 1


@pytest.mark.parametrize("how", ["core", "orm flushed", "orm pending"])
def test_a_write_left_uncommitted_is_rolled_back(
    factory: sessionmaker[Session], ended: list[str], how: str
) -> None:
    load(factory, Kind.SHOPS, [shop("1")])
    ended.clear()
    session = factory()
    session.scalar(select(Shop.shop_code))
    if how == "core":
        session.execute(Shop.__table__.update().values(shop_name="Changed"))
    else:
        session.get_one(Shop, "1").shop_name = "Changed"
        if how == "orm flushed":
            session.flush()
    db.close_session(session)
    assert ended == ["rollback"]
    with factory() as fresh:
        assert fresh.scalar(select(Shop.shop_name)) != "Changed"


def test_a_session_whose_read_failed_is_rolled_back(factory: sessionmaker[Session], ended: list[str]) -> None:
    session = factory()
    with pytest.raises(DBAPIError):
        session.execute(text("SELECT no_such_column FROM shops"))
    db.close_session(session)  # no error of its own
    assert ended == ["rollback"]
    with factory() as fresh:  # the connection went back to the pool usable
        assert fresh.scalar(select(func.count()).select_from(Shop)) == 0


def test_a_session_whose_flush_failed_is_rolled_back(
    factory: sessionmaker[Session], ended: list[str]
) -> None:
    load(factory, Kind.SHOPS, [shop("1")])
    ended.clear()
    session = factory()
    session.add(
        Shop(
            shop_id="1", shop_code="C1", shop_name="Again", region="US", authorized=True, chr_authorized=True
        )
    )
    with pytest.raises(IntegrityError):  # a listener that caught this and carried on
        session.flush()
    db.close_session(session)  # no error of its own
    assert ended == ["rollback"]


def test_a_session_that_did_nothing_ends_quietly(factory: sessionmaker[Session], ended: list[str]) -> None:
    db.close_session(factory())
    assert ended == []
