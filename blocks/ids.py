"""Action IDs and the small typed payloads that buttons carry in their `value`.

State travels in the button value (or the database), never in process memory, so a button works
from a message posted hours earlier and on any replica.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

MAX_VALUE_CHARS = 2000
MAX_BLOCK_ID_CHARS = 255


class ActionId(StrEnum):
    VISIT_SELLER_CENTER = "visit_seller_center"
    REQUEST_AUTHORIZATION = "request_authorization"
    CONFIRM_REQUEST_AUTHORIZATION = "confirm_request_authorization"
    CANCEL = "cancel"
    SHOW_MORE = "show_more"
    OPEN_SHOP = "open_shop"
    SHARE = "share_to_channel"
    SHOP_MENU = "shop_menu"
    TREND = "trend_chart"
    PORTFOLIO_TREND = "portfolio_trend_chart"
    UNDO = "undo_follow_up"
    ACKNOWLEDGE = "acknowledge"
    SNOOZE = "snooze"
    ASSIGN = "assign_owner"
    BLOCK_BUYER = "block_buyer"
    BLOCK_DONE = "block_done"
    CLAIM_SELLER = "claim_seller"


class CallbackId(StrEnum):
    """Modal (view) callback IDs."""

    ASSIGN_OWNER = "assign_owner_modal"
    BLOCK_BUYER = "block_buyer_modal"
    BLOCK_BUYER_CONFIRM = "block_buyer_confirm_modal"
    CLAIM_SELLER = "claim_seller_modal"


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def encode(self) -> str:
        value = self.model_dump_json(exclude_defaults=True)
        if len(value) > MAX_VALUE_CHARS:
            raise ValueError(f"button value of {len(value)} characters exceeds Slack's {MAX_VALUE_CHARS}")
        return value

    @classmethod
    def decode(cls, value: str | None) -> Self | None:
        """The payload, or None for a value this version does not understand (e.g. tampered)."""
        try:
            return cls.model_validate_json(value or "")
        except ValidationError:
            return None


class ShopRef(Payload):
    shop_id: str


class ConfirmSendRef(Payload):
    """'Send again' after a recent send: names that send, so a double click confirms only once."""

    shop_id: str
    previous_id: int


class TrendRef(Payload):
    """A trend chart for one shop over 30, 90 or 180 days, posted into a thread when there is one."""

    shop_id: str
    days: int = 30


class Place(Payload):
    """Where a seller is shown, carried in its block's block_id so that a follow-up (Acknowledge,
    Snooze, Undo) can redraw the message in place: a list row, or a card's buttons."""

    shop_id: str
    card: bool = False
    index: int = 0  # keeps block_ids unique within a message

    def block_id(self) -> str:
        value = self.encode()
        if len(value) > MAX_BLOCK_ID_CHARS:  # shop IDs are short; a tampered import is not
            raise ValueError(f"block_id of {len(value)} characters exceeds Slack's {MAX_BLOCK_ID_CHARS}")
        return value


class UndoRef(Payload):
    """Take back an acknowledgement (its ID) or a snooze, and redraw where it was done (`place`)."""

    op: str  # ack | snooze
    shop_id: str
    ack_id: int = 0
    place: str = ""  # the Place block_id the follow-up came from


class PeriodRef(Payload):
    """The portfolio's trend chart over a number of days."""

    days: int = 90


class RowAction(Payload):
    """An overflow-menu choice on a seller row; short, as option values are capped at 150 chars."""

    op: str  # open | ack | snooze:1d | snooze:7d | snooze:change | assign | request | trend
    shop_id: str


class BlockDraftRef(Payload):
    """A buyer-block request carried from the form to its confirmation step (private_metadata)."""

    shop_id: str
    buyer_username: str = ""
    scope: str = "user"
    permanent: bool = False
    reason: str = ""
    channel_id: str = ""


class BlockRef(Payload):
    """A recorded buyer-block request: "Done in Seller Center" confirms it."""

    block_id: int


class CommandRef(Payload):
    """Re-run a command: Show more / Previous (with an offset, `paging`: in place of the page it
    came from) and Share to channel."""

    text: str
    offset: int = 0
    paging: bool = False


# What each button or menu carries in its value, and each modal in its private_metadata: decoded
# once, by the app's middleware, before a listener runs.
ACTION_PAYLOADS: dict[ActionId, type[Payload]] = {
    ActionId.VISIT_SELLER_CENTER: ShopRef,
    ActionId.REQUEST_AUTHORIZATION: ShopRef,
    ActionId.CONFIRM_REQUEST_AUTHORIZATION: ConfirmSendRef,
    ActionId.CANCEL: ShopRef,
    ActionId.SHOW_MORE: CommandRef,
    ActionId.OPEN_SHOP: ShopRef,
    ActionId.SHARE: CommandRef,
    ActionId.SHOP_MENU: RowAction,
    ActionId.TREND: TrendRef,
    ActionId.PORTFOLIO_TREND: PeriodRef,
    ActionId.UNDO: UndoRef,
    ActionId.ACKNOWLEDGE: ShopRef,
    ActionId.SNOOZE: RowAction,
    ActionId.ASSIGN: ShopRef,
    ActionId.BLOCK_BUYER: ShopRef,
    ActionId.BLOCK_DONE: BlockRef,
}
VIEW_PAYLOADS: dict[CallbackId, type[Payload]] = {
    CallbackId.ASSIGN_OWNER: ShopRef,
    CallbackId.BLOCK_BUYER: BlockDraftRef,
    CallbackId.BLOCK_BUYER_CONFIRM: BlockDraftRef,
}


def action_of(action_id: str) -> ActionId | None:
    """The ActionId of a button; row buttons carry a suffix (`open_shop:3`) to stay unique."""
    try:
        return ActionId(action_id.split(":", 1)[0])
    except ValueError:
        return None
