"""The `/health` command language: one small parser with aliases, shared by Slack and `healthbot ask`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain import Score
from bot.services import ListFilter, SortKey, Window

MAX_COMMAND_CHARS = 500


class CommandError(ValueError):
    """The text was not understood; the message says what and how to fix it."""


@dataclass(frozen=True)
class Help:
    problem: str | None = None


@dataclass(frozen=True)
class Overview:
    window: Window = Window.DAY


@dataclass(frozen=True)
class ShopCard:
    query: str


@dataclass(frozen=True)
class AtRisk:
    scores: tuple[Score, ...] = tuple(Score)
    window: Window = Window.DAY


@dataclass(frozen=True)
class HealthList:
    filters: ListFilter = field(default_factory=ListFilter)


@dataclass(frozen=True)
class Unauthorized:
    pass


@dataclass(frozen=True)
class Digest:
    action: str  # subscribe | unsubscribe | list | preview
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowUp:
    """ack <shop> | snooze <shop> [1d|7d|change] | unsnooze <shop> | assign <shop> <@user|me|nobody>."""

    action: str
    query: str
    option: str = ""


@dataclass(frozen=True)
class Notify:
    """notify milestones on|off: a DM when one of my sellers crosses an AHR milestone."""

    enabled: bool


@dataclass(frozen=True)
class Security:
    query: str


@dataclass(frozen=True)
class Trend:
    query: str
    days: int = 30


@dataclass(frozen=True)
class Mine:
    """The asker's own sellers (the App Home list), worst first."""


Command = (
    Trend
    | Mine
    | Security
    | Help
    | Overview
    | ShopCard
    | AtRisk
    | HealthList
    | Unauthorized
    | Digest
    | FollowUp
    | Notify
)

ALIASES = {
    "help": "help", "?": "help", "h": "help",
    "overview": "overview", "ov": "overview", "summary": "overview", "status": "overview",
    "shop": "shop", "seller": "shop", "s": "shop", "card": "shop",
    "atrisk": "atrisk", "at-risk": "atrisk", "risk": "atrisk", "action": "atrisk",
    "list": "list", "ls": "list", "health": "list",
    "unauthorized": "unauthorized", "unauthorised": "unauthorized", "unauth": "unauthorized", "auth": "unauthorized",
    "digest": "digest",
    "ack": "ack", "acknowledge": "ack", "snooze": "snooze", "unsnooze": "unsnooze",
    "assign": "assign", "owner": "assign", "notify": "notify",
    "security": "security", "sec": "security",
    "trend": "trend", "chart": "trend", "mine": "mine", "my": "mine", "home": "mine",
}  # fmt: skip
SNOOZE_OPTIONS = {
    "1d": "1d",
    "day": "1d",
    "7d": "7d",
    "week": "7d",
    "change": "change",
    "until-change": "change",
}
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(\|[^>]*)?>$")

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
DIGEST_ACTIONS = ("subscribe", "unsubscribe", "list", "preview")


def _window(words: list[str], at: int) -> tuple[Window, int]:
    if at + 1 >= len(words) or words[at + 1] not in WINDOWS:
        raise CommandError("`vs` takes `1d` (yesterday) or `7d` (last 7 days), e.g. `vs 7d`")
    return WINDOWS[words[at + 1]], at + 2


def _choice(kind: str, words: list[str], at: int, choices: dict[str, str]) -> tuple[str, int]:
    value = words[at + 1] if at + 1 < len(words) else ""
    if value not in choices:
        options = ", ".join(f"`{c}`" for c in dict.fromkeys(choices.values()))
        raise CommandError(f"`{kind}` takes one of {options}" + (f", not `{value}`" if value else ""))
    return choices[value], at + 2


