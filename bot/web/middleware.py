"""The app's middleware: what every listener finds in Bolt's context, prepared once per request.

- `inject`: the process's Deps, a session (closed by `HealthApp.dispatch` when the request is
  answered), the asker, and a `respond` that works everywhere (a DM where Slack gives no
  response_url, as on the App Home tab).
- `decode_payload`: a button's value or a modal's private_metadata, decoded into its typed payload
  once. A value this version does not understand (tampered, or from an old message) gets a
  friendly line and reaches no listener.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.context.respond import Respond

from blocks.ids import ACTION_PAYLOADS, VIEW_PAYLOADS, CallbackId, action_of
from blocks.message import message
from bot.commands.asker import Asker
from bot.deps import ASKER, DEPS, PAYLOAD, SESSION, Deps
from bot.web.admins import is_admin
from handlers.respond import DirectReply, say_ephemeral

OUT_OF_DATE = "That button is out of date; open the card or run the command again."
Next = Callable[[], BoltResponse]


def inject(deps: Deps) -> Callable[..., BoltResponse | None]:
    def middleware(context: BoltContext, body: dict[str, Any], next: Next) -> BoltResponse | None:
        user_id = context.user_id or ""
        context[DEPS] = deps
        context[SESSION] = deps.factory()
        context[ASKER] = Asker(
            user_id=user_id,
            team_id=context.team_id,
            channel_id=context.channel_id,
            admin_check=lambda: is_admin(deps, user_id),
        )
        if context.response_url is None and user_id:
            context["respond"] = DirectReply(deps.client, user_id)
        return next()

    return middleware


def decode_payload(context: BoltContext, body: dict[str, Any], next: Next) -> BoltResponse | None:
    kind = body.get("type")
    if kind == "block_actions":
        action = (body.get("actions") or [{}])[0]
        action_id = action_of(str(action.get("action_id", "")))
        payload_type = ACTION_PAYLOADS.get(action_id) if action_id else None
        if payload_type is not None:
            raw = action.get("value") or (action.get("selected_option") or {}).get("value")
            payload = payload_type.decode(raw)
            if payload is None:
                respond: Respond | None = context.respond
                if respond is not None:
                    say_ephemeral(respond, message(OUT_OF_DATE))
                return BoltResponse(status=200, body="")
            context[PAYLOAD] = payload
    elif kind == "view_submission":
        view = body.get("view") or {}
        try:
            payload_type = VIEW_PAYLOADS.get(CallbackId(str(view.get("callback_id") or "")))
        except ValueError:
            payload_type = None
        if payload_type is not None:
            payload = payload_type.decode(view.get("private_metadata"))
            if payload is None:
                inputs = list((view.get("state") or {}).get("values") or {}) or ["-"]
                errors = {"response_action": "errors", "errors": {inputs[0]: OUT_OF_DATE}}
                return BoltResponse(
                    status=200, body=json.dumps(errors), headers={"content-type": "application/json"}
                )
            context[PAYLOAD] = payload
    return next()
