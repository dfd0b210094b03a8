"""Builders for the `/health` replies: help, overview, seller lists, the shop card, lookups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, Option, OverflowMenuElement

from blocks.common import (
    DOT,
    NO_DATA,
    Reply,
    button,
    context,
    divider,
    escape,
    finish,
    freshness_stamp,
    header,
    money,
    name,
    section,
    share_button,
    signed,
)
from blocks.ids import ActionId, CommandRef, RowAction, ShopRef, TrendRef
from bot import domain
from bot.charts import TREND_DAYS
from bot.domain import Level, Score
from bot.services import Overview, Page, SellerRow, ShopDetail, Window

SPARK = "▁▂▃▄▅▆▇█"
EXAMPLES = (
    ("`/health overview [vs 1d|7d]`", "warning and critical counts for AHR, SPS and CHR"),
    ("`/health atrisk [ahr|sps|chr] [vs 1d|7d]`", "sellers needing action, highest GMV first"),
    ("`/health shop &lt;code | ID | name | @handle&gt;`", "one seller's card"),
    (
        "`/health list [ahr &lt;band&gt;] [sps &lt;band&gt;] [chr &lt;band&gt;] [action ahr|sps|chr] [vs 1d|7d] "
        "[sort gmv|ahr|sps|chr] [asc|desc]`",
        "the Health List, filtered and sorted. Bands: AHR `excellent|fair|poor|deactivated`, "
        "SPS `0-2.5|2.5-3.5|3.5-4.5|4.5-5|unscored`, CHR `healthy|careful|critical|suspended`",
    ),
    ("`/health unauthorized`", "sellers who have not authorized the partner, with request links"),
    ("`/health digest subscribe|unsubscribe|list|preview`", "this channel's daily digest"),
    (
        "`/health ack|snooze|unsnooze &lt;shop&gt;`",
        "acknowledge a seller, or snooze it (`1d`, `7d`, `change`)",
    ),
    ("`/health assign &lt;shop&gt; @person|me|nobody`", "set a seller's owner"),
    ("`/health notify milestones on|off`", "a DM when one of your sellers crosses an AHR milestone"),
    ("`/health security &lt;shop&gt;`", "Security Center: alert orders, risk refunds, buyer blocks"),
)


def help_card(problem: str | None = None) -> Reply:
    blocks: list[Block] = []
    if problem:
        blocks.append(section(f":thinking_face: Sorry, {escape(problem)}."))
    blocks.append(header("Shop Health Bot"))
    blocks.append(
        section(
            "I watch your signed sellers' Account Health (AHR), Shop Performance (SPS) and "
            "TikTok account health (CHR). Try:"
        )
    )
    blocks.append(section("\n".join(f"• {cmd}: {what}" for cmd, what in EXAMPLES)))
    blocks.append(
        context(
            "Examples: `/health atrisk vs 7d` · `/health shop US00042` · `/health list ahr fair sort ahr asc`"
        )
    )
    text = (
        f"Sorry, {problem}. Try /health help"
        if problem
        else "Shop Health Bot: /health overview, atrisk, shop, list"
    )
    return Reply(escape(text), finish(blocks))


def message(text: str, *, mrkdwn: bool = False) -> Reply:
    """A one-line reply. Plain text is escaped; `mrkdwn=True` means the caller escaped its parts."""
    safe = text if mrkdwn else escape(text)
    return Reply(safe, finish([section(safe)]))


def _count(level: Level, value: int) -> str:
    return f"{DOT[level]} {value}"


def overview_card(data: Overview, command: str) -> Reply:
    labels = {
        Score.AHR: "Account Health (AHR)",
        Score.SPS: "Shop Performance (SPS)",
        Score.CHR: "TikTok accounts (CHR)",
    }
    fields = []
    for score, (warning, critical) in data.counts.items():
        fields.append(
            f"*{labels[score]}*\n{_count(Level.WARNING, warning)} warning · {_count(Level.CRITICAL, critical)} critical"
        )
    authorized = data.total - data.unauthorized
    fields.append(
        f"*Need action* ({data.window.label})\n:rotating_light: {data.needs_action} sellers · {money(data.gmv_at_risk)} GMV at risk"
    )
    blocks: list[Block] = [
        header("Portfolio health overview"),
        section(
            f"{authorized} authorized sellers of {data.total}; *{data.unauthorized}* not authorized (left out of the counts)."
            + (
                f" {data.without_chr_scope} more lack the Data Compass scope (no CHR)."
                if data.without_chr_scope
                else ""
            )
        ),
        section("", fields=fields),
        ActionsBlock(
            elements=[
                button(
                    "Sellers needing action",
                    ActionId.SHOW_MORE,
                    CommandRef(text=f"atrisk vs {data.window.value}").encode(),
                    style="primary",
                ),
                button(
                    "Unauthorized sellers",
                    ActionId.SHOW_MORE,
                    CommandRef(text="unauthorized").encode(),
                    suffix="unauth",
                ),
                share_button(command),
            ]
        ),
        context(freshness_stamp(data.freshness)),
    ]
    text = f"Overview: {data.needs_action} sellers need action, {data.unauthorized} unauthorized"
    return Reply(text, finish(blocks))


def _score_line(row: SellerRow, window: Window) -> str:
    if not row.authorized:
        return f"AHR {NO_DATA} · SPS {NO_DATA} · CHR {NO_DATA if not row.chr_authorized else row.chr}"
    ahr = f"{DOT[domain.ahr_level(row.ahr)]} AHR {row.ahr if row.ahr is not None else NO_DATA}"
    if row.ahr is not None and row.ahr_then is not None:
        ahr += f" ({signed(row.ahr - row.ahr_then)})"
    sps = f"{DOT[domain.sps_level(row.sps_tenths)]} SPS {domain.format_sps(row.sps_tenths)}"
    chr_value = row.chr if row.chr_authorized and row.chr is not None else NO_DATA
    chr_ = f"{DOT[domain.chr_level(row.chr if row.chr_authorized else None)]} CHR {chr_value}"
    return f"{ahr} · {sps} · {chr_}"


SNOOZE_CHOICES = (
    ("Snooze 1 day", "snooze:1d"),
    ("Snooze 7 days", "snooze:7d"),
    ("Snooze until scores change", "snooze:change"),
)
# Slack allows five options in an overflow menu; the card has the rest (trend, snooze until change).
ROW_MENU = (("Open card", "open"), ("Acknowledge", "ack"), *SNOOZE_CHOICES[:2], ("Assign owner", "assign"))
ROW_MENU_UNAUTHORIZED = (("Open card", "open"), ("Send request link", "request"), ("Acknowledge", "ack"),
                         SNOOZE_CHOICES[1], ("Assign owner", "assign"))  # fmt: skip


def row_menu(shop_id: str, index: int, *, authorized: bool) -> OverflowMenuElement:
    """The follow-ups for one seller in a single overflow menu, so a row stays one block."""
    choices = ROW_MENU if authorized else ROW_MENU_UNAUTHORIZED
    return OverflowMenuElement(
        action_id=f"{ActionId.SHOP_MENU.value}:{index}",
        options=[
            Option(text=label, value=RowAction(op=op, shop_id=shop_id).encode()) for label, op in choices
        ],
    )


def seller_row(
    row: SellerRow, window: Window, index: int, *, note: str | None = None, menu: bool = False
) -> list[Block]:
    """One seller as one section. `note` is trusted mrkdwn (e.g. who acknowledged); `menu` swaps
    the single button for the follow-up overflow menu."""
    owner = f" · owner <@{row.owner}>" if row.owner else ""
    gmv = money(row.gmv_7d) if row.authorized else NO_DATA
    lines = [
        f"*{name(row.shop_name)}* `{escape(row.shop_code)}` · {escape(row.region)} · GMV 7d {gmv}{owner}",
        _score_line(row, window),
    ]
    if row.reasons:
        lines.append("_" + escape("; ".join(row.reasons)) + "_")
    if not row.authorized:
        lines.append("_Not authorized: data hidden until the seller grants access._")
    if note:
        lines.append(note)
    ref = ShopRef(shop_id=row.shop_id).encode()
    accessory: ButtonElement | OverflowMenuElement
    if menu:
        accessory = row_menu(row.shop_id, index, authorized=row.authorized)
    elif not row.authorized or not row.chr_authorized:
        accessory = button("Send request link", ActionId.REQUEST_AUTHORIZATION, ref, suffix=str(index))
    else:
        accessory = button("Open card", ActionId.OPEN_SHOP, ref, suffix=str(index))
    return [section("\n".join(lines), accessory=accessory)]


def seller_list_card(title: str, page: Page, *, command: str, window: Window, empty: str) -> Reply:
    blocks: list[Block] = [header(title)]
    if not page.rows:
        blocks.append(section(empty))
    else:
        start = page.offset + 1
        blocks.append(context(f"{start}-{page.offset + len(page.rows)} of {page.total} · {window.label}"))
        for i, row in enumerate(page.rows):
            blocks.extend(seller_row(row, window, page.offset + i))
    footer: list[Block] = [divider()]
    buttons = []
    if page.remaining:
        buttons.append(
            button(
                f"Show more ({page.remaining} left)",
                ActionId.SHOW_MORE,
                CommandRef(text=command, offset=page.offset + len(page.rows)).encode(),
                suffix="next",
            )
        )
    buttons.append(share_button(command, page.offset))
    footer.append(ActionsBlock(elements=buttons))
    return Reply(f"{title}: {page.total} sellers", finish(blocks, footer=footer))


def sparkline(values: Sequence[int | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = max(high - low, 1)
    return "".join(" " if v is None else SPARK[round((v - low) / span * (len(SPARK) - 1))] for v in values)


def _deadline(day: dt.date | None, today: dt.date) -> str:
    if day is None:
        return "none open"
    left = (day - today).days
    return f"{day:%b %-d} ({left} day{'s' if left != 1 else ''} left)"


def _ahr_field(detail: ShopDetail) -> list[str]:
    h = detail.health
    ahr = h.ahr if h else None
    if ahr is None:
        return [f"*AHR*\n{NO_DATA}"]
    band = domain.ahr_band(ahr)
    changes = f"{signed(domain.delta(ahr, h.ahr_1d if h else None))} 1d · {signed(domain.delta(ahr, h.ahr_7d if h else None))} 7d"
    fields = [f"*AHR* (Shop Health Rating)\n{DOT[domain.ahr_level(ahr)]} *{ahr}* {band}\n{changes}"]
    milestone = domain.next_milestone(ahr, detail.shop.region)
    if milestone is None:
        fields.append("*Next milestone*\nDeactivated: no further milestone")
    else:
        warn = ":warning: " if domain.milestone_warning(ahr, detail.shop.region) else ""
        fields.append(
            f"*Next milestone*\n{warn}{milestone.score} in {ahr - milestone.score} points: {milestone.restriction}"
        )
    return fields


def outlook_lines(detail: ShopDetail) -> list[str]:
    """What happens next without anyone acting: deductions expiring, and recovery from orders."""
    h, shop = detail.health, detail.shop
    lines: list[str] = []
    if detail.next_expiry is not None:
        day, points = detail.next_expiry
        lines.append(f"• {points} deducted point(s) leave the 180-day window on {day:%b %-d, %Y}")
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
                    f"• At {pace}: back above {estimate.milestone.score} in about {estimate.weeks} week(s) "
                    f"({estimate.points_needed} points)"
                )
    return lines


def followup_note(detail: ShopDetail) -> str | None:
    parts = []
    if detail.acknowledgement is not None:
        ack = detail.acknowledgement
        parts.append(
            f":white_check_mark: Acknowledged by <@{ack.user_id}> {ack.acknowledged_at:%b %-d %H:%M} UTC"
        )
    if detail.snooze is not None:
        until = f"until {detail.snooze.until:%b %-d}" if detail.snooze.until else "until its scores change"
        parts.append(f":zzz: Snoozed {until} by <@{detail.snooze.user_id}>")
    return " · ".join(parts) or None


def shop_card(
    detail: ShopDetail, *, seller_center_url: str, command: str, uk_48_point: bool = False
) -> Reply:
    shop, h = detail.shop, detail.health
    points_region = domain.uses_penalty_points(shop.region, uk_48_point=uk_48_point)
    level = Level.UNKNOWN
    if shop.authorized and h is not None:
        levels = [domain.sps_level(h.sps_tenths)]
        if not points_region:
            levels.append(domain.ahr_level(h.ahr))
        if shop.chr_authorized:
            levels.append(domain.chr_level(h.chr))
        order = [Level.CRITICAL, Level.WARNING, Level.GOOD, Level.UNKNOWN]
        level = min(levels, key=order.index)
    blocks: list[Block] = [header(f"{DOT[level]} {shop.shop_name}")]
    owner = f" · owner <@{shop.owner}>" if shop.owner else ""
    blocks.append(
        context(f"`{escape(shop.shop_code)}` · ID {escape(shop.shop_id)} · {escape(shop.region)}{owner}")
    )
    fields: list[str] = []
    if not shop.authorized:
        fields += [
            f"*AHR*\n{NO_DATA}",
            f"*SPS*\n{NO_DATA}",
            f"*Last 7 days GMV*\n{NO_DATA}",
            f"*Violations*\n{NO_DATA}",
        ]
    else:
        if points_region:
            points = detail.shop_violations.points_180d + detail.account_violations.points_180d
            warn = ":warning: " if domain.POINTS_BAN - points <= 12 else ""
            fields.append(
                f"*Penalty points* (48-point system)\n{warn}*{points}* / {domain.POINTS_BAN} in 180 days"
            )
        else:
            fields += _ahr_field(detail)
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
    note = followup_note(detail)
    if note:
        blocks.append(context(note))
    ref = ShopRef(shop_id=shop.shop_id).encode()
    actions: list[ButtonElement | OverflowMenuElement] = []
    if shop.authorized:
        actions.append(
            button("Visit Seller Center", ActionId.VISIT_SELLER_CENTER, ref, url=seller_center_url)
        )
    if not shop.authorized or not shop.chr_authorized:
        actions.append(button("Request authorization", ActionId.REQUEST_AUTHORIZATION, ref, style="primary"))
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
    blocks.append(ActionsBlock(elements=actions))
    blocks.append(context(freshness_stamp(detail.freshness)))
    if not shop.authorized or h is None:
        summary = "data hidden until the seller authorizes the partner"
    elif points_region:
        points = detail.shop_violations.points_180d + detail.account_violations.points_180d
        summary = f"{points}/{domain.POINTS_BAN} penalty points"
    else:
        summary = f"AHR {h.ahr if h.ahr is not None else NO_DATA}"
    return Reply(escape(f"{shop.shop_name} ({shop.shop_code}): {summary}"), finish(blocks))


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


def pick_list(
    query: str,
    shops: Sequence[tuple[str, str, str]],
    *,
    title: str,
    open_label: Callable[[str], str] = lambda code: "Open",
) -> Reply:
    """Several matches or suggestions: (shop_id, code, name) rows with an Open button each."""
    blocks: list[Block] = [section(title)]
    for i, (shop_id, code, shop_name) in enumerate(shops):
        blocks.append(
            section(
                f"*{name(shop_name)}* `{escape(code)}`",
                accessory=button(
                    open_label(code), ActionId.OPEN_SHOP, ShopRef(shop_id=shop_id).encode(), suffix=str(i)
                ),
            )
        )
    return Reply(title.replace("*", ""), finish(blocks))
