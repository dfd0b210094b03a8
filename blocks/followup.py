"""Team follow-up: what Acknowledge, Snooze and Assign answer, and the Assign modal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk.models.blocks import Block, InputBlock, UserSelectElement
from slack_sdk.models.views import View

from blocks.ids import ActionId, CallbackId, ShopRef, UndoRef
from blocks.kit import MAX_BLOCKS, Reply, button, context, section
from blocks.message import message
from blocks.text import ago, name
from bot.services.records import TeamState

OWNER_BLOCK = "owner"
TEAM_BLOCK = "team"  # the card's team line: its block_id
TEAM_MARK = ":busts_in_silhouette:"  # starts every team line, so a row's line can be found and redrawn


def team_line(state: TeamState | None, now: dt.datetime, zone: dt.tzinfo) -> str | None:
    """Who is on the seller, in one line: owner, acknowledged, snoozed, request sent; None when nobody."""
    if state is None:
        return None
    parts = []
    if state.owner:
        parts.append(f"owner <@{state.owner}>")
    if state.acknowledged_by and state.acknowledged_at:
        parts.append(
            f":white_check_mark: acknowledged by <@{state.acknowledged_by}> {ago(state.acknowledged_at, now, zone)}"
        )
    if state.snoozed:
        until = f"until {state.snoozed_until:%b %-d}" if state.snoozed_until else "until its scores change"
        parts.append(f":zzz: snoozed {until} by <@{state.snoozed_by}>")
    if state.request_by and state.request_at:
        parts.append(f":envelope: request sent {ago(state.request_at, now, zone)} by <@{state.request_by}>")
    return f"{TEAM_MARK} " + " · ".join(parts) if parts else None


NOTICE_PREFIX = "notice:"  # block_id of the line saying what was just done, with its Undo


def notice(text: str, shop_id: str, undo: UndoRef | None = None) -> Block:
    """What was just done to a seller, with Undo when it can be taken back."""
    accessory = button("Undo", ActionId.UNDO, undo.encode()) if undo is not None else None
    return section(text, accessory=accessory, block_id=f"{NOTICE_PREFIX}{shop_id}")


def acknowledged_notice(user_id: str, shop_name: str, shop_id: str, undo: UndoRef) -> Block:
    return notice(f":white_check_mark: <@{user_id}> acknowledged *{name(shop_name)}*.", shop_id, undo)


def snoozed_notice(shop_name: str, how_long: str, shop_id: str, undo: UndoRef) -> Block:
    return notice(
        f":zzz: *{name(shop_name)}* is snoozed {how_long}: out of the digest until then, or sooner "
        "if it gets worse.",
        shop_id,
        undo,
    )


def undone_notice(what: str, shop_name: str, shop_id: str) -> Block:
    return notice(f":leftwards_arrow_with_hook: Undone: *{name(shop_name)}* is no longer {what}.", shop_id)


def redrawn(
    blocks: list[dict[str, Any]], place_id: str, team: str | None, said: Block
) -> list[dict[str, Any]]:
    """A posted message's blocks with one seller's team line redrawn and `said` beside it: under a
    list row (the row's text ends with its team line), or above a card's buttons (its team
    context). Any earlier notice for that seller goes; other rows are left as they are."""
    said_dict = said.to_dict()
    target = next((b for b in blocks if b.get("block_id") == place_id), None)
    card = target is not None and target.get("type") == "actions"
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("block_id") == said_dict["block_id"]:
            continue  # the notice of an earlier follow-up on the same seller
        if card and block.get("block_id") == TEAM_BLOCK:
            continue  # the card's team line: drawn again just above its buttons
        if block.get("block_id") != place_id:
            out.append(block)
        elif block.get("type") == "section":  # a list row
            text = dict(block.get("text") or {"type": "mrkdwn", "text": ""})
            lines = [line for line in str(text.get("text", "")).split("\n") if not line.startswith(TEAM_MARK)]
            text["text"] = "\n".join([*lines, team] if team else lines)
            out += [{**block, "text": text}, said_dict]
        else:  # a card's buttons
            if team:
                out.append(context(team, block_id=TEAM_BLOCK).to_dict())
            out += [said_dict, block]
    return out[:MAX_BLOCKS]


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
