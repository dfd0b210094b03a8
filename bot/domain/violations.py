"""Violations (DOMAIN.md "Violations", "Status words"): Seller Center's status vocabulary, which
violations count in the 7- and 60-day windows, which are appealable and until when."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

FIRST_APPEAL_DAYS = 30
SECOND_APPEAL_DAYS = 15
VIOLATION_WINDOWS = (7, 60)

_SEPARATORS = re.compile(r"[\s_\-]+")


def normalize_status(text: str) -> str:
    """Lower case, with spaces, hyphens and underscores alike: 'Appeal_failed' == 'appeal failed'."""
    return _SEPARATORS.sub(" ", text.strip().lower()).replace("( ", "(").replace(" )", ")")


ENFORCEMENT_STATUSES = {
    normalize_status(s): s
    for s in (
        "Enforced",
        "No action",
        "Pending",
        "Revoked",
        "Enforcement pending",
        "Violation warning",
    )
}
APPEAL_STATUSES = {
    normalize_status(s): s
    for s in (
        "Not appealed",
        "Appealing",
        "Appeal failed (can appeal again)",
        "Appeal failed",
        "Appeal succeeded",
    )
}
# DOMAIN.md "Status words": Seller Center's two pages word the same statuses differently, and the
# seeds copy both. Either spelling means the same status, stored in the first page's words.
APPEAL_STATUSES.update(
    {
        normalize_status("Not yet appealed"): "Not appealed",
        normalize_status("Failed appeal (can appeal again)"): "Appeal failed (can appeal again)",
        normalize_status("Failed appeal"): "Appeal failed",
        normalize_status("Appeal successful"): "Appeal succeeded",
    }
)


def canonical_appeal(status: str) -> str:
    """An appeal status in the bot's own words, whichever of Seller Center's spellings it came in."""
    return APPEAL_STATUSES.get(normalize_status(status), status)


VIOLATION_STATUSES = {normalize_status(s): s for s in ("Violation - Deduction", "Violation - Warning")}

SHOP_COUNTED = {"Enforced", "No action", "Pending"}
ACCOUNT_COUNTED = {"Enforced", "Enforcement pending", "Violation warning"}
SHOP_APPEALABLE = {"Not appealed", "Appeal failed (can appeal again)"}


@dataclass(frozen=True, slots=True)
class ViolationFacts:
    """What the rules need to know about one violation."""

    scope: str  # "shop" | "account"
    notified_at: dt.date
    enforcement_status: str
    appeal_status: str
    appeal_rejected_at: dt.date | None = None
    violation_status: str | None = None


def in_last_days(notified_at: dt.date, today: dt.date, days: int) -> bool:
    """'Last N days' includes the notice N days ago (day 7 counts, day 8 does not)."""
    return today - dt.timedelta(days=days) <= notified_at <= today


def counted(v: ViolationFacts) -> bool:
    allowed = SHOP_COUNTED if v.scope == "shop" else ACCOUNT_COUNTED
    return v.enforcement_status in allowed


def appeal_deadline(v: ViolationFacts) -> dt.date:
    """Last calendar day to appeal: 30 days from notice, or 15 days from the first rejection."""
    if (
        v.appeal_rejected_at is not None
        and canonical_appeal(v.appeal_status) == "Appeal failed (can appeal again)"
    ):
        return v.appeal_rejected_at + dt.timedelta(days=SECOND_APPEAL_DAYS)
    return v.notified_at + dt.timedelta(days=FIRST_APPEAL_DAYS)


def appeal_until(v: ViolationFacts) -> dt.date | None:
    """The last day the violation can be appealed, or None when its status allows no appeal.

    Shop violations: Not appealed or Appeal failed (can appeal again), within the last 60 days and
    before the deadline; account violations: a deduction not yet appealed, before the deadline
    (DOMAIN.md "Violations"). Stored with each violation, so "an appeal is due within 7 days" is an
    indexed range in SQL."""
    status = canonical_appeal(v.appeal_status)
    if v.scope == "shop":
        if status not in SHOP_APPEALABLE:
            return None
        return min(appeal_deadline(v), v.notified_at + dt.timedelta(days=60))
    # Seller Center words it "Not yet appealed" on this page: the same status
    if v.violation_status == "Violation - Deduction" and status == "Not appealed":
        return appeal_deadline(v)
    return None


def appealable(v: ViolationFacts, today: dt.date) -> bool:
    """Appealable by its status and still inside its deadline (DOMAIN.md 'Violations')."""
    until = appeal_until(v)
    return until is not None and v.notified_at <= today <= until


def days_left_to_appeal(v: ViolationFacts, today: dt.date) -> int:
    return (appeal_deadline(v) - today).days
