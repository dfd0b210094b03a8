"""Builders for the Security Center card and the buyer-block modals (form, then confirmation)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block

from blocks.common import Reply, button, context, escape, finish, header, money, name, section
from blocks.ids import ActionId, BlockDraftRef, CallbackId, ShopRef
from bot.security import ACTIONS, MAX_BLOCKED_BUYERS, MAX_NEW_BLOCKS_PER_DAY, SecuritySummary

SHOWN = 10
BLOCK_LIST_PATH = "Seller Center > Account Health > Security Center > Block List"


def _items(title: str, signals: list[Any], action: str) -> Block:
    lines = [
        f"• Order `{escape(s.order_id or s.signal_id)}` · {s.occurred_at:%b %-d}"
        + (f" · {money(s.amount)}" if s.amount is not None else "")
        for s in signals[:SHOWN]
    ]
    more = f"\n… and {len(signals) - SHOWN} more" if len(signals) > SHOWN else ""
    return section(f"*{title}* ({len(signals)}): you {action}\n" + "\n".join(lines) + more)


def security_card(data: SecuritySummary, *, seller_center_url: str) -> Reply:
    shop = data.shop
    blocks: list[Block] = [
        header(f"Security Center · {shop.shop_name}"),
        context(f"`{escape(shop.shop_code)}` · {escape(shop.region)} · selected sellers only"),
    ]
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
                f"*Blocked by the platform* (last 30 days): {len(data.blocked_fraud)} confirmed fraud order(s). "
                "Nothing to do."
            )
        )
    blocks.append(
        context(
            f"Blocked buyers {data.blocked_buyers}/{MAX_BLOCKED_BUYERS} · new blocks today "
            f"{data.blocks_today}/{MAX_NEW_BLOCKS_PER_DAY}"
        )
    )
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
    return Reply(escape(f"{shop.shop_name}: {open_items} open security item(s)"), finish(blocks))


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def block_form(shop_name: str, draft: BlockDraftRef) -> dict[str, Any]:
    """Step 1: who, why, scope and duration."""
    scope_options = [
        {"text": _plain("This user ID only"), "value": "user"},
        {"text": _plain("All linked user IDs"), "value": "linked"},
    ]
    duration_options = [
        {"text": _plain("90 days"), "value": "90d"},
        {"text": _plain("Permanent"), "value": "permanent"},
    ]
    username: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": 64}
    if draft.buyer_username:
        username["initial_value"] = draft.buyer_username
    reason: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": 500,
    }
    if draft.reason:
        reason["initial_value"] = draft.reason
    return {
        "type": "modal",
        "callback_id": CallbackId.BLOCK_BUYER.value,
        "private_metadata": draft.encode(),
        "title": _plain("Block a buyer"),
        "submit": _plain("Next"),
        "close": _plain("Cancel"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"Shop: *{name(shop_name)}*"}},
            {
                "type": "input",
                "block_id": "username",
                "label": _plain("Buyer username (exact)"),
                "element": username,
            },
            {"type": "input", "block_id": "reason", "label": _plain("Reason (required)"), "element": reason},
            {
                "type": "input",
                "block_id": "scope",
                "label": _plain("Block"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "value",
                    "options": scope_options,
                    "initial_option": scope_options[1 if draft.scope == "linked" else 0],
                },
            },
            {
                "type": "input",
                "block_id": "duration",
                "label": _plain("For"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "value",
                    "options": duration_options,
                    "initial_option": duration_options[1 if draft.permanent else 0],
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "A blocked buyer can still message about existing orders and ask for after-sales "
                        "help, and existing orders must still be fulfilled.",
                    }
                ],
            },
        ],
    }


def block_confirm(shop_name: str, draft: BlockDraftRef) -> dict[str, Any]:
    """Step 2: the exact username typed again, and everything shown once more."""
    scope = "all linked user IDs" if draft.scope == "linked" else "this user ID only"
    duration = "permanently" if draft.permanent else "for 90 days"
    return {
        "type": "modal",
        "callback_id": CallbackId.BLOCK_BUYER_CONFIRM.value,
        "private_metadata": draft.encode(),
        "title": _plain("Confirm the block"),
        "submit": _plain("Record block"),
        "close": _plain("Back"),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"Block *{escape(draft.buyer_username)}* ({scope}) {duration} at *{name(shop_name)}*?\n"
                    f"Reason: _{escape(draft.reason)}_",
                },
            },
            {
                "type": "input",
                "block_id": "confirm",
                "label": _plain("Type the username again, exactly"),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 64},
            },
        ],
    }


def block_recorded(shop_name: str, username: str, *, permanent: bool, expires: str | None, url: str) -> Reply:
    until = "permanently" if permanent else f"until {expires}"
    text = (
        f":no_entry: Block request for *{escape(username)}* at *{name(shop_name)}* recorded ({until}). "
        f"No API performs the block: finish it in <{url}|{escape(BLOCK_LIST_PATH)}>."
    )
    return Reply(escape(f"Block request for {username} recorded"), finish([section(text)]))
