"""The importer and services run against each backend."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.domain import Score
from bot.ingest.formats import Kind
from bot.services.attention import Lens
from bot.services.portfolio import overview
from tests.conftest import TODAY
from tests.support.data import load, metric, shop


def test_overview_counts_one_shop(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("1")])
    load(factory, Kind.METRICS, [metric("1", TODAY, 120, "3.0", 10.0)])
    with factory() as session:
        data = overview(session, Lens(TODAY))
    assert data.counts[Score.AHR] == (1, 0)
    assert data.total == 1
