"""Block Kit for the daily digest: the top-level message (what to do today first, every section
with its own top rows and "+N more"), the full lists in its thread, and updates posted in the
threads of sellers already in a recent digest.

The message stays within Slack's limits at any portfolio size: each section shows at most a few
rows; the counts and the thread carry the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block

from blocks.dispatch import late_dispatch_block
from blocks.kit import MAX_BLOCKS, Reply, context, divider, finish, header, section
from blocks.message import message
from blocks.seller_list import seller_row
from blocks.text import escape, money, name, plural
from bot.domain import Milestone, Window
from bot.services.digest_records import Digest, Section, Subscription
from bot.services.records import LateDispatch, SellerRow, ShopInfo

ACT_TODAY_ROWS = 3  # rows each "Act today" section shows in the message
OTHER_ROWS = 2  # rows each later section shows
THREAD_ROWS = 40  # rows of one full list in the thread (one message)


def title_of(digest: Digest) -> str:
    return f"Seller health digest · {digest.day:%a %b %-d, %Y}"


def summary_of(digest: Digest) -> str:
    """The headline: the overview's own numbers for the same day and window."""
    return f"{plural(digest.needs_action, 'seller')} need action · {money(digest.gmv_at_risk)} GMV (last 7 days) at risk"


def digest_reply(
    digest: Digest,
    *,
    threaded: Mapping[str, str] | None = None,
    late_dispatch: Sequence[tuple[ShopInfo, LateDispatch]] = (),
    now: dt.datetime | None = None,
    zone: dt.tzinfo = dt.UTC,
) -> Reply:
    """The top-level digest message. Sellers in `threaded` (shop_id -> thread ts) already have a
    thread in this channel: unless they must act today, they are counted here and updated in
    their thread instead."""
    threaded = threaded or {}
    title = title_of(digest)
    if digest.quiet and not late_dispatch:
        snoozed = f" ({digest.snoozed} snoozed)" if digest.snoozed else ""
        line = f":white_check_mark: {title}: all clear, no seller needs action today{snoozed}."
        return Reply(f"{title}: all clear", finish([section(line)]))
    summary = summary_of(digest)
    extras = []
    near = digest.count(Section.NEAR_MILESTONE)
    if near:
        extras.append(f"{near} within 10 points of a milestone")
    if digest.snoozed:
        extras.append(f"{digest.snoozed} snoozed")
    blocks: list[Block] = [
        header(title),
        section(f"*{summary}*" + (f" · {' · '.join(extras)}" if extras else "")),
    ]
    index = 0
    for act_today in (True, False):
        shown_any = False
        for sec, rows, total in _layout(digest, threaded):
            if sec.act_today is not act_today:
                continue
            if not shown_any:
                label = (
                    ":rotating_light: *Act today*"
                    if act_today
                    else ":chart_with_downwards_trend: *Also needs action*"
                )
                blocks += [divider(), section(label)]
                shown_any = True
            more = f" · +{total - len(rows)} more in the thread" if total > len(rows) else ""
            blocks.append(context(f"*{sec.value}* ({total}){more}"))
            for row in rows:
                blocks.extend(seller_row(row, Window.DAY, index, now=now, zone=zone))
                index += 1
    blocks += _incidents(digest) + _security(digest)
    if late_dispatch:
        blocks.append(late_dispatch_block(late_dispatch))
    in_threads = sorted(digest.shop_ids & set(threaded) - _act_today_ids(digest))
    footer: list[Block] = []
    notes = ["Full lists are in this message's thread · `/health atrisk` any time"]
    if in_threads:
        notes.append(
            f":thread: {plural(len(in_threads), 'seller')} from a recent digest: updates in their threads"
        )
    footer.append(context(*notes))
    return Reply(f"{title}: {summary}", finish(blocks, footer=footer))


def _act_today_ids(digest: Digest) -> set[str]:
    return {row.shop_id for sec, rows in digest.sections.items() if sec.act_today for row in rows}


def _layout(digest: Digest, threaded: Mapping[str, str]) -> list[tuple[Section, list[SellerRow], int]]:
    """Each non-empty section as the message shows it: (section, rows shown, rows in all). Sellers
    with a thread are left to it, unless they must act today."""
    shown = []
    for sec in Section:
        rows = [r for r in digest.sections[sec] if sec.act_today or r.shop_id not in threaded]
        # the digest holds every seller of a section that a channel may follow: the others are
        # the section's count less those followed here
        total = digest.count(sec) - (len(digest.sections[sec]) - len(rows))
        if rows:
            cap = ACT_TODAY_ROWS if sec.act_today else OTHER_ROWS
            shown.append((sec, rows[:cap], total))
    return shown