def parse(text: str) -> Command:
    """Parse the text after `/health`. Raises CommandError with a friendly message."""
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandError(f"that command is {len(text)} characters long; `/health` commands are short")
    words = text.strip().lower().split()
    if not words:
        return Help()
    verb = ALIASES.get(words[0])
    rest = words[1:]
    if verb is None:
        raise CommandError(f"I don't know `{_clip(words[0])}`")
    if verb == "help":
        return Help()
    if verb == "shop":
        query = text.strip().split(None, 1)[1].strip() if rest else ""
        if not query:
            raise CommandError("which shop? e.g. `/health shop US00042`, a name, a shop ID or `@handle`")
        return ShopCard(query=query)
    if verb == "overview":
        window = Window.DAY
        i = 0
        while i < len(rest):
            if rest[i] == "vs":
                window, i = _window(rest, i)
            elif rest[i] in WINDOWS:
                window, i = WINDOWS[rest[i]], i + 1
            else:
                raise CommandError(f"`overview` does not take `{_clip(rest[i])}`; try `overview vs 7d`")
        return Overview(window)
    if verb == "atrisk":
        scores: list[Score] = []
        window = Window.DAY
        i = 0
        while i < len(rest):
            word = rest[i]
            if word in Score.__members__.values():
                scores.append(Score(word))
                i += 1
            elif word == "vs":
                window, i = _window(rest, i)
            elif word in WINDOWS:
                window, i = WINDOWS[word], i + 1
            else:
                raise CommandError(f"`atrisk` takes `ahr`, `sps`, `chr` and `vs 1d|7d`, not `{_clip(word)}`")
        return AtRisk(tuple(dict.fromkeys(scores)) or tuple(Score), window)
    if verb == "list":
        return HealthList(_list_filter(rest))
    if verb == "mine":
        if rest:
            raise CommandError("`mine` takes no arguments")
        return Mine()
    if verb == "trend":
        words = text.strip().split()[1:]
        days = 30
        if words and re.fullmatch(r"(30|90|180)d?", words[-1].lower()):
            days = int(words.pop().lower().rstrip("d"))
        if not words:
            raise CommandError("which shop? e.g. `/health trend US00042 90d` (30d, 90d or 180d)")
        return Trend(" ".join(words), days)
    if verb == "security":
        query = text.strip().split(None, 1)[1].strip() if rest else ""
        if not query:
            raise CommandError("which shop? e.g. `/health security US00042`")
        return Security(query)
    if verb in ("ack", "snooze", "unsnooze", "assign"):
        return _follow_up(verb, text.strip().split()[1:])
    if verb == "notify":
        if len(rest) == 2 and rest[0] == "milestones" and rest[1] in ("on", "off"):
            return Notify(rest[1] == "on")
        raise CommandError("`notify` takes `milestones on` or `milestones off`")
    if verb == "unauthorized":
        if rest:
            raise CommandError("`unauthorized` takes no arguments")
        return Unauthorized()
    # digest
    if not rest or rest[0] not in DIGEST_ACTIONS:
        raise CommandError("`digest` takes `subscribe`, `unsubscribe`, `list` or `preview`")
    original = text.strip().split()[2:]
    return Digest(rest[0], tuple(original))


def _follow_up(verb: str, words: list[str]) -> FollowUp:
    option = ""
    if verb == "snooze":
        option = "1d"
        if words and words[-1].lower() in SNOOZE_OPTIONS:
            option = SNOOZE_OPTIONS[words.pop().lower()]
        elif words and re.fullmatch(r"\d+[a-z]*", words[-1].lower()):
            raise CommandError(
                f"`snooze` lasts `1d`, `7d` or until the scores `change`, not `{_clip(words[-1])}`"
            )
    elif verb == "assign":
        if len(words) < 2:
            raise CommandError(
                "`assign` takes a shop and a person, e.g. `assign US00042 @maria` (or `me`, `nobody`)"
            )
        last = words.pop()
        match = _USER.match(last)
        if match:
            option = match.group(1)
        elif last.lower() in ("me", "nobody", "none"):
            option = last.lower()
        else:
            raise CommandError(
                f"`{_clip(last)}` is not a person; mention them with @ (or say `me` or `nobody`)"
            )
    query = " ".join(words)
    if not query:
        raise CommandError(f"which shop? e.g. `/health {verb} US00042`")
    return FollowUp(verb, query, option)


def _list_filter(words: list[str]) -> ListFilter:
    values: dict[str, object] = {}
    actions: list[Score] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "ahr":
            values["ahr"], i = _choice("ahr", words, i, AHR_BANDS)
        elif word == "sps":
            values["sps"], i = _choice("sps", words, i, SPS_BANDS)
        elif word == "chr":
            values["chr"], i = _choice("chr", words, i, CHR_BANDS)
        elif word == "action":
            score, i = _choice("action", words, i, {s.value: s.value for s in Score})
            actions.append(Score(score))
        elif word == "vs":
            values["window"], i = _window(words, i)
        elif word == "sort":
            key, i = _choice("sort", words, i, {k.value: k.value for k in SortKey})
            values["sort"] = SortKey(key)
        elif word in ("asc", "desc"):
            values["descending"], i = word == "desc", i + 1
        else:
            raise CommandError(
                f"`list` does not understand `{_clip(word)}`; it takes `ahr <band>`, `sps <band>`, "
                "`chr <band>`, `action ahr|sps|chr`, `vs 1d|7d`, `sort gmv|ahr|sps|chr`, `asc|desc`"
            )
    if actions:
        values["action"] = tuple(dict.fromkeys(actions))
    return ListFilter(**values)  # type: ignore[arg-type]


def _clip(word: str) -> str:
    # Echo at most a short, code-safe piece of what the user typed.
    return word[:30].replace("`", "'")
