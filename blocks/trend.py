"""A seller's trend in text (sparkline) with buttons that post the chart as a picture, and the
words that go with the picture (comment and alt text)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import ActionsBlock, Block

from blocks.ids import ActionId, TrendRef
from blocks.kit import Reply, button, context, finish, header, section, sparkline
from blocks.text import escape, name, plural
from bot import domain
from bot.services.records import ShopInfo

TREND_DAYS = (30, 90, 180)  # the choices offered as buttons
Point = tuple[dt.date, int | None]


def trend_buttons(shop_id: str) -> ActionsBlock:
    """Three buttons, "Trend 30d/90d/180d", each asking for the shop's trend chart over that period."""
    return ActionsBlock(
        elements=[
            button(
                f"Trend {days}d",
                ActionId.TREND,
                TrendRef(shop_id=shop_id, days=days).encode(),
                suffix=str(days),
            )
            for days in TREND_DAYS
        ]
    )


def trend_card(
    shop_name: str,
    shop_code: str,
    shop_id: str,
    days: int,
    series: Sequence[int | None],
    label: str,
    show: Callable[[int], str] = str,
) -> Reply:
    """A seller's trend in text (sparkline) with buttons that post the chart as a picture."""
    blocks: list[Block] = [
        header(f"Trend · {shop_name}"),
        context(f"`{escape(shop_code)}` · {label} over the last {days} days"),
    ]
    known = [v for v in series if v is not None]
    if known:
        summary = f"low {show(min(known))} · high {show(max(known))} · now {show(known[-1])}"
        blocks.append(section(f"`{sparkline(series)}`\n{summary}"))
    else:
        blocks.append(section(f"No {label} in the last {days} days."))
    blocks.append(trend_buttons(shop_id))
    return Reply(escape(f"{shop_name}: {label} trend, {days} days"), finish(blocks))


def _latest(points: Sequence[Point], *, scored_only: bool = False) -> tuple[int, int] | None:
    """(latest value, change since the first value of the period)."""
    values = [v for _, v in points if v is not None and (v > 0 or not scored_only)]
    if not values:
        return None
    return values[-1], values[-1] - values[0]


def chart_comment(
    user_id: str,
    shop: ShopInfo,
    days: int,
    ahr: Sequence[Point],
    sps: Sequence[Point],
    *,
    points_region: bool,
) -> str:
    """The message that goes with the chart: who asked, and the scores now against the period."""
    parts = []
    ahr_now = _latest(ahr)
    if ahr_now is not None:
        value, change = ahr_now
        text = f"AHR *{value}* ({change:+d} in {days} days)"
        milestone = domain.next_milestone(value, shop.region)
        if milestone is not None:
            warn = ":warning: " if domain.milestone_warning(value, shop.region) else ""
            text += f", {warn}next milestone {milestone.score} in {plural(value - milestone.score, 'point')}"
        parts.append(text)
    sps_now = _latest(sps, scored_only=True)
    if sps_now is not None:
        value, change = sps_now
        parts.append(f"SPS *{domain.format_sps(value)}* ({change / 10:+.1f})")
    elif _latest(sps) is not None:
        parts.append("SPS not scored yet")
    if points_region:
        parts.append("48-point region: penalty points are on the seller's card")
    summary = " · ".join(parts)
    who = f"<@{user_id}> asked for " if user_id else ""
    return f"{who}*{name(shop.shop_name)}* `{escape(shop.shop_code)}`, last {days} days: {summary}"


def chart_alt_text(shop_name: str, days: int, *, has_ahr: bool) -> str:
    scores = "AHR with milestone lines at 150, 100 and 50, and SPS" if has_ahr else "SPS"
    return f"Line chart of {shop_name}'s {scores} over the last {days} days; gaps are days without data."[
        :1000
    ]


UPLOAD_HINTS = {
    "not_in_channel": " Invite me to the channel first (`/invite @Shop Health Bot`).",
    "channel_not_found": " Invite me to the channel first (`/invite @Shop Health Bot`).",
    "missing_scope": " The app needs the `files:write` scope: ask a workspace admin to reinstall it.",
    "not_allowed_token_type": " The app needs a bot token with the `files:write` scope.",
}


def upload_failed(error: str) -> str:
    return f"I couldn't post the trend chart here ({error}).{UPLOAD_HINTS.get(error, '')}"
