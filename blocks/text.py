"""Text for messages: mrkdwn escaping, truncation, plurals, money and signed changes.

Escaping for mrkdwn happens here and only here: every value that comes from data (names, codes,
IDs, handles, policies) goes through `escape` or `name` before it is put into a message.
"""

from __future__ import annotations

import datetime as dt
import re

NAME_CHARS = 60
NO_DATA = "-"

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,63}")


def truncate(text: str, limit: int) -> str:
    """Cut text to the limit with an ellipsis: the one place long names and texts are shortened."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def name(text: str) -> str:
    return escape(truncate(text, NAME_CHARS))


def channel_mention(channel: str) -> str:
    """A channel as Slack links it: <#C123> for an ID, #name (escaped) for a name."""
    return f"<#{channel}>" if _CHANNEL_ID.fullmatch(channel) else f"#{escape(channel.lstrip('#'))}"


# Nouns whose plural is not the singular plus "s" (or "es" after s, x, z, ch, sh).
IRREGULAR = {"person": "people", "child": "children", "criterion": "criteria"}


def plural_of(noun: str) -> str:
    """The plural of a noun as our messages use it: "order" -> "orders", "reply" -> "replies",
    "person" -> "people". Of several words, the last one changes ("bad row" -> "bad rows")."""
    head, _, last = noun.rpartition(" ")
    if last in IRREGULAR:
        word = IRREGULAR[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """A count and its noun in the right form: `plural(1, "point")` is "1 point", `plural(2,
    "point")` "2 points", `plural(3, "person")` "3 people". An irregular plural can be given:
    `plural(2, "day left", "days left")`. The one place a count meets a noun in our messages."""
    form = noun if count == 1 else (plural_form or plural_of(noun))
    return f"{count:,} {form}"


def money(amount: float | None) -> str:
    if amount is None:
        return NO_DATA
    if amount >= 1_000_000:
        return f"${amount / 1_000_000:.1f}M"
    if amount >= 10_000:
        return f"${amount / 1000:.1f}k"
    return f"${amount:,.0f}"


def signed(change: int | None, *, tenths: bool = False) -> str:
    if change is None:
        return NO_DATA
    if tenths:
        return f"{change / 10:+.1f}"
    return f"{change:+d}"


def ago(moment: dt.datetime, now: dt.datetime, zone: dt.tzinfo) -> str:
    """How long ago, as people say it: "just now", "3 min ago", "5 h ago", else the day ("Nov 26")."""
    seconds = (now - (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return when(moment, zone, day_only=True)


def when(moment: dt.datetime, zone: dt.tzinfo, *, day_only: bool = False) -> str:
    """A moment in the viewer's time zone, with the zone named: "Nov 28 12:17 PST"."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(zone)
    return f"{local:%b %-d}" if day_only else f"{local:%b %-d %H:%M} {local.tzname() or zone}"
