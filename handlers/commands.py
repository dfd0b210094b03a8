"""The `/health` slash command: ack with the reply built by `bot.replies.answer`."""

from __future__ import annotations

import html
import logging
from typing import Any

from slack_bolt import Ack, App

from bot.app import Deps
from bot.replies import Asker, answer
from handlers.admins import is_admin
from jobs.digests import manage_digest

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    @app.command("/health")
    def health(ack: Ack, command: dict[str, Any]) -> None:
        user_id = command.get("user_id", "")
        text = html.unescape(command.get("text") or "")  # Slack sends &, < and > as entities
        # Only digest changes need admin rights; a user-group lookup would slow every other reply.
        admin = is_admin(deps, user_id) if text.split()[:1] == ["digest"] else False
        asker = Asker(user_id=user_id, channel_id=command.get("channel_id"), is_admin=admin)
        with deps.factory() as session:
            reply = answer(session, text, settings=deps.settings, asker=asker, digest=manage_digest)
        # The reply travels on the ack itself (process_before_response): one round trip.
        ack(response_type="ephemeral", text=reply.text, blocks=reply.blocks)
