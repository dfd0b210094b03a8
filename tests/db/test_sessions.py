"""How a request's session ends (`db.close_session`): committed when it only read, so that
PostgreSQL keeps the statements psycopg prepared; rolled back when anything else happened. And a
session that reads first (`db.reads_first`): no transaction until its first write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.db.models import Shop
from bot.ingest.formats import Kind
from tests.support.data import load, shop
from tests.support.statements import autocommit as driver_autocommit


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


# ---- a session that reads first (`db.reads_first`): its transaction begins at its first write ----


def _driver(session: Session) -> tuple[Any, bool]:
    dbapi = session.connection().connection.dbapi_connection
    return dbapi, session.get_bind().dialect.name == "postgresql"


def in_transaction(session: Session) -> bool:
    """Whether the driver's connection is inside a transaction now (as the database sees it)."""
    dbapi, postgres = _driver(session)
    if postgres:
        return bool(dbapi.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)
    return bool(dbapi.in_transaction)


def autocommit(session: Session) -> bool:
    return driver_autocommit(_driver(session)[0])


def transaction_ids(session: Session) -> set[int]:
    """PostgreSQL: the transaction of each of two statements in a row."""
    return {session.scalar(text("SELECT txid_current()")) for _ in range(2)}  # type: ignore[misc]


def test_a_session_that_reads_first_reads_without_a_transaction(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    load(factory, Kind.SHOPS, [shop("1")])
    engine.dispose()  # one connection from here on, whatever earlier tests left in the pool
    session = factory()
    db.reads_first(session)
    assert session.scalar(select(func.count()).select_from(Shop)) == 1
    assert autocommit(session) and not in_transaction(session)
    if engine.dialect.name == "postgresql":  # no BEGIN: each statement was its own transaction
        assert len(transaction_ids(session)) == 2
    used = _driver(session)[0]
    db.close_session(session)
    with factory() as plain:  # the same connection, back to transactions as usual
        assert _driver(plain)[0] is used and not autocommit(plain)
        if engine.dialect.name == "postgresql":
            assert len(transaction_ids(plain)) == 1


@pytest.mark.parametrize("ending", ["commit", "close"])
def test_its_first_write_begins_one_transaction(factory: sessionmaker[Session], ending: str) -> None:
    load(factory, Kind.SHOPS, [shop("1"), shop("2")])
    session = factory()
    db.reads_first(session)
    assert session.scalar(select(Shop.shop_name).where(Shop.shop_id == "1")) == "Shop 1"
    session.execute(Shop.__table__.update().where(Shop.shop_id == "1").values(shop_name="Changed"))
    assert in_transaction(session)
    session.execute(Shop.__table__.update().where(Shop.shop_id == "2").values(shop_name="Changed"))
    if ending == "commit":
        session.commit()
    db.close_session(session)  # a write left uncommitted is rolled back, both statements alike
    with factory() as fresh:
        names = set(fresh.scalars(select(Shop.shop_name)))
    assert names == ({"Changed"} if ending == "commit" else {"Shop 1", "Shop 2"})


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)  # SQLite has no row locks
def test_a_read_that_locks_rows_begins_the_transaction(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("1")])
    session = factory()
    db.reads_first(session)
    session.execute(select(Shop).with_for_update())
    assert in_transaction(session)  # so the lock is held until the session ends
    db.close_session(session)


def test_reads_first_is_said_before_the_first_statement(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        session.scalar(select(func.count()).select_from(Shop))
        with pytest.raises(RuntimeError, match="already begun"):
            db.reads_first(session)
