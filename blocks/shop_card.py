"""One seller's card: bands with colour and word, changes, milestone, outlook, SPS, CHR per account,
GMV, violations with appeal deadlines, sparkline, follow-up note and buttons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, Option, OverflowMenuElement

from blocks.followup import TEAM_BLOCK, team_line
from blocks.ids import ActionId, Place, RowAction, ShopRef, TrendRef
from blocks.kit import (
    DOT,
    Reply,
    button,
    context,
    finish,
    freshness_stamp,
    header,
    section,
    share_button,
    sparkline,
)
from blocks.text import NO_DATA, escape, money, plural, signed
from bot import domain
from bot.domain import Finding, Level, Reason
from bot.services.records import GivenCounts, ShopDetail, TeamState

SNOOZE_CHOICES = (
    ("Snooze 1 day", "snooze:1d"),
    ("Snooze 7 days", "snooze:7d"),
    ("Snooze until scores change", "snooze:change"),
)


def _deadline(day: dt.date | None, today: dt.date) -> str:
    if day is None:
        return "none open"
    left = (day - today).days
    return f"{day:%b %-d} ({plural(left, 'day left', 'days left')})"


def given_counts_field(counts: GivenCounts) -> str:
    """Violation counts as an imported Health List gave them (no violation rows to count from)."""

    def shown(value: int | None) -> str:
        return NO_DATA if value is None else str(value)

    return (
        f"*Violations* (Partner Center, {counts.day:%d %b})\n"
        f"7d {shown(counts.last_7d)} | 60d {shown(counts.last_60d)}\nAppealable {shown(counts.appealable)}"
    )


def _ahr_fields(detail: ShopDetail) -> list[str]:
    """AHR with its band and changes; the next milestone only while it is in sight (below
    Excellent): a healthy shop does not spend a field on a milestone 50 points away."""
    h = detail.health
    ahr = h.ahr if h else None
    if ahr is None:
        return [f"*AHR* (Shop Health Rating)\n{NO_DATA}"]
    band = domain.ahr_band(ahr)
    changes = f"{signed(domain.delta(ahr, h.ahr_1d if h else None))} 1d · {signed(domain.delta(ahr, h.ahr_7d if h else None))} 7d"
    fields = [f"*AHR* (Shop Health Rating)\n{DOT[domain.ahr_level(ahr)]} *{ahr}* {band}\n{changes}"]
    milestone = domain.next_milestone(ahr, detail.shop.region)
    if domain.ahr_level(ahr) is Level.GOOD:
        return fields
    if milestone is None:
        fields.append("*Next milestone*\nDeactivated: no further milestone")
    else:
        warn = ":warning: " if domain.milestone_warning(ahr, detail.shop.region) else ""
        fields.append(
            f"*Next milestone*\n{warn}{milestone.score} in {ahr - milestone.score} points: {milestone.restriction}"
        )
    return fields


def penalty_points(detail: ShopDetail) -> int:
    """A 48-point shop's points: as computed with its health, else from its violations."""
    h = detail.health
    if h is not None and h.points is not None:
        return h.points
    return detail.shop_violations.points_180d + detail.account_violations.points_180d


def _points_field(detail: ShopDetail, rules: domain.PointsRules) -> str:
    """A 48-point shop's penalty points against the configured warning and critical points."""
    h = detail.health
    points = penalty_points(detail)
    change = signed(domain.delta(points, h.points_1d if h else None))
    return (
        f"*Penalty points* (48-point system)\n{DOT[rules.level(points)]} *{points}* / {domain.POINTS_BAN} "
        f"in 180 days ({change} 1d)\nwarning at {rules.warning}, critical at {rules.critical}, "
        f"+{rules.rise} over the window needs action"
    )


