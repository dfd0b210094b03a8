"""A reply shared to the channel: the same blocks without the sharer's buttons, and who shared it."""

from __future__ import annotations

from blocks.ids import ActionId
from blocks.kit import Reply, context
from blocks.message import message
from blocks.text import escape

SHARE = ActionId.SHARE.value
HINTS = {
    "not_in_channel": " Invite me to the channel first (`/invite @Shop Health Bot`).",
    "channel_not_found": " Invite me to the channel first (`/invite @Shop Health Bot`).",
}


def shared(reply: Reply, user_id: str, command: str) -> Reply:
    """The card as the channel sees it: every button kept (each click is checked against the
    clicker's own rights) except Share itself, and who shared it from which command."""
    blocks = []
    for block in reply.blocks:
        if block.get("type") == "actions":
            elements = [
                e for e in block.get("elements", []) if not str(e.get("action_id", "")).startswith(SHARE)
            ]
            if not elements:
                continue
            block = {**block, "elements": elements}
        blocks.append(block)
    blocks = blocks[:49]
    blocks.append(context(f"Shared by <@{user_id}> from `/health {escape(command[:80])}`").to_dict())
    return Reply(reply.text, blocks)


def share_failed(error: str) -> Reply:
    return message(f"I couldn't post in this channel ({error}).{HINTS.get(error, '')}")


NOT_SHAREABLE = "That card can't be shared from here; run the command again."
SHARED_CHANNEL = (
    "This channel is shared with another organisation, so this card stays private: seller health and "
    "GMV are the agency's. Share it in an internal channel instead."
)


def share_unknown() -> Reply:
    return message(
        "Slack did not confirm the share. I'll never post it twice: look in the channel, and share again "
        "in a few minutes if it is not there."
    )
