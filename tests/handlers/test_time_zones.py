"""Times on cards read in the viewer's own Slack time zone (`users.info`), else HEALTHBOT_TIMEZONE,
with the zone named; never bare UTC."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.formats import Kind
from bot.services.health import record_refresh
from tests.support.data import load, metric, shop
from tests.support.slack import Env, text_of


def stamp(text: str) -> str:
    match = re.search(r"updated (\w{3} \d+ \d\d:\d\d \S+)", text)
    assert match, text
    return match.group(1)


def prepare(factory: sessionmaker[Session], env: Env) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "US1", "Alpha Goods")])
    load(factory, Kind.METRICS, [metric("S1", env.today, 250, "4.5", 10.0)])
    with factory() as session:
        record_refresh(session, "csv")
        session.commit()


def test_the_card_shows_times_in_the_viewers_zone(bot: Env) -> None:
    prepare(bot.factory, bot)
    bot.slack.users["UBERLIN"] = {"tz": "Europe/Berlin"}
    berlin = stamp(text_of(bot.sender.command("shop US1", user_id="UBERLIN").json()["blocks"]))
    assert berlin.endswith(("CET", "CEST"))
    bot.slack.users["UTOKYO"] = {"tz": "Asia/Tokyo"}
    assert stamp(text_of(bot.sender.command("overview", user_id="UTOKYO").json()["blocks"])).endswith("JST")


def test_without_a_zone_from_slack_the_bots_zone_applies(bot: Env) -> None:
    prepare(bot.factory, bot)
    bot.slack.fail_next("users.info", status=500)
    shown = stamp(text_of(bot.sender.command("shop US1", user_id="UNOZONE").json()["blocks"]))
    assert shown.endswith(("PST", "PDT"))  # HEALTHBOT_TIMEZONE, America/Los_Angeles
    assert "UTC" not in shown
