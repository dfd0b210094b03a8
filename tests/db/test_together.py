"""Several small reads in one statement (`bot.db.together.Together`), on both backends: each part's
rows come back under its own column names, with their own types, whatever the other parts hold."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, literal_column, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import AccountSnapshot, DataRefresh, MetricSnapshot, Shop
from bot.db.together import Together
from bot.ingest.formats import Kind
from tests.conftest import TODAY
from tests.support.data import account, load, metric, shop
from tests.support.statements import statements_sent

D1 = TODAY - dt.timedelta(days=1)


def test_each_part_comes_back_as_its_own(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("s1", "S1"), shop("s2", "S2")])
    load(
        factory,
        Kind.METRICS,
        [metric("s1", TODAY, 300, "4.5"), metric("s1", D1, 290), metric("s2", TODAY, 1)],
    )
    load(factory, Kind.ACCOUNTS, [account("s1", TODAY, "h1", 280), account("s1", D1, "h1", None)])
    together = Together(
        # The first part has no date: its NULLs must not make the date slot text (PostgreSQL).
        names=select(Shop.shop_code, Shop.authorized).where(Shop.shop_id == bindparam("shop_id")),
        refreshes=select(DataRefresh.source, DataRefresh.refreshed_at, DataRefresh.data_date),
        scores=select(MetricSnapshot.date, MetricSnapshot.ahr, MetricSnapshot.sps_tenths).where(
            MetricSnapshot.shop_id == bindparam("shop_id")
        ),
        accounts=select(AccountSnapshot.tiktok_handle, AccountSnapshot.date, AccountSnapshot.chr).where(
            AccountSnapshot.shop_id == bindparam("shop_id"),
            AccountSnapshot.date.in_(bindparam("days", expanding=True)),
        ),
    )
    with statements_sent(factory.kw["bind"]) as sent, factory() as session:
        rows = session.execute(together.statement, {"shop_id": "s1", "days": [TODAY]})
        read = together.split(rows)
    assert len(sent) == 1
    assert [tuple(r) for r in read["names"]] == [("S1", True)]
    assert read["names"][0].shop_code == "S1"
    assert sorted(read["scores"]) == [(D1, 290, None), (TODAY, 300, 45)]  # dates as dates, on SQLite too
    assert [(a.tiktok_handle, a.date, a.chr) for a in read["accounts"]] == [("h1", TODAY, 280)]
    (refresh,) = read["refreshes"]  # the imports recorded theirs
    assert refresh.source == "csv" and isinstance(refresh.refreshed_at, dt.datetime)
    assert refresh.data_date == TODAY


def test_a_part_of_one_column_and_a_part_with_nothing_found(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("s1")])
    together = Together(shops=select(Shop.shop_id), scores=select(MetricSnapshot.date, MetricSnapshot.ahr))
    with factory() as session:
        read = together.split(session.execute(together.statement))
    assert read == {"shops": [("s1",)], "scores": []}
    assert read["shops"][0].shop_id == "s1"


@pytest.mark.parametrize("shape", ["ordered", "limited"])
def test_a_part_may_not_order_or_limit(shape: str) -> None:
    part = select(Shop.shop_id)
    part = part.order_by(Shop.shop_id) if shape == "ordered" else part.limit(3)
    with pytest.raises(ValueError, match="after `split`"):
        Together(shops=part)


def test_a_column_without_a_type_is_refused() -> None:
    with pytest.raises(ValueError, match="give 1 a type"):
        Together(numbers=select(literal_column("1")))
