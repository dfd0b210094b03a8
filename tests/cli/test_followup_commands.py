"""`healthbot ask "/health ack|snooze|unsnooze|assign|notify ..."`: the follow-up commands from the
terminal, run in-process against the test database (the shared `cli_env`).

Moved from tests/handlers/test_followup.py. Every database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot import cli
from bot.db.models import OwnerPreference
from bot.ingest.formats import Kind
from bot.settings import Settings
from tests.support.data import acks, load, owner, shop, snoozes

DAY = dt.timedelta(days=1)


@pytest.fixture
def alphas(cli_env: pytest.MonkeyPatch, factory: sessionmaker[Session]) -> None:
    """`healthbot` run in-process (the shared `cli_env`) over two sellers whose names both match Alpha."""
    load(factory, Kind.SHOPS, [shop("S1", "US1", "Alpha Goods"), shop("S2", "US2", "Alpha Garden")])


def run_ask(capsys: pytest.CaptureFixture[str], text: str) -> str:
    assert cli.main(["ask", text]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return out


def test_follow_up_commands_from_the_terminal(
    alphas: None, factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    today = dt.datetime.now(Settings(_env_file=None).tz).date()
    assert "acknowledged Alpha Goods." in run_ask(capsys, "/health ack US1")  # *bold* rendered, not raw
    assert acks(factory) == [("S1", "cli")]

    assert "is snoozed for 7 days" in run_ask(capsys, "/health snooze us1 week")
    assert snoozes(factory) == {"S1": ("cli", today + 7 * DAY)}
    assert "is snoozed for 1 day" in run_ask(capsys, "/health snooze US1")  # 1 day by default
    assert snoozes(factory) == {"S1": ("cli", today + DAY)}
    assert "back in the digest" in run_ask(capsys, "/health unsnooze US1")
    assert snoozes(factory) == {}

    assert "is now owned by @U0MARIA" in run_ask(capsys, "/health assign US1 <@U0MARIA|maria>")
    assert owner(factory) == "U0MARIA"
    assert "has no owner now" in run_ask(capsys, "/health assign Alpha Goods nobody")
    assert owner(factory) is None
    run_ask(capsys, "/health owner US1 me")
    assert owner(factory) == "cli"

    assert "I will DM you" in run_ask(capsys, "/health notify milestones on")
    with factory() as session:
        pref = session.get(OwnerPreference, "cli")
        assert pref is not None and pref.milestone_dm is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/health ack NOPE999", "does not name exactly one"),
        ("/health ack Alpha", "does not name exactly one"),  # two sellers match
        ("/health snooze NOPE999 7d", "does not name exactly one"),
        ("/health assign US1", "assign takes a shop and a person"),
        ("/health assign US1 maria", "is not a person"),
        ("/health assign <@U0MARIA>", "assign takes a shop and a person"),
        ("/health ack", "which shop?"),
        ("/health unsnooze", "which shop?"),
        ("/health notify milestones", "notify takes milestones on or milestones off"),
        ("/health notify everything on", "notify takes"),
    ],
)
def test_follow_up_commands_explain_mistakes(
    alphas: None,
    factory: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
    text: str,
    expected: str,
) -> None:
    out = run_ask(capsys, text)
    assert expected in out
    assert acks(factory) == [] and snoozes(factory) == {} and owner(factory) is None