def outlook_lines(detail: ShopDetail) -> list[str]:
    """What happens next without anyone acting: deductions expiring, and recovery from orders."""
    h, shop = detail.health, detail.shop
    lines: list[str] = []
    if detail.next_expiry is not None:
        day, points = detail.next_expiry
        lines.append(f"• {plural(points, 'deducted point')} leave the 180-day window on {day:%b %-d, %Y}")
    ahr = h.ahr if h else None
    if ahr is not None:
        estimate = domain.recovery(ahr, detail.completed_orders_7d, shop.region)
        if estimate is not None:
            pace = f"{detail.completed_orders_7d:,} completed orders a week (+{estimate.weekly_gain}/week, max +20)"
            if estimate.weeks is None:
                lines.append(
                    f"• At {pace}: back above {estimate.milestone.score} is not reachable in 180 days"
                )
            else:
                lines.append(
                    f"• At {pace}: back above {estimate.milestone.score} in about {plural(estimate.weeks, 'week')} "
                    f"({estimate.points_needed} points)"
                )
    return lines


# What the card asks to do first, by the most urgent reason, and where.
SELLER_CENTER, REQUEST = "seller center", "request"
NEXT_STEP: dict[Reason, str] = {
    Reason.APPEAL: "Appeal it in Seller Center (Account Health > Violation Records) before the deadline: "
    "a successful appeal gives the points back at once.",
    Reason.MILESTONE: "In Seller Center > Account Health, take the policy quiz: it may shorten the restriction. "
    "Until it lifts: no new listings, no new mega campaigns.",
    Reason.RESTRICTED: "In Seller Center > Account Health, take the policy quiz: it may shorten the restriction.",
    Reason.NEAR_MILESTONE: "Appeal what can be appealed and avoid late dispatches: the next deduction "
    "brings a restriction.",
    Reason.POINTS: "Review the violations in Seller Center and appeal what you can: 48 points is a "
    "permanent ban.",
    Reason.ACCESS: "Ask the seller to grant access again: *Request authorization* sends them the link.",
    Reason.AHR_DROP: "Open the violations behind the drop in Seller Center and appeal those you can.",
    Reason.SPS_DROP: "Check fulfilment, cancellations and customer service in Seller Center > Shop Performance.",
    Reason.CHR_DROP: "Check the TikTok account's policy violations in Seller Center > TikTok Account Health.",
    Reason.CRITICAL: "Open the critical score's details in Seller Center.",
}
URGENT = frozenset(
    {Reason.APPEAL, Reason.MILESTONE, Reason.RESTRICTED, Reason.POINTS, Reason.ACCESS, Reason.CRITICAL}
)


def card_level(
    detail: ShopDetail, findings: Sequence[Finding], *, points_region: bool, rules: domain.PointsRules
) -> Level:
    """The header's colour: the most urgent thing about the seller, not only its bands (an appeal
    due in 3 days is red whatever the scores)."""
    shop, h = detail.shop, detail.health
    if not shop.authorized or h is None:
        return Level.UNKNOWN
    if any(f.reason in URGENT for f in findings):
        return Level.CRITICAL
    levels = [domain.sps_level(h.sps_tenths)]
    levels.append(rules.level(penalty_points(detail)) if points_region else domain.ahr_level(h.ahr))
    if shop.chr_authorized:
        levels.append(domain.chr_level(h.chr))
    if findings:
        levels.append(Level.WARNING)
    order = [Level.CRITICAL, Level.WARNING, Level.GOOD, Level.UNKNOWN]
    return min(levels, key=order.index)


def next_step(detail: ShopDetail, findings: Sequence[Finding]) -> tuple[str | None, str | None]:
    """(what to do first, which button does it: Seller Center or the request link)."""
    shop = detail.shop
    if not shop.authorized:
        return NEXT_STEP[Reason.ACCESS], REQUEST
    if findings:
        first = findings[0].reason
        return NEXT_STEP[first], REQUEST if first is Reason.ACCESS else SELLER_CENTER
    if not shop.chr_authorized:
        return "Ask for the Data Compass scope to see the TikTok accounts' health (CHR).", REQUEST
    return None, None


