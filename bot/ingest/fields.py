"""Field parsers for imported rows: each returns the value or raises BadValue naming the column
and a friendly reason. One number parser sits behind the integer, SPS and money fields."""

from __future__ import annotations

import datetime as dt
import math
import re
import urllib.parse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import domain


class BadValue(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column


def text(row: dict[str, str], column: str, *, required: bool = True, max_len: int = 255) -> str | None:
    value = (row.get(column) or "").strip()
    if not value:
        if required:
            raise BadValue(column, "is empty")
        return None
    if len(value) > max_len:
        raise BadValue(column, f"is longer than {max_len} characters")
    return value


def parse_number(row: dict[str, str], column: str, noun: str = "a number") -> tuple[str, float] | None:
    """The cell's text and its value, None when blank; a row error when it is not a number."""
    value = (row.get(column) or "").strip()
    if noun == "an amount":  # thousands separators and a currency sign or code are fine in money
        value = value.replace(",", "")
        if bare := _MONEY.fullmatch(value):
            value = bare[1]
    if not value:
        return None
    try:
        return value, float(value)
    except ValueError:
        raise BadValue(column, f"{value!r} is not {noun}") from None


# "$1200.50", "US$ 1200", "RM1200", "1200 USD": the number inside.
_MONEY = re.compile(r"(?:[^\d\s.+-]{1,3}\s?)?([+-]?[\d.]+)(?:\s?[A-Za-z]{3})?")


def integer(row: dict[str, str], column: str, low: int, high: int, *, required: bool = False) -> int | None:
    try:  # the common case, a plain whole number in range, without the general parser
        whole = int(row.get(column) or "")
        if low <= whole <= high:
            return whole
    except ValueError:
        pass
    parsed = parse_number(row, column)
    if parsed is None:
        if required:
            raise BadValue(column, "is empty")
        return None
    value, number = parsed
    if not number.is_integer():
        raise BadValue(column, f"{value!r} is not a whole number")
    if not low <= number <= high:
        raise BadValue(column, f"{value} is outside {low}..{high}")
    return int(number)


def sps(row: dict[str, str]) -> int | None:
    parsed = parse_number(row, "sps")
    if parsed is None:
        return None
    value, number = parsed
    if not 0 <= number <= 5:
        raise BadValue("sps", f"{value} is outside 0..5")
    tenths = round(number * 10)
    if abs(number * 10 - tenths) > 1e-6:
        raise BadValue("sps", f"{value} has more than one decimal")
    return tenths


def money(row: dict[str, str], column: str) -> float | None:
    try:  # the common case, a plain finite non-negative number, without the general parser
        number = float(row.get(column) or "")
        if 0 <= number < math.inf:
            return number
    except ValueError:
        pass
    parsed = parse_number(row, column, "an amount")
    if parsed is None:
        return None
    value, number = parsed
    if not math.isfinite(number) or number < 0:
        raise BadValue(column, f"{value} is not a non-negative amount")
    return number


def date(row: dict[str, str], column: str, *, required: bool = True) -> dt.date | None:
    value = (row.get(column) or "").strip()
    if not value:
        if required:
            raise BadValue(column, "is empty")
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(value).date()  # a timestamp is fine too
    except ValueError:
        raise BadValue(column, f"{value!r} is not a date (YYYY-MM-DD)") from None


def timestamp(row: dict[str, str], column: str, *, required: bool = True) -> dt.datetime | None:
    """An ISO 8601 time with its UTC offset (or Z), returned in UTC; a time without one is refused,
    since the shop's zone decides the order's local day."""
    value = (row.get(column) or "").strip()
    if not value:
        if required:
            raise BadValue(column, "is empty")
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadValue(
            column, f"{value[:40]!r} is not an ISO 8601 time (2026-07-02T10:00:00-04:00)"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadValue(column, f"{value[:40]!r} has no UTC offset (write 2026-07-02T10:00:00-04:00 or ...Z)")
    return moment.astimezone(dt.UTC)


def timezone(row: dict[str, str], column: str = "timezone") -> str | None:
    """An IANA time zone name such as America/New_York, or None when blank."""
    value = text(row, column, required=False, max_len=64)
    if not value:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadValue(column, f"{value[:40]!r} is not a time zone name (e.g. America/New_York)") from None
    return value


_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def boolean(row: dict[str, str], column: str) -> bool:
    value = (row.get(column) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadValue(column, f"{value!r} is not true/false (yes/no, 1/0)")


def status(
    row: dict[str, str], column: str, vocabulary: dict[str, str], *, required: bool = True
) -> str | None:
    value = (row.get(column) or "").strip()
    if not value:
        if required:
            raise BadValue(column, "is empty")
        return None
    known = vocabulary.get(domain.normalize_status(value))
    if known is None:
        raise BadValue(column, f"{value!r} is not one of: {', '.join(vocabulary.values())}")
    return known


def handle(row: dict[str, str], *, required: bool = True) -> str | None:
    value = text(row, "tiktok_handle", required=required, max_len=64)
    return value.lstrip("@") if value else None


SECURITY_KINDS = {
    domain.normalize_status(word): kind
    for kind, words in {
        "alert_order": ("alert order", "alert_order", "security alert order", "security alert"),
        "risk_refund": ("risk refund", "risk_refund", "risk refund request"),
        "fraud_blocked": ("fraud blocked", "fraud_blocked", "confirmed fraud", "blocked"),
    }.items()
    for word in words
}
SECURITY_STATES = {
    domain.normalize_status(word): state
    for state, words in {
        "open": ("open", "pending", "new", "action needed"),
        "resolved": (
            "resolved",
            "closed",
            "cancelled",
            "canceled",
            "rejected",
            "accepted",
            "blocked",
            "done",
        ),
    }.items()
    for word in words
}


USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")
# A channel ID (C…, G…) or a channel name as Slack allows them.
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,63}|[a-z0-9][a-z0-9_-]{0,79}")


def url(row: dict[str, str], column: str) -> str | None:
    """An http(s) URL that is safe to put in a Slack message: no spaces and none of <, > or |."""
    value = text(row, column, required=False, max_len=2000)
    if not value:
        return None
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or re.search(r"[\s<>|]", value):
        raise BadValue(column, f"{value[:80]!r} is not a plain http(s) URL")
    return value
