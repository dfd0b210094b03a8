"""Block Kit for the daily digest: the top-level message and the updates posted in threads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from slack_sdk.models.blocks import Block

from blocks.kit import Reply, context, divider, finish, header, section
from blocks.message import message
from blocks.seller_list import seller_row
from blocks.text import escape, money, name
from bot.domain import Milestone, Window
from bot.services.records import Digest, Section, SellerRow, Subscription

MAX_DIGEST_ROWS = 30


def digest_reply(
    digest: Digest, *, max_rows: int = MAX_DIGEST_ROWS, threaded: Mapping[str, str] | None = None
) -> Reply:
    """The top-level digest message. Sellers in `threaded` (shop_id -> thread ts) already have a
    thread in this channel: they are counted here and updated in their thread instead."""
    threaded = threaded or {}
    title = f"Daily seller health digest · {digest.day:%a %b %-d, %Y}"
    if digest.quiet:
        return Reply(
            f"{title}: all clear",
            finish(
                [
                    header(title),
                    section(
                        ":white_check_mark: All clear: no seller needs action today."
                        + (f" ({digest.snoozed} snoozed)" if digest.snoozed else "")
                    ),
                ]
            ),
        )
    summary = (
        f"*{digest.sellers}* seller(s) need action · *{money(digest.gmv_at_risk)}* GMV (last 7 days) at risk"
    )
    if digest.snoozed:
        summary += f" · {digest.snoozed} snoozed"
    blocks: list[Block] = [header(title), section(summary)]
    if digest.groups:
        lines = [f"• *{escape(policy)}*: {count} sellers" for policy, count in digest.groups[:8]]
        blocks.append(section(":rotating_light: *Same policy, several sellers today*\n" + "\n".join(lines)))
    if digest.security:
        lines = [
            f"• *{name(shop_name)}* `{escape(code)}`: {count} open item(s)"
            for _, code, shop_name, count in digest.security[:5]
        ]
        more = f"\n… and {len(digest.security) - 5} more shops" if len(digest.security) > 5 else ""
        blocks.append(
            section(
                ":shield: *Security Center: alert orders and risk refunds to handle* (no penalty for acting)\n"
                + "\n".join(lines)
                + more
                + "\n`/health security <shop>` for details".replace("<", "&lt;").replace(">", "&gt;")
            )
        )
    in_threads = sorted(digest.shop_ids & set(threaded))
    if in_threads:
        blocks.append(
            context(
                f":thread: {len(in_threads)} seller(s) already in a recent digest: updates are in their threads"
            )
        )
    sections, hidden = _layout(digest, threaded, max_rows)
    index = 0
    for title, rows, total in sections:
        blocks.append(divider())
        blocks.append(section(f"*{title}* ({total})"))
        for row in rows:
            blocks.extend(seller_row(row, Window.DAY, index, note=digest.notes.get(row.shop_id), menu=True))
            index += 1
    footer: list[Block] = []
    if hidden:
        footer.append(context(f"… and {hidden} more: run `/health atrisk` for the full list"))
    return Reply(f"{title}: {digest.sellers} sellers need action", finish(blocks, footer=footer))


def _layout(
    digest: Digest, threaded: Mapping[str, str], max_rows: int
) -> tuple[list[tuple[str, list[SellerRow], int]], int]:
    """Sections as the top-level message shows them: (name, rows shown, rows in all), and how many
    rows the cap hid. Sellers with a thread are left to their thread."""
    shown: list[tuple[str, list[SellerRow], int]] = []
    room, hidden = max_rows, 0
    for title in Section.ORDER:
        rows = [r for r in digest.sections[title] if r.shop_id not in threaded]
        if not rows:
            continue
        if room > 0:
            shown.append((title, rows[:room], len(rows)))
        hidden += max(0, len(rows) - room)
        room = max(0, room - len(rows))
    return shown, hidden


def shown_shop_ids(digest: Digest, threaded: Mapping[str, str], max_rows: int = MAX_DIGEST_ROWS) -> set[str]:
    """The sellers the top-level message shows as rows (the cap hides the rest)."""
    sections, _ = _layout(digest, threaded, max_rows)
    return {row.shop_id for _, rows, _ in sections for row in rows}


def thread_updates(digest: Digest, threaded: Mapping[str, str]) -> dict[str, Reply]:
    """One reply per existing thread, listing today's news for the sellers it follows."""
    by_thread: dict[str, list[tuple[str, SellerRow]]] = {}
    for title in Section.ORDER:
        for row in digest.sections[title]:
            if row.shop_id in threaded:
                by_thread.setdefault(threaded[row.shop_id], []).append((title, row))
    replies = {}
    for ts, items in by_thread.items():
        blocks: list[Block] = [section(f"*Update {digest.day:%a %b %-d}*")]
        for i, (title, row) in enumerate(items[:MAX_DIGEST_ROWS]):
            blocks.extend(
                seller_row(replace(row, reasons=(f"{title}: {row.reasons[0]}",) if row.reasons else ()),
                           Window.DAY, i, note=digest.notes.get(row.shop_id), menu=True)
            )  # fmt: skip
        if len(items) > MAX_DIGEST_ROWS:
            blocks.append(context(f"… and {len(items) - MAX_DIGEST_ROWS} more"))
        replies[ts] = Reply(f"Update {digest.day:%b %-d}: {len(items)} item(s)", finish(blocks))
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
    return (
        f":warning: *{escape(row.shop_name)}* (`{escape(row.shop_code)}`) fell to AHR {row.ahr} "
        f"(from {row.ahr_then}) and reached {milestone.score}: {milestone.restriction}. "
        f"`/health shop {escape(row.shop_code)}` for the card."
    )
