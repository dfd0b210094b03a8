"""The `/health` slash command: ack with the reply the registry builds."""

from __future__ import annotations

import html
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.commands.registry import answer
from bot.deps import asker_of, deps_of, session_of


def health(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    text = html.unescape(command.get("text") or "")  # Slack sends &, < and > as entities
    reply = answer(session_of(context), text, settings=deps_of(context).settings, asker=asker_of(context))
    # The reply travels on the ack itself (process_before_response): one round trip.
    ack(response_type="ephemeral", text=reply.text, blocks=reply.blocks)


def register(app: App) -> None:
    app.command("/health")(health)
