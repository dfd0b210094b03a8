"""Finding a shop by what a person types (bot.services.lookup.find_shop), on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.formats import Kind
from bot.services.lookup import find_shop
from tests.conftest import TODAY
from tests.services.conftest import seed
from tests.support.data import account, load, metric, shop
from tests.support.statements import statements_sent

# ---- lookup ----


@pytest.fixture
def named(factory: sessionmaker[Session]) -> None:
    seed(
        factory,
        [
            shop("1001", "GLOW1", "Glow Beauty"),
            shop("1002", "GLOW2", "Glow Home"),
            shop("1003", "KITE1", "Kite Goods"),
            shop("1004", "CED1", "Cedar Kitchen"),
            shop("1005", "PCT1", "100% Cotton_Co"),
        ],
        [metric("1001", TODAY, 300, "4.0", 1)],
        [account("1003", TODAY, "kite.official", 300), account("1001", TODAY, "shared", 300)],
    )


@pytest.mark.parametrize(
    ("query", "shop_id"),
    [
        ("GLOW1", "1001"),  # code
        ("glow1", "1001"),  # code, any case
        ("  kite1 ", "1003"),
        ("1002", "1002"),  # shop ID
        ("Kite Goods", "1003"),  # exact name
        ("kite   goods", "1003"),  # exact name, spaces collapsed
        ("@kite.official", "1003"),  # handle
        ("@Kite.Official", "1003"),
        ("cedar", "1004"),  # one name fragment
        ("100%", "1005"),  # LIKE wildcards are literal
        ("cotton_co", "1005"),
    ],
)
def test_find_shop_one_match(factory: sessionmaker[Session], named: None, query: str, shop_id: str) -> None:
    with factory() as session:
        found = find_shop(session, query)
    assert found.shop is not None and found.shop.shop_id == shop_id
    assert found.suggestions == []


def test_find_shop_several_matches(factory: sessionmaker[Session], named: None) -> None:
    with factory() as session:
        found = find_shop(session, "glow")
    assert found.shop is None
    assert [s.shop_name for s in found.matches] == ["Glow Beauty", "Glow Home"]


def test_find_shop_wildcards_do_not_match_everything(factory: sessionmaker[Session], named: None) -> None:
    with factory() as session:
        assert find_shop(session, "%").shop is not None  # only "100% Cotton_Co" has a %
        assert find_shop(session, "_").shop is not None


def test_find_shop_suggests_close_names_for_a_typo(factory: sessionmaker[Session], named: None) -> None:
    with factory() as session:
        found = find_shop(session, "Kitee Goods")
    assert found.shop is None and found.matches == []
    assert found.suggestions and found.suggestions[0].shop_name == "Kite Goods"


@pytest.mark.parametrize("query", ["zzqxv", "@zzqxv", "", "   "])
def test_find_shop_nothing_for_gibberish(factory: sessionmaker[Session], named: None, query: str) -> None:
    with factory() as session:
        found = find_shop(session, query)
    assert (found.shop, found.matches, found.suggestions) == (None, [], [])


# ---- by index only ----


def _statements(factory: sessionmaker[Session], query: str) -> list[tuple[str, Any]]:
    """Every SELECT that find_shop sends to the database for `query` (an engine event, no patching)."""
    with statements_sent(factory.kw["bind"]) as seen, factory() as session:
        find_shop(session, query)
    return [
        (statement, parameters)
        for statement, parameters in seen
        if statement.lstrip().upper().startswith("SELECT")
    ]


@pytest.mark.parametrize("query", ["GLOW1", "glow1", "1002", "kite goods", "@KITE.official"])
def test_exact_lookups_read_indexes_only(factory: sessionmaker[Session], named: None, query: str) -> None:
    # A code, an ID, an exact name or a handle costs index seeks whatever the portfolio's size.
    statements = _statements(factory, query)
    assert statements
    engine = factory.kw["bind"]
    with engine.connect() as conn:
        # Tiny tables: take away what tells the planner a scan would be cheap here.
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
        else:
            conn.exec_driver_sql("DELETE FROM sqlite_stat1")
            conn.exec_driver_sql("ANALYZE sqlite_schema")  # reload the (now empty) statistics
        for statement, parameters in statements:
            explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(explain + statement, parameters))
            if "data_version" in statement or "portfolio_answers" in statement:
                continue  # one-row bookkeeping tables
            assert "SCAN shops" not in plan and "Seq Scan" not in plan, (statement, plan)
            assert "SCAN account_snapshots" not in plan, (statement, plan)


def test_a_code_wins_over_another_shops_name(factory: sessionmaker[Session]) -> None:
    # Code, then ID, then exact name: the first that finds something answers.
    seed(factory, [shop("1", "GLOW", "Kite"), shop("2", "KITE", "Glow")], [], [])
    with factory() as session:
        found = find_shop(session, "glow").shop
    assert found is not None and found.shop_id == "1"


def test_fragments_and_close_names_follow_new_and_renamed_shops(
    factory: sessionmaker[Session], named: None
) -> None:
    # The name list is cached per data version: an import that adds or renames a shop renews it.
    with factory() as session:
        assert find_shop(session, "walnut").shop is None
    load(
        factory, Kind.SHOPS, [shop("1006", "WAL1", "Walnut Workshop"), shop("1004", "CED1", "Birch Kitchen")]
    )
    with factory() as session:
        walnut = find_shop(session, "walnut").shop
        assert walnut is not None and walnut.shop_id == "1006"
        assert find_shop(session, "cedar").shop is None
        birch = find_shop(session, "birch kitchn")  # a typo: the closest names
        assert [s.shop_id for s in birch.suggestions][:1] == ["1004"]


def test_several_matches_rank_by_relevance_then_gmv_and_count_the_rest(
    factory: sessionmaker[Session],
) -> None:
    gmv = {"1": 10.0, "2": 100.0, "3": 1000.0, "4": 5.0, "5": None, "6": 50.0, "7": 7.0}
    names = {
        "1": "Glow Beauty",
        "2": "Glow Home",
        "3": "Aglow Shop",  # inside a word: least relevant, whatever its GMV
        "4": "The Glow Co",  # a word starts with it
        "5": "Glow Kids",  # no data: last of its rank
        "6": "Glow-Up Studio",
        "7": "Little Glow",
    }
    seed(
        factory,
        [shop(i, f"C{i}", n) for i, n in names.items()],
        [metric(i, TODAY, 300, "4.0", g) for i, g in gmv.items() if g is not None],
        [],
    )
    with factory() as session:
        found = find_shop(session, "glow")
    assert found.shop is None
    assert [s.shop_id for s in found.matches] == ["2", "6", "1", "5", "7"]
    assert found.more == 2  # "The Glow Co" (4) and "Aglow Shop" (3) not listed
    assert found.health["2"].gmv_7d == 100.0 and found.health["5"].gmv_7d is None
    with factory() as session:
        everything = find_shop(session, "glow", limit=10)
    assert [s.shop_id for s in everything.matches] == ["2", "6", "1", "5", "7", "4", "3"]
    assert everything.more == 0