def _lead(detail: ShopDetail, findings: Sequence[Finding]) -> list[Block]:
    """What happened and what to do first, before any score."""
    if not detail.shop.authorized:
        return [section("*What to do*\n" + NEXT_STEP[Reason.ACCESS])]
    blocks: list[Block] = []
    if findings:
        lines = [f"• {escape(f.text)}" for f in findings]
        blocks.append(section("*What happened*\n" + "\n".join(lines)))
    else:
        blocks.append(section(":white_check_mark: *Nothing needs action today.*"))
    reasons = {f.reason for f in findings}
    if reasons & {Reason.AHR_DROP, Reason.MILESTONE, Reason.POINTS}:
        behind = detail.shop_violations.recent + detail.account_violations.recent
        behind.sort(key=lambda v: (-v.points, v.notified_at))
        if behind:
            lines = [
                f"• {escape(v.policy)} · {plural(v.points, 'point')} · {v.notified_at:%b %-d}"
                + (" (TikTok account)" if v.scope == "account" else "")
                for v in behind[:5]
            ]
            more = f"\n… and {len(behind) - 5} more" if len(behind) > 5 else ""
            blocks.append(
                section("*Behind the drop* (violations of the last 7 days)\n" + "\n".join(lines) + more)
            )
        else:
            blocks.append(
                context(
                    "No violation of the last 7 days is imported for this shop: the next violations file may explain it."
                )
            )
    step, _ = next_step(detail, findings)
    if step:
        blocks.append(section(f"*What to do first*\n{step}"))
    return blocks


