"""Text helpers (blocks/text.py): one plural helper wherever a count meets a noun."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from blocks.text import ago, plural, plural_of

ROOT = Path(__file__).resolve().parents[2]
# Being rewritten on another branch (the card and digest redesign), which takes up `plural` there.
_MAYBE_PLURAL = re.compile(r"[a-z]\(s\)")


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (0, "point", "0 points"),
        (1, "point", "1 point"),
        (2, "point", "2 points"),
        (1, "person", "1 person"),
        (3, "person", "3 people"),
        (2, "reply", "2 replies"),
        (2, "day", "2 days"),
        (2, "box", "2 boxes"),
        (2, "bad row", "2 bad rows"),
        (1, "confirmed fraud order", "1 confirmed fraud order"),
        (12_500, "row", "12,500 rows"),
    ],
)
def test_plural(count: int, noun: str, expected: str) -> None:
    assert plural(count, noun) == expected


def test_an_irregular_plural_can_be_given() -> None:
    assert plural(1, "day left", "days left") == "1 day left"
    assert plural(4, "day left", "days left") == "4 days left"
    assert plural_of("criterion") == "criteria"


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_message_says_noun_s() -> None:
    """ "row(s)", "week(s)": every count in a message goes through `plural` instead."""
    found = []
    for package in ("bot", "blocks", "handlers", "jobs"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/fakeslack/" in relative:  # the fake's own assertion messages
                continue
            found += [
                f"{relative}:{line}: {text!r}"
                for line, text in _strings(path)
                if _MAYBE_PLURAL.search(text.replace("http(s)", ""))
            ]
    assert not found, "use blocks.text.plural:\n" + "\n".join(found)


def test_ago_says_how_long_ago_as_people_do() -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    now = dt.datetime(2026, 11, 28, 18, 0, tzinfo=dt.UTC)
    la = ZoneInfo("America/Los_Angeles")
    assert ago(now - dt.timedelta(seconds=20), now, la) == "just now"
    assert ago(now - dt.timedelta(minutes=3), now, la) == "3 min ago"
    assert ago(now - dt.timedelta(hours=5, minutes=59), now, la) == "5 h ago"
    # A day or more: the day, in the viewer's zone (Nov 27 02:00 UTC is Nov 26 in Los Angeles).
    assert ago(dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC), now, la) == "Nov 26"


def test_the_team_line_names_who_is_on_a_seller() -> None:
    import datetime as dt

    from blocks.followup import team_line
    from bot.services.records import TeamState

    now = dt.datetime(2026, 11, 28, 18, 0, tzinfo=dt.UTC)
    assert team_line(None, now, dt.UTC) is None and team_line(TeamState(), now, dt.UTC) is None
    state = TeamState(
        owner="UOWN",
        acknowledged_by="UACK",
        acknowledged_at=now - dt.timedelta(minutes=3),
        snoozed_by="USNZ",
        snoozed=True,
        snoozed_until=dt.date(2026, 12, 5),
        request_by="UREQ",
        request_at=now - dt.timedelta(hours=2),
    )
    assert team_line(state, now, dt.UTC) == (
        ":busts_in_silhouette: owner <@UOWN> · :white_check_mark: acknowledged by <@UACK> 3 min ago"
        " · :zzz: snoozed until Dec 5 by <@USNZ> · :envelope: request sent 2 h ago by <@UREQ>"
    )
