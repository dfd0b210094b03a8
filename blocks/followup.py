"""Team follow-up: what Acknowledge, Snooze and Assign answer, and the Assign modal."""

from __future__ import annotations

from slack_sdk.models.blocks import InputBlock, UserSelectElement
from slack_sdk.models.views import View

from blocks.ids import CallbackId, ShopRef
from blocks.kit import Reply, section
from blocks.message import message
from blocks.text import name

OWNER_BLOCK = "owner"


def acknowledged(user_id: str, shop_name: str) -> Reply:
    return message(f":white_check_mark: <@{user_id}> acknowledged *{name(shop_name)}*.", mrkdwn=True)


def snoozed(shop_name: str, how_long: str) -> Reply:
    return message(
        f":zzz: *{name(shop_name)}* is snoozed {how_long}: it leaves the digest until then, "
        "or sooner if it gets worse.",
        mrkdwn=True,
    )


def unsnoozed(shop_name: str) -> Reply:
    return message(f"*{name(shop_name)}* is back in the digest.", mrkdwn=True)


def assigned(shop_name: str, owner: str | None) -> Reply:
    if owner:
        return message(f"*{name(shop_name)}* is now owned by <@{owner}>.", mrkdwn=True)
    return message(f"*{name(shop_name)}* has no owner now.", mrkdwn=True)


def owner_assigned(owner: str, shop_name: str) -> Reply:
    """The DM confirming an assignment made in the Assign modal."""
    return message(f"<@{owner}> now owns {name(shop_name)}.", mrkdwn=True)


def milestone_dm_choice(enabled: bool) -> Reply:
    state = "will DM you" if enabled else "will no longer DM you"
    return message(f"OK: I {state} when one of your sellers crosses an AHR milestone.")


def assign_modal(shop_id: str, shop_name: str, owner: str | None) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.ASSIGN_OWNER.value,
        private_metadata=ShopRef(shop_id=shop_id).encode(),
        title="Assign owner",
        submit="Assign",
        close="Cancel",
        blocks=[
            section(f"Who owns *{name(shop_name)}*?"),
            InputBlock(
                block_id=OWNER_BLOCK,
                label="Owner",
                element=UserSelectElement(
                    action_id=OWNER_BLOCK, placeholder="Pick a person", initial_user=owner
                ),
            ),
        ],
    )
