"""Answering the person who clicked: ephemerally through `respond`, or in their DM where Slack
gives no response_url (the App Home tab)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from blocks.ids import ActionId
from blocks.kit import Reply


def matching(action: ActionId) -> re.Pattern[str]:
    """Row buttons carry a suffix (`open_shop:3`) to stay unique within a message."""
    return re.compile(rf"^{re.escape(action.value)}(:.*)?$")


def first_action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return dict(actions[0])


def user_of(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id", ""))


def delivery_key(body: dict[str, Any]) -> str:
    """The same click delivered twice has the same action_ts; a second click has its own."""
    action = first_action(body)
    raw = f"{user_of(body)}:{action.get('action_id')}:{action.get('action_ts')}:{action.get('value')}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


class DirectReply:
    """Stands in for `respond` where Slack gives no response_url (App Home): replies in the DM."""

    def __init__(self, client: WebClient, user_id: str) -> None:
        self.client, self.user_id = client, user_id

    def __call__(self, text: str = "", blocks: Any = None, delete_original: bool = False, **_: Any) -> None:
        if not delete_original and self.user_id:
            self.client.chat_postMessage(channel=self.user_id, text=text, blocks=blocks)


def responder(body: dict[str, Any], respond: Respond | None, client: WebClient) -> Respond:
    """`respond` for clicks on messages; a DM for clicks on the App Home tab."""
    if body.get("response_url") and respond is not None:
        return respond
    return DirectReply(client, user_of(body))  # type: ignore[return-value]


def say_ephemeral(respond: Respond, reply: Reply, *, replace: bool = False) -> None:
    respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=replace)
