"""`/health tiktok`: connected sellers, each with its shops and token health, and the link that
connects the next one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from blocks.kit import DOT, Reply, context, divider, finish, header, section
from blocks.text import escape, name, plural, truncate, when
from bot.domain import Level
from bot.services.records import SellerStatus

REFRESH_WARNING = dt.timedelta(days=7)
MAX_SHOPS_SHOWN = 8


def token_health(seller: SellerStatus, now: dt.datetime, zone: dt.tzinfo = dt.UTC) -> tuple[Level, str]:
    if seller.failed_at is not None:
        error = truncate(seller.last_error or "unknown error", 300)
        return Level.CRITICAL, (
            f"failing since {when(seller.failed_at, zone)}: {escape(error)}\n"
            "Send the seller a fresh authorization link."
        )
    if seller.refresh_expires_at is not None and seller.refresh_expires_at - now <= REFRESH_WARNING:
        return Level.WARNING, (
            f"authorization ends {seller.refresh_expires_at:%b %-d}: send the seller a fresh link before then"
        )
    valid = when(seller.access_expires_at, zone) if seller.access_expires_at else "an unknown time"
    synced = f"last sync {when(seller.synced_at, zone)}" if seller.synced_at else "not synced yet"
    return Level.GOOD, f"token valid until {valid} (refreshed automatically) · {synced}"


def _shops(seller: SellerStatus) -> str:
    if not seller.shops:
        return "no shops listed yet"
    shown = [
        f"`{escape(code)}` {name(shop_name)}" + ("" if authorized else " (access lost)")
        for code, shop_name, authorized in seller.shops[:MAX_SHOPS_SHOWN]
    ]
    more = (
        f", … and {len(seller.shops) - MAX_SHOPS_SHOWN} more" if len(seller.shops) > MAX_SHOPS_SHOWN else ""
    )
    return ", ".join(shown) + more


def tiktok_card(
    sellers: Sequence[SellerStatus],
    *,
    link: str | None,
    problem: str | None,
    now: dt.datetime,
    link_hours: int,
    zone: dt.tzinfo = dt.UTC,
) -> Reply:
    failing = sum(1 for s in sellers if s.failed_at is not None)
    blocks: list[Block] = [header("TikTok Shop connections")]
    summary = f"{plural(len(sellers), 'seller')} connected"
    if failing:
        summary += f" · :warning: {failing} failing"
    blocks.append(context(summary))
    if not sellers:
        blocks.append(section("No seller has authorized the partner's app yet."))
    for seller in sellers[:40]:
        level, health = token_health(seller, now, zone)
        blocks.append(divider())
        blocks.append(
            section(
                f"{DOT[level]} *{name(seller.seller_name)}* · {plural(len(seller.shops), 'shop')}\n{health}\n{_shops(seller)}"
            )
        )
    if link is not None:
        blocks.append(
            section(
                f":link: <{link}|Authorization link for the next seller> (valid {link_hours} h, single use; "
                "`healthbot tiktok link` makes another)"
            )
        )
    elif problem is not None:
        blocks.append(section(f":warning: {escape(problem)}"))
    return Reply(f"{summary}", finish(blocks))
