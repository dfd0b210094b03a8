"""Builders for the App Home tab and the trend-chart buttons. Pure: data in, Block Kit out.

The Home tab shows, for the person who opens it: their own sellers (worst first), the portfolio
overview, and the sellers needing action across the portfolio, within Slack's 100-block limit
for views.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from blocks.ids import ActionId, CallbackId
from blocks.kit import button, context, divider, freshness_stamp, header, section
from blocks.overview import overview_card
from blocks.seller_list import seller_row
from blocks.text import escape
from bot.services.records import Overview, Page, SellerRow

MAX_VIEW_BLOCKS = 100
# Row buttons must have distinct action_ids; the portfolio list numbers its rows after the user's.
AT_RISK_INDEX_BASE = 1000
CLAIM_BLOCK = "shop"  # the picker's input: block_id and action_id
TAKE_SELLER = "Take a seller"


def home_view(
    user_id: str, own: Page[SellerRow], overview: Overview, at_risk: Page[SellerRow], zone: dt.tzinfo = dt.UTC
) -> dict[str, Any]:
    """The Home tab (`views.publish` payload) for `user_id`."""
    window = overview.window
    blocks: list[dict[str, Any]] = [
        header("Shop Health").to_dict(),
        context(freshness_stamp(overview.freshness, zone)).to_dict(),
        divider().to_dict(),
    ]

    blocks.append(section(f"*Your sellers* ({own.total}) · needing action first · {window.label}").to_dict())
    if own.rows:
        for i, row in enumerate(own.rows):
            blocks += _rows(seller_row(row, window, i), f"own-{i}")
        if own.remaining:
            blocks.append(
                context(
                    f"… and {own.remaining} more of yours: "
                    f"`/health list` shows the whole portfolio, `/health shop &lt;code&gt;` one seller."
                ).to_dict()
            )
    else:
        blocks += [b.to_dict() for b in empty_state(user_id)]
    blocks.append(divider().to_dict())

    # The overview card without its buttons: they reply into a message, and the Home tab has none.
    summary = overview_card(overview, f"overview vs {window.value}")
    blocks += [b for b in summary.blocks if b.get("type") not in ("actions", "context")]
    blocks.append(divider().to_dict())

    blocks.append(header("Sellers needing action").to_dict())
    if at_risk.rows:
        blocks.append(
            context(f"Top {len(at_risk.rows)} of {at_risk.total} by GMV · {window.label}").to_dict()
        )
        for i, row in enumerate(at_risk.rows):
            blocks += _rows(seller_row(row, window, AT_RISK_INDEX_BASE + i), f"risk-{i}")
        if at_risk.remaining:
            blocks.append(context(f"… and {at_risk.remaining} more: `/health atrisk`").to_dict())
    else:
        blocks.append(section(":white_check_mark: No seller needs action right now.").to_dict())

    return {"type": "home", "blocks": _cap(blocks)}


def empty_state(user_id: str) -> list[Block]:
    """No sellers of one's own yet: how to take one now, and how admins assign many at once."""
    return [
        section(
            ":wave: No sellers are assigned to you yet. Take one with `/health assign &lt;shop&gt; me` (for "
            f"example `/health assign US00003 me`), or press *{TAKE_SELLER}* and name it. Admins can "
            "assign many at once with the `owner` column of the shops CSV (your Slack user ID is "
            f"`{escape(user_id)}`). Meanwhile, here is the whole portfolio."
        ),
        ActionsBlock(
            block_id="claim", elements=[button(TAKE_SELLER, ActionId.CLAIM_SELLER, style="primary")]
        ),
    ]


def claim_modal() -> View:
    """The shop picker behind "Take a seller": one seller, by code, ID, name or @handle."""
    return View(
        type="modal",
        callback_id=CallbackId.CLAIM_SELLER.value,
        title="Take a seller",
        submit="Make it mine",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=CLAIM_BLOCK,
                label="Seller",
                hint="Its shop code (US00003), shop ID, name, or a TikTok @handle",
                element=PlainTextInputElement(action_id=CLAIM_BLOCK, max_length=100, placeholder="US00003"),
            ),
            context("You become its owner: it shows under *Your sellers* here and in `/health mine`."),
        ],
    )


def _rows(row_blocks: list[Block], block_id: str) -> list[dict[str, Any]]:
    """A seller row's blocks as dicts, the first with a stable block_id (`own-0`, `risk-3`)."""
    out = [b.to_dict() for b in row_blocks]
    if out:
        out[0]["block_id"] = block_id
    return out


def _cap(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep to Slack's 100 blocks per view, saying how many were cut."""
    if len(blocks) <= MAX_VIEW_BLOCKS:
        return blocks
    cut = len(blocks) - MAX_VIEW_BLOCKS + 1
    return [*blocks[: MAX_VIEW_BLOCKS - 1], context(f"… {cut} more blocks not shown").to_dict()]
