"""The app's middleware: what every listener finds in Bolt's context, prepared once per request.

- `inject`: members of other organisations (outsiders, in Slack Connect channels) get one polite
  line and reach no listener. For everyone else: the process's Deps, a session (closed by
  `HealthApp.dispatch` when the request is answered), the asker, and a `respond` that works
  everywhere (a DM where Slack gives no response_url, as on the App Home tab).
- `decode_payload`: a button's value or a modal's private_metadata, decoded into its typed payload
  once. A value this version does not understand (tampered, or from an old message) gets a
  friendly line and reaches no listener.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.context.respond import Respond
from slack_sdk.errors import SlackApiError

from blocks.ids import ACTION_PAYLOADS, VIEW_PAYLOADS, CallbackId, action_of
from blocks.kit import Reply
from blocks.message import members_only, members_only_home, members_only_modal, message
from bot.commands.asker import Asker
from bot.deps import ASKER, DEPS, PAYLOAD, SESSION, Deps
from bot.web.admins import is_admin
from handlers.respond import DirectReply, say_ephemeral

log = logging.getLogger(__name__)
OUT_OF_DATE = "That button is out of date; open the card or run the command again."
Next = Callable[[], BoltResponse]


def json_response(body: dict[str, Any]) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(body), headers={"content-type": "application/json"})


def teams_of(body: dict[str, Any]) -> tuple[list[str | None], str | None]:
    """Every team a request names for the person acting (the workspace of the command, the user's
    own team, the event's user team), and their Enterprise Grid organisation."""

    def part(name: str) -> dict[str, Any]:
        value = body.get(name)
        return value if isinstance(value, dict) else {}

    user, event, team, enterprise = part("user"), part("event"), part("team"), part("enterprise")
    teams = [
        body.get("team_id") if isinstance(body.get("team_id"), str) else None,
        body.get("user_team"),
        user.get("team_id"),
        team.get("id"),
        event.get("user_team"),
    ]
    enterprise_id = body.get("enterprise_id") or enterprise.get("id") or user.get("enterprise_id")
    return [t if isinstance(t, str) else None for t in teams], enterprise_id if isinstance(
        enterprise_id, str
    ) else None


def refuse_outsider(deps: Deps, body: dict[str, Any], context: BoltContext) -> BoltResponse:
    """One polite line, in the form each kind of request can show, and nothing else."""
    home = deps.workspace.home()
    name = home.name if home else None
    line = members_only(name)
    kind = body.get("type")
    if "command" in body:
        return json_response({"response_type": "ephemeral", **line.as_message()})
    if kind == "view_submission":
        return json_response({"response_action": "update", "view": members_only_modal(name).to_dict()})
    user_id = context.user_id
    if kind == "block_actions":
        respond = context.respond
        if context.response_url and respond is not None:
            deps.later.run(lambda: say_ephemeral(respond, line))
    elif kind == "event_callback":
        event = body.get("event") or {}
        if event.get("type") == "app_home_opened" and user_id:
            deps.later.run(lambda: _publish(deps, user_id, members_only_home(name)))
        elif (
            event.get("type") == "message"
            and str(event.get("channel", "")).startswith("D")
            and event.get("files")
        ):
            # A file dropped into the bot's DM: the line goes in its thread; nothing is downloaded.
            channel, thread = str(event["channel"]), str(event.get("ts") or "")
            deps.later.run(lambda: _tell(deps, channel, thread, line))
    return BoltResponse(status=200, body="")


def _tell(deps: Deps, channel: str, thread_ts: str, line: Reply) -> None:
    try:
        deps.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts or None, text=line.text, blocks=line.blocks
        )
    except SlackApiError as exc:
        log.warning("could not answer an outsider in %s: %s", channel, exc.response.get("error"))


def _publish(deps: Deps, user_id: str, view: dict[str, Any]) -> None:
    try:
        deps.client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        log.warning("could not publish App Home for %s: %s", user_id, exc.response.get("error"))


def inject(deps: Deps) -> Callable[..., BoltResponse | None]:
    def middleware(context: BoltContext, body: dict[str, Any], next: Next) -> BoltResponse | None:
        teams, enterprise_id = teams_of(body)
        # Nobody sees data until we know whose workspace this is (None: Slack would not say).
        if deps.workspace.outsider(teams, enterprise_id) is not False:
            return refuse_outsider(deps, body, context)
        user_id = context.user_id or ""
        channel_id = context.channel_id
        context[DEPS] = deps
        context[SESSION] = deps.factory()
        context[ASKER] = Asker(
            user_id=user_id,
            team_id=context.team_id,
            channel_id=channel_id,
            admin_check=lambda: is_admin(deps, user_id),
            shared=lambda channel: deps.channels.shared(channel) is not False,
            zone=lambda: deps.people.zone(user_id) if user_id else None,
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
                    deps: Deps = context[DEPS]
                    deps.later.run(lambda: say_ephemeral(respond, message(OUT_OF_DATE)))
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
                return json_response({"response_action": "errors", "errors": {inputs[0]: OUT_OF_DATE}})
            context[PAYLOAD] = payload
    return next()
