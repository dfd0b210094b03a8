"""A reply shared to the channel: the same blocks without the sharer's buttons, and who shared it."""

from __future__ import annotations

from blocks.kit import Reply, context
from blocks.message import message
from blocks.text import escape

HINTS = {
    "not_in_channel": " Invite me to the channel first (`/invite @Shop Health Bot`).",
    "channel_not_found": " Invite me to the channel first (`/invite @Shop Health Bot`).",
}


def shared(reply: Reply, user_id: str, command: str) -> Reply:
    blocks = [b for b in reply.blocks if b.get("type") != "actions"]
    blocks.append(context(f"Shared by <@{user_id}> from `/health {escape(command[:80])}`").to_dict())
    return Reply(reply.text, blocks[:50])


def share_failed(error: str) -> Reply:
    return message(f"I couldn't post in this channel ({error}).{HINTS.get(error, '')}")
