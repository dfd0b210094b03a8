"""Partner Center's TikTok Account Health list: one row per TikTok account, with its CHR band (word
beside colour), change, the shop's GMV, and its violations, paged like every list."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import ActionsBlock, Block

from blocks.ids import ActionId, CommandRef, ShopRef
from blocks.kit import DOT, Reply, button, context, divider, finish, header, section, share_button
from blocks.text import NO_DATA, escape, money, name, signed
from bot import domain
from bot.domain import Window
from bot.services.records import AccountRow, Page


def _deadline(day: dt.date | None, today: dt.date) -> str:
    if day is None:
        return ""
    left = (day - today).days
    return f" · appeal by {day:%b %-d} ({left} day{'' if left == 1 else 's'} left)"


def account_row(row: AccountRow, window: Window, index: int, today: dt.date) -> Block:
    band = domain.chr_band(row.chr)
    value = f"{row.chr} {band}" if row.chr is not None and band else NO_DATA
    change = (
        f" ({signed(row.chr - row.chr_then)} {window.value})"
        if row.chr is not None and row.chr_then is not None
        else ""
    )
    owner = f" · owner <@{row.owner}>" if row.owner else ""
    lines = [
        f"*@{escape(row.tiktok_handle)}* · {name(row.shop_name)} `{escape(row.shop_code)}` · GMV 7d {money(row.gmv_7d)}{owner}",
        f"{DOT[domain.chr_level(row.chr)]} CHR *{value}*{change}",
        f"Violations 7d {row.violations_7d} · 60d {row.violations_60d} · appealable {row.appealable}"
        + _deadline(row.nearest_deadline, today),
    ]
    ref = ShopRef(shop_id=row.shop_id).encode()
    return section(
        "\n".join(lines), accessory=button("Open card", ActionId.OPEN_SHOP, ref, suffix=f"a{index}")
    )


def accounts_card(
    page: Page[AccountRow], *, command: str, window: Window, today: dt.date, empty: str
) -> Reply:
    blocks: list[Block] = [header("TikTok account health")]
    if not page.rows:
        blocks.append(section(empty))
    else:
        blocks.append(
            context(
                f"{page.offset + 1}-{page.offset + len(page.rows)} of {page.total} accounts · {window.label}"
            )
        )
        blocks += [account_row(row, window, page.offset + i, today) for i, row in enumerate(page.rows)]
    buttons = []
    if page.offset > 0:
        back = CommandRef(text=command, offset=max(0, page.offset - page.limit), paging=True).encode()
        buttons.append(button("Previous", ActionId.SHOW_MORE, back, suffix="back"))
    if page.remaining:
        more = CommandRef(text=command, offset=page.offset + len(page.rows), paging=True).encode()
        buttons.append(button(f"Show more ({page.remaining} left)", ActionId.SHOW_MORE, more, suffix="next"))
    buttons.append(share_button(command, page.offset))
    footer: list[Block] = [divider(), ActionsBlock(elements=buttons)]
    return Reply(f"TikTok account health: {page.total} accounts", finish(blocks, footer=footer))
