"""What Slack would send the app, built from the page's requests: a slash command, a click, a
modal submission, the App Home being opened. The page's input is checked here (BadRequest)."""

from __future__ import annotations

import base64
import binascii
import re
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any

JsonDict = dict[str, Any]

PLAYGROUND_TEAM = "TPLAYGROUND"
PLAYGROUND_CHANNEL = "CPLAYGROUND"
PLAYGROUND_USER = "UPLAYGROUND"
PLAYGROUND_APP = "APLAYGROUND"

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{1,30}$")
_TS = re.compile(r"^\d{1,12}\.\d{1,6}$")
# A typed `#channel` or `@person`: not inside an existing <…> mention, not part of a word.
_TYPED_MENTION = re.compile(r"(?<![\w<|#@])([#@])([A-Za-z0-9][A-Za-z0-9._-]*)")

# The playground's workspace, known to its fake Slack (conversations.info, users.info): the demo
# portfolio's owners are U00000001..U00000006.
CHANNELS = {PLAYGROUND_CHANNEL: "playground", "CSELLERHEALTH": "seller-health", "CGENERAL": "general"}
PEOPLE = {
    PLAYGROUND_USER: "you",
    "U00000001": "maria",
    "U00000002": "james",
    "U00000003": "aisha",
    "U00000004": "kenji",
    "U00000005": "sofia",
    "U00000006": "lucas",
}


class BadRequest(Exception):
    """A request the playground API refuses; the message is shown on the page."""


class AppFailed(Exception):
    """The app answered Slack's request with an error status; the message is shown on the page."""


