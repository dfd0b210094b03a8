"""Words the `/health` subcommands share: windows, bands, people, and the error for text that was
not understood (its message says what and how to fix it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain import Score, Window

MAX_COMMAND_CHARS = 500
# Control characters (NUL included) never reach a parser, a database or a log line.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(\|[^>]*)?>$")

WINDOWS = {
    "1d": Window.DAY,
    "yesterday": Window.DAY,
    "day": Window.DAY,
    "7d": Window.WEEK,
    "week": Window.WEEK,
}
AHR_BANDS = {"excellent": "excellent", "fair": "fair", "poor": "poor", "deactivated": "deactivated"}
SPS_BANDS = {
    "0-2.5": "0-2.5", "<2.5": "0-2.5", "low": "0-2.5",
    "2.5-3.5": "2.5-3.5", "3.5-4.5": "3.5-4.5",
    "4.5-5": "4.5-5", "4.5+": "4.5-5", ">=4.5": "4.5-5", "high": "4.5-5",
    "unscored": "unscored", "none": "unscored", "not-scored": "unscored",
}  # fmt: skip
CHR_BANDS = {
    "healthy": "healthy", "careful": "careful", "be-careful": "careful",
    "critical": "critical", "suspended": "suspended",
}  # fmt: skip
SCORES = {s.value: s.value for s in Score}


class CommandError(ValueError):
    """The text was not understood; the message says what and how to fix it, and `closest` is the
    valid form to try (text after `/health`), when there is one."""

    def __init__(self, message: str, *, closest: str | None = None) -> None:
        super().__init__(message)
        self.closest = closest


def clean(text: str) -> str:
    """The command text without control characters, each run of them read as one space."""
    return _CONTROL.sub(" ", text)


def clip(word: str) -> str:
    """Echo at most a short, code-safe piece of what the user typed."""
    return word[:30].replace("`", "'")


@dataclass(frozen=True)
class Words:
    """What follows the subcommand's name: the words as typed, lower-cased, and as one string."""

    raw: tuple[str, ...]
    rest: str  # the text after the name, spaces kept (a shop name may have several)

    @property
    def lower(self) -> list[str]:
        return [w.lower() for w in self.raw]


def window_after(words: list[str], at: int) -> tuple[Window, int]:
    """`vs 1d|7d` at `at`: the window and the index after it."""
    if at + 1 >= len(words) or words[at + 1] not in WINDOWS:
        raise CommandError("`vs` takes `1d` (yesterday) or `7d` (last 7 days), e.g. `vs 7d`")
    return WINDOWS[words[at + 1]], at + 2


def choice_after(kind: str, words: list[str], at: int, choices: dict[str, str]) -> tuple[str, int]:
    """`<kind> <one of choices>` at `at`: the choice and the index after it."""
    value = words[at + 1] if at + 1 < len(words) else ""
    if value not in choices:
        options = ", ".join(f"`{c}`" for c in dict.fromkeys(choices.values()))
        raise CommandError(f"`{kind}` takes one of {options}" + (f", not `{clip(value)}`" if value else ""))
    return choices[value], at + 2


def shop_query(words: Words, hint: str) -> str:
    """The shop a command names (code, ID, name or @handle), or an error with an example."""
    query = " ".join(words.raw)
    if not query:
        raise CommandError(f"which shop? e.g. {hint}")
    return query


def no_arguments(name: str) -> Callable[[Words], None]:
    """The parser of a subcommand that takes nothing after its name."""

    def parse(words: Words) -> None:
        if words.raw:
            raise CommandError(f"`{name}` takes no arguments")

    return parse