def shop_card(
    detail: ShopDetail,
    *,
    seller_center_url: str,
    command: str,
    findings: Sequence[Finding] = (),
    uk_48_point: bool = False,
    rules: domain.PointsRules = domain.DEFAULT_RULES,
    dispatch: Sequence[Block] = (),
    zone: dt.tzinfo = dt.UTC,
    team: TeamState | None = None,
    now: dt.datetime | None = None,
) -> Reply:
    """One seller's card: what happened and what to do first, then the scores, violations,
    accounts, outlook and who is on it, with one primary button."""
    shop, h = detail.shop, detail.health
    points_region = domain.uses_penalty_points(shop.region, uk_48_point=uk_48_point)
    level = card_level(detail, findings, points_region=points_region, rules=rules)
    blocks: list[Block] = [
        header(f"{DOT[level]} {shop.shop_name}"),
        context(f"`{escape(shop.shop_code)}` · ID {escape(shop.shop_id)} · {escape(shop.region)}"),
        *_lead(detail, findings),
    ]
    fields: list[str] = []
    if not shop.authorized:
        fields += [
            f"*AHR*\n{NO_DATA}",
            f"*SPS*\n{NO_DATA}",
            f"*Last 7 days GMV*\n{NO_DATA}",
            f"*Violations*\n{NO_DATA}",
        ]
    else:
        fields += [_points_field(detail, rules)] if points_region else _ahr_fields(detail)
        sps = h.sps_tenths if h else None
        sps_text = domain.format_sps(sps)
        if domain.sps_scored(sps) and h is not None:
            sps_text = f"{DOT[domain.sps_level(sps)]} *{sps_text}* ({signed(domain.delta(sps, h.sps_tenths_1d), tenths=True)} 1d)"
        elif sps == 0:
            sps_text = "⚪ not scored yet (needs 30 delivered orders in 90 days)"
        fields.append(f"*SPS* (Shop Performance)\n{sps_text}")
        fields.append(f"*Last 7 days GMV*\n{money(h.gmv_7d if h else None)}")
        sv, av = detail.shop_violations, detail.account_violations
        nearest = min((d for d in (sv.nearest_deadline, av.nearest_deadline) if d), default=None)
        if detail.given_counts is not None:  # no violation rows: Partner Center's counts as given
            fields.append(given_counts_field(detail.given_counts))
        else:
            fields.append(
                f"*Violations* (shop · accounts)\n7d {sv.last_7d} · {av.last_7d} | 60d {sv.last_60d} · {av.last_60d}\n"
                f"Appealable {sv.appealable} · {av.appealable}; nearest deadline {_deadline(nearest, detail.today)}"
            )
    blocks.append(section("", fields=fields))
    if shop.chr_authorized and detail.accounts:
        lines = []
        for account in detail.accounts:
            band = domain.chr_band(account.chr)
            value = f"{account.chr} {band}" if account.chr is not None else NO_DATA
            lines.append(
                f"{DOT[domain.chr_level(account.chr)]} @{escape(account.tiktok_handle)}: *{value}* "
                f"({signed(domain.delta(account.chr, account.chr_1d))} 1d · {signed(domain.delta(account.chr, account.chr_7d))} 7d)"
            )
        blocks.append(section("*TikTok accounts (CHR)*\n" + "\n".join(lines)))
    elif detail.accounts or not shop.chr_authorized:
        blocks.append(section(f"*TikTok accounts (CHR)*\n{NO_DATA} (Data Compass scope not granted)"))
    if shop.authorized:
        items = detail.shop_violations.appealable_items + detail.account_violations.appealable_items
        items.sort(key=lambda item: item[1])
        if items:
            lines = [
                f"• {escape(v.policy)} ({v.scope}, {v.points} pts): appeal by {_deadline(deadline, detail.today)}"
                for v, deadline in items[:5]
            ]
            more = f"\n… and {len(items) - 5} more" if len(items) > 5 else ""
            blocks.append(section("*Appealable violations*\n" + "\n".join(lines) + more))
        trend = [v for _, v in detail.ahr_trend] if not points_region else [v for _, v in detail.sps_trend]
        if any(v is not None for v in trend):
            label = "AHR" if not points_region else "SPS"
            blocks.append(context(f"{label} last {len(trend)} days: `{sparkline(trend)}`"))
    if shop.authorized and not points_region:
        outlook = outlook_lines(detail)
        if outlook:
            blocks.append(section("*Outlook*\n" + "\n".join(outlook)))
    blocks.extend(dispatch)  # the dispatch watch's Late Dispatch Rate and the fields' sources
    note = team_line(team, now or dt.datetime.now(dt.UTC), zone)
    if note:
        blocks.append(context(note, block_id=TEAM_BLOCK))
    ref = ShopRef(shop_id=shop.shop_id).encode()
    _, primary = next_step(detail, findings)  # one primary button: the one that does it
    actions: list[ButtonElement | OverflowMenuElement] = []
    if shop.authorized:
        style = "primary" if primary == SELLER_CENTER else None
        actions.append(
            button(
                "Visit Seller Center", ActionId.VISIT_SELLER_CENTER, ref, url=seller_center_url, style=style
            )
        )
    if not shop.authorized or not shop.chr_authorized:
        style = "primary" if primary == REQUEST else None
        actions.append(button("Request authorization", ActionId.REQUEST_AUTHORIZATION, ref, style=style))
    actions.append(button("Acknowledge", ActionId.ACKNOWLEDGE, ref))
    actions.append(button("Assign", ActionId.ASSIGN, ref))
    if shop.authorized:
        actions.append(
            button("Trend 30d", ActionId.TREND, TrendRef(shop_id=shop.shop_id, days=30).encode(), suffix="30")
        )
    actions.append(share_button(command))
    actions.append(
        OverflowMenuElement(
            action_id=ActionId.SNOOZE.value,
            options=[
                Option(text=label, value=RowAction(op=op, shop_id=shop.shop_id).encode())
                for label, op in SNOOZE_CHOICES
            ],
        )
    )
    blocks.append(ActionsBlock(elements=actions, block_id=Place(shop_id=shop.shop_id, card=True).block_id()))
    blocks.append(context(freshness_stamp(detail.freshness, zone)))
    if not shop.authorized or h is None:
        summary = "data hidden until the seller authorizes the partner"
    else:
        summary = (
            f"{penalty_points(detail)}/{domain.POINTS_BAN} penalty points"
            if points_region
            else f"AHR {h.ahr if h.ahr is not None else NO_DATA}"
        )
        if findings:
            summary += f" · {findings[0].text}"
    return Reply(escape(f"{shop.shop_name} ({shop.shop_code}): {summary}"), finish(blocks))