def text_field(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string")
    if len(value) > 4000:
        raise BadRequest(f"{field} is too long")
    return value


def slack_id(value: Any, default: str) -> str:
    return value if isinstance(value, str) and SLACK_ID.match(value) else default


def response_name(value: Any) -> str | None:
    return value if isinstance(value, str) and _NAME.match(value) else None


def escape_mentions(text: str, channels: Mapping[str, str], people: Mapping[str, str]) -> str:
    """What Slack makes of a slash command's text (the manifest's `should_escape`): a typed
    `#name` of a known channel becomes `<#C…|name>`, and `@name` or `@U…` of a known person
    `<@U…>`. Anything else stays as typed, as in Slack. `channels` and `people`: ID -> name."""
    channel_ids = {name.lower(): channel_id for channel_id, name in channels.items()}
    person_ids = {name.lower(): user_id for user_id, name in people.items()}
    person_ids.update({user_id.lower(): user_id for user_id in people})

    def replace(match: re.Match[str]) -> str:
        sign, word = match.group(1), match.group(2)
        trailing = ""
        while word and word[-1] in ".-":  # "#playground." ends the sentence, not the name
            word, trailing = word[:-1], word[-1] + trailing
        if sign == "#" and word.lower() in channel_ids:
            channel_id = channel_ids[word.lower()]
            return f"<#{channel_id}|{channels[channel_id]}>{trailing}"
        if sign == "@" and word.lower() in person_ids:
            return f"<@{person_ids[word.lower()]}>{trailing}"
        return match.group(0)

    return _TYPED_MENTION.sub(replace, text)


def command_body(text: str, *, user: str, response_url: str, trigger_id: str) -> str:
    return urllib.parse.urlencode(
        {
            "token": "playground",
            "team_id": PLAYGROUND_TEAM,
            "team_domain": "playground",
            "channel_id": PLAYGROUND_CHANNEL,
            "channel_name": "playground",
            "user_id": user,
            "user_name": "you",
            "command": "/health",
            "text": text,
            "api_app_id": PLAYGROUND_APP,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def _user(user: str) -> JsonDict:
    return {"id": user, "username": "you", "name": "you", "team_id": PLAYGROUND_TEAM}


def action_payload(data: JsonDict, *, user: str, response_url: str, trigger_id: str) -> JsonDict:
    """A block_actions payload for a click on a button, an overflow or a select, in a message,
    a modal or the Home tab."""
    action_id = text_field(data.get("action_id"), "action_id")
    if not action_id or len(action_id) > 255:
        raise BadRequest("action_id is required")
    kind = str(data.get("type") or "button")
    if kind not in ("button", "overflow", "static_select"):
        raise BadRequest(f"unsupported element type {kind}")
    action: JsonDict = {
        "action_id": action_id,
        "block_id": text_field(data.get("block_id"), "block_id") or uuid.uuid4().hex[:5],
        "type": kind,
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        if data.get("value") is not None:
            action["value"] = text_field(data.get("value"), "value")
        if isinstance(data.get("text"), str):
            action["text"] = {"type": "plain_text", "text": data["text"], "emoji": True}
    else:
        option = data.get("selected_option")
        if not isinstance(option, dict) or not isinstance(option.get("value"), str):
            raise BadRequest("selected_option with a value is required")
        label = option.get("text")
        action["selected_option"] = {
            "text": label if isinstance(label, dict) else {"type": "plain_text", "text": str(label or "")},
            "value": option["value"],
        }
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": PLAYGROUND_APP,
        "token": "playground",
        "team": {"id": PLAYGROUND_TEAM, "domain": "playground"},
        "enterprise": None,
        "is_enterprise_install": False,
        "trigger_id": trigger_id,
        "actions": [action],
    }
    view = data.get("view")
    if isinstance(view, dict):
        # A button inside a modal or App Home: no channel, no response_url.
        view_id = text_field(view.get("id"), "view.id")
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = view_payload(view, data.get("values"))
        return payload
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    assert isinstance(message, dict)
    channel = slack_id(message.get("channel"), PLAYGROUND_CHANNEL)
    ts = str(message.get("ts") or "")
    if not _TS.match(ts):
        ts = f"{time.time():.6f}"
    is_ephemeral = bool(message.get("is_ephemeral", True))
    payload["container"] = {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel,
        "is_ephemeral": is_ephemeral,
    }
    payload["channel"] = {"id": channel, "name": "playground" if channel == PLAYGROUND_CHANNEL else channel}
    payload["response_url"] = response_url
    if not is_ephemeral:
        # Slack sends the message only for stored (non-ephemeral) messages.
        payload["message"] = {
            "type": "message",
            "user": "UBOT",
            "bot_id": "BBOT",
            "ts": ts,
            "text": str(message.get("text") or ""),
            "blocks": message.get("blocks") if isinstance(message.get("blocks"), list) else [],
        }
        if _TS.match(str(message.get("thread_ts") or "")):
            payload["message"]["thread_ts"] = message["thread_ts"]
    payload["state"] = {"values": {}}
    return payload


def view_submission(view: JsonDict, values: Any, *, user: str, trigger_id: str) -> JsonDict:
    return {
        "type": "view_submission",
        "team": {"id": PLAYGROUND_TEAM, "domain": "playground"},
        "user": _user(user),
        "api_app_id": PLAYGROUND_APP,
        "token": "playground",
        "trigger_id": trigger_id,
        "view": view_payload(view, values),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def _event_callback(event: JsonDict, now: float) -> JsonDict:
    """The Events API envelope Slack wraps every event in."""
    return {
        "token": "playground",
        "team_id": PLAYGROUND_TEAM,
        "api_app_id": PLAYGROUND_APP,
        "type": "event_callback",
        "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(now),
        "event": event,
    }


def home_opened(user: str) -> JsonDict:
    now = time.time()
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user,
        "tab": "home",
        "event_ts": f"{now:.6f}",
    }
    return _event_callback(event, now)


def view_payload(view: JsonDict, values: Any) -> JsonDict:
    keep = (
        "id",
        "type",
        "callback_id",
        "private_metadata",
        "title",
        "submit",
        "close",
        "blocks",
        "external_id",
    )
    payload = {k: view[k] for k in keep if k in view}
    payload.setdefault("id", "V" + uuid.uuid4().hex[:10].upper())
    payload.setdefault("type", "modal")
    payload.setdefault("private_metadata", "")
    payload.setdefault("callback_id", "")
    payload["team_id"] = PLAYGROUND_TEAM
    payload["app_id"] = PLAYGROUND_APP
    payload["bot_id"] = "BBOT"
    payload["hash"] = uuid.uuid4().hex[:16]
    payload["state"] = {"values": values if isinstance(values, dict) else {}}
    return payload


MAX_UPLOAD_FILES = 10


def uploaded_files(value: Any) -> list[tuple[str, bytes]]:
    """The files the page sends ({"files": [{"name", "content" (base64)}]}), as (name, bytes)."""
    if not isinstance(value, list) or not value:
        raise BadRequest("files must be a non-empty list of {name, content}")
    if len(value) > MAX_UPLOAD_FILES:
        raise BadRequest(f"at most {MAX_UPLOAD_FILES} files at once")
    files = []
    for item in value:
        if not isinstance(item, dict):
            raise BadRequest("each file is {name, content}")
        name = text_field(item.get("name"), "name").replace("\\", "/").rsplit("/", 1)[-1].strip()
        if not name or len(name) > 200:
            raise BadRequest("each file needs a name (up to 200 characters)")
        content = item.get("content")
        if not isinstance(content, str):
            raise BadRequest("content must be base64 text")
        try:
            files.append((name, base64.b64decode(content, validate=True)))
        except binascii.Error:
            raise BadRequest(f"the content of {name} is not valid base64") from None
    return files


def file_share_message(user: str, channel: str, ts: str, file_ids: list[tuple[str, str]]) -> JsonDict:
    """The `message` event (subtype file_share) Slack sends when someone drops files into a DM."""
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": channel,
        "channel_type": "im",
        "user": user,
        "user_team": PLAYGROUND_TEAM,
        "text": "",
        "ts": ts,
        "event_ts": ts,
        "files": [{"id": file_id, "name": name, "mode": "hosted"} for file_id, name in file_ids],
    }
    return _event_callback(event, time.time())
