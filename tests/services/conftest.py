"""Shared data for the service tests: the importer-backed `seed` and the overview's banded portfolio."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.formats import Kind
from tests.conftest import TODAY
from tests.support.data import account, load, metric, shop


def seed(
    factory: sessionmaker[Session],
    shops: Sequence[dict[str, object]],
    metrics: Sequence[dict[str, object]] = (),
    accounts: Sequence[dict[str, object]] = (),
    violations: Sequence[dict[str, object]] = (),
) -> None:
    load(factory, Kind.SHOPS, shops)
    if metrics:
        load(factory, Kind.METRICS, metrics)
    if accounts:
        load(factory, Kind.ACCOUNTS, accounts)
    if violations:
        load(factory, Kind.VIOLATIONS, violations)


@pytest.fixture
def banded(factory: sessionmaker[Session]) -> None:
    """One shop per overview boundary (DOMAIN.md:20-23)."""
    seed(
        factory,
        [
            shop("a1", "A1"),
            shop("a2", "A2"),
            shop("a3", "A3"),
            shop("a4", "A4"),
            shop("a5", "A5"),
            shop("a6", "A6"),
            shop("u1", "U1", authorized="false", chr_authorized="false"),
            shop("c1", "C1", chr_authorized="false"),
            shop("p1", "P1", region="PH"),
        ],
        [
            metric("a1", TODAY, 51, "2.5", 10),
            metric("a2", TODAY, 199, "3.4", 20),
            metric("a3", TODAY, 50, "2.4", 30),
            metric("a4", TODAY, 0, "0.1", 40),
            metric("a5", TODAY, 200, "0", 50),
            metric("a6", TODAY, 200, "3.5", 60),
            metric("u1", TODAY, 10, "1.0", 1000),
            metric("c1", TODAY, 300, "4.0", 70),
            metric("p1", TODAY, None, "4.5", 80),
        ],
        [
            account("a1", TODAY, "a1", 151),
            account("a2", TODAY, "a2", 199),
            account("a3", TODAY, "a3", 150),
            account("a4", TODAY, "a4", 0),
            account("a5", TODAY, "a5", 200),
            account("a6", TODAY, "a6main", 400),
            account("a6", TODAY, "a6promo", 140),  # the shop's CHR is its worst account
            account("u1", TODAY, "u1", 10),
            account("c1", TODAY, "c1", 10),  # hidden: no Data Compass scope
        ],
    )
