"""Finding a shop by what a person types (bot.services.lookup.find_shop), on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.lookup import find_shop
from tests.conftest import TODAY
from tests.services.conftest import seed
from tests.support.data import account, metric, shop

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
