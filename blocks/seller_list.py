"""Lists of sellers (at-risk, the Health List, unauthorized, mine): one section per seller with its
scores, reasons and one button or the follow-up menu, paged with Show more and Share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from slack_sdk.models.blocks import ActionsBlock, Block

from blocks.followup import team_line
from blocks.ids import ActionId, CommandRef, Place, ShopRef
from blocks.kit import DOT, MAX_BLOCKS, Reply, button, context, divider, finish, header, section, share_button
from blocks.text import NO_DATA, escape, money, name, plural, signed
from bot import domain
from bot.domain import Level, Window
from bot.services.records import Page, SellerRow, TeamState

SPS_WORDS = {Level.GOOD: "good", Level.WARNING: "warning", Level.CRITICAL: "critical"}


def _score(label: str, level: Level, value: str, word: str | None, change: str | None) -> str:
    """One score as a row shows it: colour and band word (never colour alone), then the change."""
    text = f"{DOT[level]} {label} {value}"
    if word:
        text += f" {word}"
    if change is not None:
        text += f" ({change})"
    return text


def _score_line(row: SellerRow, window: Window) -> str:
    if not row.authorized:
        return f"AHR {NO_DATA} · SPS {NO_DATA} · CHR {NO_DATA}"
    parts = []
    ahr = row.ahr
    band = domain.ahr_band(ahr)
    change = signed(domain.delta(ahr, row.ahr_then)) if row.ahr_then is not None else None
    parts.append(
        _score(
            "AHR",
            domain.ahr_level(ahr),
            str(ahr) if ahr is not None else NO_DATA,
            band.value if band else None,
            change,
        )
    )
    sps, level = row.sps_tenths, domain.sps_level(row.sps_tenths)
    scored = domain.sps_scored(sps) and domain.sps_scored(row.sps_tenths_then)
    change = (
        signed(sps - row.sps_tenths_then, tenths=True)
        if scored and sps is not None and row.sps_tenths_then is not None
        else None
    )
    parts.append(
        _score(
            "SPS",
            level,
            domain.format_sps(sps),
            SPS_WORDS.get(level) if domain.sps_scored(sps) else None,
            change,
        )
    )
    if row.chr_authorized:
        chr_, chr_band = row.chr, domain.chr_band(row.chr)
        change = signed(chr_ - row.chr_then) if chr_ is not None and row.chr_then is not None else None
        value = str(chr_) if chr_ is not None else NO_DATA
        parts.append(
            _score("CHR", domain.chr_level(chr_), value, chr_band.value if chr_band else None, change)
        )
    else:
        parts.append(f"CHR {NO_DATA} (no Data Compass scope)")
    return " · ".join(parts)


def seller_row(
    row: SellerRow,
    window: Window,
    index: int,
    *,
    now: dt.datetime | None = None,
    zone: dt.tzinfo = dt.UTC,
) -> list[Block]:
    """One seller as one section: who, its scores, why it needs action, who is on it (team state,
    `row.team`), and one button (Open card, or Send request link without access). The block_id
    names the seller (its `Place`), so a follow-up on it can redraw it in place."""
    gmv = money(row.gmv_7d) if row.authorized else NO_DATA
    lines = [
        f"*{name(row.shop_name)}* `{escape(row.shop_code)}` · {escape(row.region)} · GMV 7d {gmv}",
        _score_line(row, window),
    ]
    if row.reasons:
        lines.append("_" + escape("; ".join(row.reasons)) + "_")
    if not row.authorized:
        lines.append("_Not authorized: data hidden until the seller grants access._")
    team = team_line(row.team or TeamState(owner=row.owner), now or dt.datetime.now(dt.UTC), zone)
    if team:
        lines.append(team)
    ref = ShopRef(shop_id=row.shop_id).encode()
    if not row.authorized:
        accessory = button("Send request link", ActionId.REQUEST_AUTHORIZATION, ref, suffix=str(index))
    else:  # a seller missing only the Data Compass scope has a card too (without CHR)
        accessory = button("Open card", ActionId.OPEN_SHOP, ref, suffix=str(index))
    place = Place(shop_id=row.shop_id, index=index).block_id()
    return [section("\n".join(lines), accessory=accessory, block_id=place)]


def access_heading(row: SellerRow, *, no_access: int, no_chr: int) -> str:
    """`/health unauthorized`'s groups, by what is missing."""
    if not row.authorized:
        return (
            f"*No shop access* ({plural(no_access, 'seller')}): nothing is visible until they "
            "authorize the partner in Seller Center"
        )
    return (
        f"*Missing only the Data Compass scope* ({plural(no_chr, 'seller')}): scores visible, "
        "no TikTok account health (CHR)"
    )


def seller_list_card(
    title: str,
    page: Page[SellerRow],
    *,
    command: str,
    window: Window,
    empty: str,
    now: dt.datetime | None = None,
    zone: dt.tzinfo = dt.UTC,
    heading: Callable[[SellerRow], str] | None = None,
) -> Reply:
    """A page of sellers; with `heading`, a heading before each group of rows (the rows come
    grouped), repeated at the top of a page that continues a group."""
    blocks: list[Block] = [header(title)]
    # Only the rows one message can hold: the next page starts right after the last one shown.
    fixed = 4 + (2 if heading else 0)  # header, range, divider, buttons and two headings
    rows = page.rows[: MAX_BLOCKS - fixed]
    page = Page(rows=rows, total=page.total, offset=page.offset, limit=page.limit)
    if not page.rows:
        blocks.append(section(empty))
    else:
        start = page.offset + 1
        blocks.append(context(f"{start}-{page.offset + len(page.rows)} of {page.total} · {window.label}"))
        shown = None
        for i, row in enumerate(page.rows):
            index = page.offset + i
            if heading is not None and heading(row) != shown:
                shown = heading(row)
                blocks.append(section(shown))
            blocks.extend(seller_row(row, window, index, now=now, zone=zone))
    footer: list[Block] = [divider()]
    buttons = []
    if page.offset > 0:  # a way back to the page before
        back = CommandRef(text=command, offset=max(0, page.offset - page.limit), paging=True).encode()
        buttons.append(button("Previous", ActionId.SHOW_MORE, back, suffix="back"))
    if page.remaining:
        buttons.append(
            button(
                f"Show more ({page.remaining} left)",
                ActionId.SHOW_MORE,
                CommandRef(text=command, offset=page.offset + len(page.rows), paging=True).encode(),
                suffix="next",
            )
        )
    buttons.append(share_button(command, page.offset))
    footer.append(ActionsBlock(elements=buttons))
    return Reply(f"{title}: {page.total} sellers", finish(blocks, footer=footer))
