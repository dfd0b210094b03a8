"""`/health trend <shop> [30d|90d|180d]` and `/health mine`, from Slack's parser and `healthbot ask`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot import cli
from bot.commands.asker import Asker
from bot.commands.grammar import CommandError
from bot.commands.registry import answer, parse
from bot.commands.subcommands.trend import Trend
from bot.ingest.formats import Kind
from bot.settings import Settings
from tests.conftest import TODAY
from tests.support.data import load, metric, shop
from tests.support.slack import find_buttons, text_of


def _history(factory: sessionmaker[Session]) -> None:
    load(
        factory,
        Kind.SHOPS,
        [shop("S1", "US1", owner="UOWN"), shop("P1", "PH1", region="PH"), shop("S2", "US2")],
    )
    days = [TODAY - dt.timedelta(days=n) for n in range(40)]
    load(factory, Kind.METRICS, [metric("S1", d, 200 - n, "4.0", 10.0) for n, d in enumerate(reversed(days))])
    load(factory, Kind.METRICS, [metric("P1", d, None, "3.5", 5.0) for d in days])


def parsed(text: str) -> tuple[str, Any]:
    """The subcommand's name and its parsed arguments."""
    sub, args = parse(text)
    return sub.name, args


def test_parser() -> None:
    assert parsed("trend US1") == ("trend", Trend("US1", 30))
    assert parsed("trend Glow Beauty 180d") == ("trend", Trend("Glow Beauty", 180))
    assert parsed("chart US1 90") == ("trend", Trend("US1", 90))
    assert parsed("mine") == ("mine", None)
    assert parsed("trend portfolio") == ("trend", Trend("portfolio", 90))
    assert parsed("trend Portfolio 14d") == ("trend", Trend("Portfolio", 14))
    with pytest.raises(CommandError, match="which shop"):
        parse("trend 90d")
    with pytest.raises(CommandError, match="30d, 90d or 180d"):
        parse("trend US1 45d")
    with pytest.raises(CommandError, match="7d to 180d"):
        parse("trend portfolio 365d")


def test_portfolio_trend_card(factory: sessionmaker[Session], settings: Settings) -> None:
    _history(factory)
    with factory() as session:
        reply = answer(session, "trend portfolio", settings=settings, today=TODAY)
    text = text_of(reply.blocks)
    assert "Portfolio trend · last 90 days" in text
    # S1 fell from 200 to 161 (Excellent to Fair); P1 is a 48-point shop: no AHR band.
    assert "Excellent *0* · Fair *1* · Poor *0* · Deactivated *0*" in text
    assert "Excellent -1 · Fair +1" in text
    assert [b["action_id"] for b in find_buttons(reply.blocks, "portfolio_trend_chart")] == [
        "portfolio_trend_chart:30",
        "portfolio_trend_chart:90",
        "portfolio_trend_chart:180",
    ]


def test_trend_card_has_a_sparkline_and_chart_buttons(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    _history(factory)
    with factory() as session:
        reply = answer(session, "trend US1 30d", settings=settings, today=TODAY)
        points = answer(session, "trend PH1", settings=settings, today=TODAY)
    text = text_of(reply.blocks)
    assert "AHR over the last 30 days" in text and "low 161 · high 190 · now 161" in text
    assert [b["action_id"] for b in find_buttons(reply.blocks, "trend_chart")] == [
        "trend_chart:30",
        "trend_chart:90",
        "trend_chart:180",
    ]
    assert "SPS over the last 30 days" in text_of(points.blocks) and "AHR" not in text_of(points.blocks)


def test_mine_lists_the_askers_sellers(factory: sessionmaker[Session], settings: Settings) -> None:
    _history(factory)
    with factory() as session:
        mine = answer(session, "mine", settings=settings, asker=Asker(user_id="UOWN"), today=TODAY)
        nobody = answer(session, "mine", settings=settings, asker=Asker(user_id="UOTHER"), today=TODAY)
    assert "US1" in text_of(mine.blocks) and "US2" not in text_of(mine.blocks)
    assert "You own no sellers yet" in text_of(nobody.blocks)


def test_ask_writes_the_trend_png(
    factory: sessionmaker[Session],
    cli_env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _history(factory)
    png = tmp_path / "trend.png"
    assert cli.main(["ask", "/health trend US1 90d", "--png", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 1000
    assert cli.main(["ask", "/health trend portfolio 30d", "--png", str(tmp_path / "book.png")]) == 0
    assert (tmp_path / "book.png").read_bytes().startswith(b"\x89PNG")
    assert cli.main(["ask", "/health overview", "--png", str(png)]) == 2
    assert cli.main(["ask", "/health mine", "--user", "UOWN"]) == 0
    assert "US1" in capsys.readouterr().out
