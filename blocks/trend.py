"""A seller's trend in text (sparkline) with buttons that post the chart as a picture, and the
words that go with the picture (comment and alt text)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import ActionsBlock, Block

from blocks.ids import ActionId, PeriodRef, TrendRef
from blocks.kit import Reply, button, context, finish, header, section, sparkline
from blocks.text import escape, money, name, plural
from bot import domain
from bot.services.digest_records import PortfolioDay, PortfolioTrend
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


PORTFOLIO_DAYS = (30, 90, 180)
AT_RISK_NOTE = (
    "At risk on a past day: the score rules of the day (AHR fell more than 20 or is 0-50, SPS fell "
    "more than 0.5 or is 0.1-2.4); today's appeals, restrictions and authorization are not in the "
    "history. Sellers without authorization are left out; 48-point shops have no AHR band."
)


def _bands(day: PortfolioDay) -> str:
    return " · ".join(f"{band.value} *{count}*" for band, count in day.bands.items())


def _band_changes(now: PortfolioDay, then: PortfolioDay) -> str:
    return " · ".join(f"{band.value} {now.bands[band] - then.bands[band]:+d}" for band in now.bands)


def portfolio_card(trend: PortfolioTrend) -> Reply:
    """`/health trend portfolio`: the bands and the GMV at risk now against the period's first day,
    as text and sparklines, with buttons that post the chart."""
    title = f"Portfolio trend · last {trend.days} days"
    blocks: list[Block] = [header(title)]
    first, last = trend.first, trend.last
    if first is None or last is None:
        blocks.append(
            section(f"No scores in the last {trend.days} days: import some first (`/health import`).")
        )
        return Reply(title, finish(blocks))
    below = [p.scored - p.bands[domain.AhrBand.EXCELLENT] for p in trend.points]
    at_risk = [p.at_risk for p in trend.points]
    blocks += [
        section(
            f"*{last.day:%b %-d}*: {_bands(last)}\nsince {first.day:%b %-d}: {_band_changes(last, first)}"
        ),
        section(
            f"*Below Excellent*  `{sparkline(below)}`  {below[0]} → *{below[-1]}*\n"
            f"*At risk*  `{sparkline(at_risk)}`  {first.at_risk} → *{last.at_risk}* sellers, "
            f"GMV {money(first.gmv_at_risk)} → *{money(last.gmv_at_risk)}*"
        ),
        context(AT_RISK_NOTE),
        ActionsBlock(
            elements=[
                button(
                    f"Chart {days}d",
                    ActionId.PORTFOLIO_TREND,
                    PeriodRef(days=days).encode(),
                    suffix=str(days),
                )
                for days in PORTFOLIO_DAYS
            ]
        ),
    ]
    summary = f"{last.at_risk} sellers at risk, {money(last.gmv_at_risk)} GMV"
    return Reply(f"{title}: {summary}", finish(blocks))


def portfolio_comment(user_id: str, trend: PortfolioTrend) -> str:
    """The words with the chart: who asked (if someone did), and the period in one line."""
    who = f"<@{user_id}> asked for the " if user_id else "The "
    first, last = trend.first, trend.last
    if first is None or last is None:
        return f"{who}portfolio over the last {trend.days} days: no scores yet."
    return (
        f"{who}portfolio over the last {trend.days} days ({first.day:%b %-d} to {last.day:%b %-d}): "
        f"{_band_changes(last, first)}; at risk {first.at_risk} → {last.at_risk} sellers, "
        f"GMV {money(first.gmv_at_risk)} → {money(last.gmv_at_risk)}."
    )


def portfolio_alt_text(trend: PortfolioTrend) -> str:
    return (
        f"Chart of the portfolio over the last {trend.days} days: sellers with an Excellent AHR on top; "
        "below, sellers in the Fair, Poor and Deactivated bands stacked, and the GMV at risk as a line."
    )


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
    return f"I couldn't post the chart here ({error}).{UPLOAD_HINTS.get(error, '')}"
