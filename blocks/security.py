"""Builders for the Security Center card (open items, blocks done and requests pending in Seller
Center, each with "Done in Seller Center") and the buyer-block modals (form, then confirmation)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
)
from slack_sdk.models.views import View

from blocks.ids import ActionId, BlockDraftRef, BlockRef, CallbackId, ShopRef
from blocks.kit import Reply, button, context, finish, header, section
from blocks.text import escape, money, name, plural
from bot.domain import MAX_BLOCKED_BUYERS, MAX_NEW_BLOCKS_PER_DAY
from bot.services.records import PendingBlock, SecuritySummary, Signal

SHOWN = 10
ACTIONS = {
    "alert_order": "each may be cancelled without penalty",
    "risk_refund": "each refund may be rejected without penalty",
}
BLOCK_LIST_PATH = "Seller Center > Account Health > Security Center > Block List"
DONE = "Done in Seller Center"
PENDING_SHOWN = 10


def _items(title: str, signals: list[Signal], action: str) -> Block:
    lines = [
        f"• Order `{escape(s.order_id or s.signal_id)}` · {s.occurred_at:%b %-d}"
        + (f" · {money(s.amount)}" if s.amount is not None else "")
        for s in signals[:SHOWN]
    ]
    more = f"\n… and {len(signals) - SHOWN} more" if len(signals) > SHOWN else ""
    return section(f"*{title}* ({len(signals)}): {action}\n" + "\n".join(lines) + more)


def _scope_and_duration(scope: str, permanent: bool) -> str:
    who = "all linked user IDs" if scope == "linked" else "this user ID only"
    return f"{who}, {'permanently' if permanent else 'for 90 days'}"


def _pending(block: PendingBlock) -> Block:
    return section(
        f"• *{escape(block.buyer_username)}* ({_scope_and_duration(block.scope, block.permanent)}) · "
        f"recorded by <@{block.requested_by}> {block.requested_at:%b %-d}",
        accessory=button(
            DONE, ActionId.BLOCK_DONE, BlockRef(block_id=block.block_id).encode(), suffix=str(block.block_id)
        ),
    )


def _block_counts(data: SecuritySummary) -> str:
    counts = (
        f"Blocked buyers {data.blocked_buyers}/{MAX_BLOCKED_BUYERS} · new blocks today "
        f"{data.blocks_today}/{MAX_NEW_BLOCKS_PER_DAY}"
    )
    if data.pending:
        counts += (
            f" · {plural(len(data.pending), 'request')} pending (not counted until done in Seller Center)"
        )
    return counts


def security_card(data: SecuritySummary, *, seller_center_url: str, note: str | None = None) -> Reply:
    """`note`: a line shown first (what the last click did), already escaped."""
    shop = data.shop
    blocks: list[Block] = [
        header(f"Security Center · {shop.shop_name}"),
        context(f"`{escape(shop.shop_code)}` · {escape(shop.region)} · selected sellers only"),
    ]
    if note:
        blocks.append(section(note))
    if not shop.authorized:
        blocks.append(section("- (the seller has not authorized the partner)"))
        return Reply(escape(f"{shop.shop_name}: security data hidden"), finish(blocks))
    if data.alert_orders:
        blocks.append(_items("Security alert orders", data.alert_orders, ACTIONS["alert_order"]))
    if data.risk_refunds:
        blocks.append(_items("Risk refunds", data.risk_refunds, ACTIONS["risk_refund"]))
    if not data.alert_orders and not data.risk_refunds:
        blocks.append(section(":white_check_mark: No open security alert orders or risk refunds."))
    if data.blocked_fraud:
        blocks.append(
            section(
                f"*Blocked by the platform* (last 30 days): {plural(len(data.blocked_fraud), 'confirmed fraud order')}. "
                "Nothing to do."
            )
        )
    if data.pending:
        blocks.append(
            section(
                f"*Block requests waiting for Seller Center* ({len(data.pending)}): block each buyer in "
                f"<{seller_center_url}|{escape(BLOCK_LIST_PATH)}>, then press *{DONE}*"
            )
        )
        blocks += [_pending(block) for block in data.pending[:PENDING_SHOWN]]
        if len(data.pending) > PENDING_SHOWN:
            blocks.append(context(f"… and {len(data.pending) - PENDING_SHOWN} more"))
    blocks.append(context(_block_counts(data)))
    ref = ShopRef(shop_id=shop.shop_id).encode()
    blocks.append(
        ActionsBlock(
            elements=[
                button("Block a buyer", ActionId.BLOCK_BUYER, ref, style="danger"),
                button(
                    "Open Security Center",
                    ActionId.VISIT_SELLER_CENTER,
                    ref,
                    url=seller_center_url,
                    suffix="sec",
                ),
            ]
        )
    )
    open_items = len(data.alert_orders) + len(data.risk_refunds)
    return Reply(escape(f"{shop.shop_name}: {plural(open_items, 'open security item')}"), finish(blocks))


def block_form(shop_name: str, draft: BlockDraftRef) -> View:
    """Step 1: who, why, scope and duration."""
    scopes = [
        Option(text="This user ID only", value="user"),
        Option(text="All linked user IDs", value="linked"),
    ]
    durations = [Option(text="90 days", value="90d"), Option(text="Permanent", value="permanent")]
    return View(
        type="modal",
        callback_id=CallbackId.BLOCK_BUYER.value,
        private_metadata=draft.encode(),
        title="Block a buyer",
        submit="Next",
        close="Cancel",
        blocks=[
            section(f"Shop: *{name(shop_name)}*"),
            InputBlock(
                block_id="username",
                label="Buyer username (exact)",
                element=PlainTextInputElement(
                    action_id="value", max_length=64, initial_value=draft.buyer_username or None
                ),
            ),
            InputBlock(
                block_id="reason",
                label="Reason (required)",
                element=PlainTextInputElement(
                    action_id="value", multiline=True, max_length=500, initial_value=draft.reason or None
                ),
            ),
            InputBlock(
                block_id="scope",
                label="Block",
                element=RadioButtonsElement(
                    action_id="value",
                    options=scopes,
                    initial_option=scopes[1 if draft.scope == "linked" else 0],
                ),
            ),
            InputBlock(
                block_id="duration",
                label="For",
                element=RadioButtonsElement(
                    action_id="value",
                    options=durations,
                    initial_option=durations[1 if draft.permanent else 0],
                ),
            ),
            context(
                "A blocked buyer can still message about existing orders and ask for after-sales "
                "help, and existing orders must still be fulfilled."
            ),
        ],
    )


def block_confirm(shop_name: str, draft: BlockDraftRef) -> View:
    """Step 2: the exact username typed again, and everything shown once more."""
    scope = "all linked user IDs" if draft.scope == "linked" else "this user ID only"
    duration = "permanently" if draft.permanent else "for 90 days"
    return View(
        type="modal",
        callback_id=CallbackId.BLOCK_BUYER_CONFIRM.value,
        private_metadata=draft.encode(),
        title="Confirm the block",
        submit="Record block",
        close="Back",
        blocks=[
            section(
                f"Block *{escape(draft.buyer_username)}* ({scope}) {duration} at *{name(shop_name)}*?\n"
                f"Reason: _{escape(draft.reason)}_"
            ),
            InputBlock(
                block_id="confirm",
                label="Type the username again, exactly",
                element=PlainTextInputElement(action_id="value", max_length=64),
            ),
        ],
    )


def block_recorded(
    shop_name: str, shop_code: str, username: str, *, scope: str, permanent: bool, url: str
) -> Reply:
    """After "Record block": the request is pending; what to do in Seller Center, and then here."""
    text = (
        f":hourglass_flowing_sand: Block request for *{escape(username)}* at *{name(shop_name)}* "
        f"({_scope_and_duration(scope, permanent)}) recorded as *pending*. No API performs the block: "
        f"block the buyer in <{url}|{escape(BLOCK_LIST_PATH)}>, then press *{DONE}* on "
        f"`/health security {escape(shop_code)}`. It counts against the limits (100 per shop, 10 a day) "
        "from then."
    )
    return Reply(
        escape(f"Block request for {username} recorded: pending until done in Seller Center"),
        finish([section(text)]),
    )


def block_done_note(username: str, expires: str | None, *, already: bool) -> str:
    """The line the card shows after "Done in Seller Center"."""
    until = "permanently" if expires is None else f"until {expires}"
    if already:
        return f":white_check_mark: *{escape(username)}* was already marked done in Seller Center (blocked {until})."
    return f":white_check_mark: *{escape(username)}* is blocked {until}: it counts against the limits from today."


ADMINS_ONLY = "Only the bot's admins (HEALTHBOT_ADMINS) may block buyers."
