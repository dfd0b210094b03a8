"""The importer and services run against each backend."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot import services
from bot.importer import Kind
from tests.conftest import TODAY
from tests.helpers import load, metric, shop


def test_overview_counts_one_shop(factory: sessionmaker[Session]) -> None:
    load(factory, Kind.SHOPS, [shop("1")])
    load(factory, Kind.METRICS, [metric("1", TODAY, 120, "3.0", 10.0)])
    with factory() as session:
        data = services.overview(session)
    assert data.counts[services.Score.AHR] == (1, 0)
    assert data.total == 1