def shown_shop_ids(digest: Digest, threaded: Mapping[str, str]) -> set[str]:
    """The sellers the top-level message shows as rows."""
    return {row.shop_id for _, rows, _ in _layout(digest, threaded) for row in rows}


def _incidents(digest: Digest) -> list[Block]:
    if not digest.groups:
        return []
    lines = [f"• *{escape(policy)}*: {count} sellers" for policy, count in digest.groups[:8]]
    return [section(":rotating_light: *Same policy, several sellers today*\n" + "\n".join(lines))]


def _security(digest: Digest) -> list[Block]:
    if not digest.security:
        return []
    lines = [
        f"• *{name(shop_name)}* `{escape(code)}`: {plural(count, 'open item')}"
        for _, code, shop_name, count in digest.security[:5]
    ]
    more = f"\n… and {len(digest.security) - 5} more shops" if len(digest.security) > 5 else ""
    return [
        section(
            ":shield: *Security Center: alert orders and risk refunds to handle* (no penalty for acting)\n"
            + "\n".join(lines)
            + more
            + "\n`/health security &lt;shop&gt;` for details"
        )
    ]


def thread_lists(
    digest: Digest,
    *,
    threaded: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    zone: dt.tzinfo = dt.UTC,
) -> list[Reply]:
    """The full list of each section the message could not show whole, one thread message each
    (Slack's limits: up to 40 rows; a longer list ends with the command that pages through it)."""
    threaded = threaded or {}
    replies = []
    for sec, shown, total in _layout(digest, threaded):
        if total <= len(shown):
            continue
        rows = [r for r in digest.sections[sec] if sec.act_today or r.shop_id not in threaded]
        every = "all " if total <= THREAD_ROWS else ""
        blocks: list[Block] = [section(f"*{sec.value}*: {every}{plural(total, 'seller')}, {_order(sec)}")]
        for i, row in enumerate(rows[:THREAD_ROWS]):
            blocks.extend(seller_row(row, Window.DAY, i, now=now, zone=zone))
        footer = []
        if total > THREAD_ROWS:
            footer.append(
                context(
                    f"… and {total - THREAD_ROWS} more: `/health atrisk {sec.word}` pages through every "
                    "seller with this reason"
                )
            )
        replies.append(Reply(f"{sec.value}: {plural(total, 'seller')}", finish(blocks, footer=footer)))
    return replies


def _order(sec: Section) -> str:
    return "nearest deadline first" if sec is Section.APPEALS else "highest GMV first"


def thread_updates(
    digest: Digest,
    threaded: Mapping[str, str],
    *,
    now: dt.datetime | None = None,
    zone: dt.tzinfo = dt.UTC,
) -> dict[str, Reply]:
    """One reply per existing thread, listing today's news for the sellers it follows."""
    by_thread: dict[str, list[SellerRow]] = {}
    act_today = _act_today_ids(digest)
    for sec in Section:
        for row in digest.sections[sec]:
            if row.shop_id in threaded and row.shop_id not in act_today:
                by_thread.setdefault(threaded[row.shop_id], []).append(row)
    replies = {}
    for ts, rows in by_thread.items():
        blocks: list[Block] = [section(f"*Update {digest.day:%a %b %-d}*")]
        for i, row in enumerate(rows[: MAX_BLOCKS - 2]):
            blocks.extend(seller_row(row, Window.DAY, i, now=now, zone=zone))
        footer = [context(f"… and {len(rows) - MAX_BLOCKS + 2} more")] if len(rows) > MAX_BLOCKS - 2 else []
        replies[ts] = Reply(
            f"Update {digest.day:%b %-d}: {plural(len(rows), 'seller')}", finish(blocks, footer=footer)
        )
    return replies


def subscriptions_card(subs: Sequence[Subscription]) -> Reply:
    if not subs:
        return message("No channel is subscribed yet: `/health digest subscribe #channel at 09:00`.")
    lines = [
        f"• <#{s.channel_id}> at {s.post_at} {escape(s.timezone)}{' (skips quiet days)' if s.skip_quiet_days else ''}"
        for s in subs
    ]
    return Reply(
        "Digest subscriptions", finish([section("*Daily digest subscriptions*\n" + "\n".join(lines))])
    )


def milestone_dm(row: SellerRow, milestone: Milestone) -> str:
    """The DM an opted-in owner gets when one of their sellers reaches an AHR milestone."""
    until = f" until {row.restricted_until:%b %-d}" if row.restricted_until and milestone.days else ""
    return (
        f":warning: *{escape(row.shop_name)}* (`{escape(row.shop_code)}`) fell to AHR {row.ahr} "
        f"(from {row.ahr_then}) and reached {milestone.score}: {milestone.restriction}{until}. "
        f"`/health shop {escape(row.shop_code)}` for the card."
    )
