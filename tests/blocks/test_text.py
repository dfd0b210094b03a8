"""Text helpers (blocks/text.py): one plural helper wherever a count meets a noun."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from blocks.text import plural, plural_of

ROOT = Path(__file__).resolve().parents[2]
# Being rewritten on another branch (the card and digest redesign), which takes up `plural` there.
NOT_YET = {"blocks/shop_card.py", "blocks/seller_list.py", "blocks/digest.py", "blocks/overview.py"}
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
            if relative in NOT_YET or "/fakeslack/" in relative:  # the fake's own assertion messages
                continue
            found += [
                f"{relative}:{line}: {text!r}"
                for line, text in _strings(path)
                if _MAYBE_PLURAL.search(text.replace("http(s)", ""))
            ]
    assert not found, "use blocks.text.plural:\n" + "\n".join(found)
