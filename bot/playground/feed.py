"""What the bot sent, as the playground page shows it: the fake Slack's calls as side-panel events,
and the message a slash command's ack carried."""

from __future__ import annotations

import urllib.parse
from typing import Any

import httpx

from bot.playground.fakeslack import Call

JsonDict = dict[str, Any]


def ack_message(reply: httpx.Response) -> JsonDict | None:
    """The message carried by a slash command's ack: JSON, or plain text as Slack shows it."""
    content = reply.content.strip()
    if not content:
        return None
    if reply.headers.get("content-type", "").startswith("application/json"):
        try:
            parsed = reply.json()
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            message = {
                k: parsed[k] for k in ("text", "blocks", "response_type", "attachments") if k in parsed
            }
            message.setdefault("response_type", "ephemeral")
            return message
    return {"text": reply.text, "response_type": "ephemeral"}


def message_fields(params: JsonDict) -> JsonDict:
    message: JsonDict = {"text": str(params.get("text") or "")}
    blocks = params.get("blocks")
    if isinstance(blocks, list):
        message["blocks"] = blocks
    attachments = params.get("attachments")
    if isinstance(attachments, list):
        message["attachments"] = attachments
    return message


def response_event(index: int, name: str, body: JsonDict) -> JsonDict:
    event: JsonDict = {"index": index, "kind": "response", "name": name, **message_fields(body)}
    for key in ("response_type", "replace_original", "delete_original", "thread_ts"):
        if key in body:
            event[key] = body[key]
    return event


def api_event(index: int, call: Call) -> JsonDict | None:
    """A side-panel event for one Web API call, or None for calls the page does not show."""
    params, response = call.params, call.response
    method = call.method
    if method == "chat.postMessage":
        return {
            "index": index,
            "kind": "post",
            "channel": str(response.get("channel") or params.get("channel") or ""),
            "ts": str(response.get("ts") or ""),
            "thread_ts": str(params.get("thread_ts") or ""),
            **message_fields(params),
        }
    if method == "chat.postEphemeral":
        return {
            "index": index,
            "kind": "ephemeral",
            "channel": str(params.get("channel") or ""),
            "user": str(params.get("user") or ""),
            "ts": str(response.get("message_ts") or ""),
            **message_fields(params),
        }
    if method == "chat.update":
        return {
            "index": index,
            "kind": "update",
            "channel": str(params.get("channel") or ""),
            "ts": str(params.get("ts") or ""),
            **message_fields(params),
        }
    if method == "chat.delete":
        return {
            "index": index,
            "kind": "delete",
            "channel": str(params.get("channel") or ""),
            "ts": str(params.get("ts") or ""),
        }
    if method == "views.publish":
        # The answer carries the view's id, which clicks inside the Home tab send back.
        view = response.get("view") if isinstance(response.get("view"), dict) else {}
        return {"index": index, "kind": "home", "user": str(params.get("user_id") or ""), "view": view}
    if method in ("views.open", "views.push", "views.update"):
        view = response.get("view") if isinstance(response.get("view"), dict) else {}
        kind = "modal_update" if method == "views.update" else "modal"
        return {"index": index, "kind": kind, "view": view}
    if method == "files.completeUploadExternal":
        uploaded = response.get("files")
        files: list[Any] = uploaded if isinstance(uploaded, list) else []
        return {
            "index": index,
            "kind": "file",
            "channel": str(params.get("channel_id") or ""),
            "thread_ts": str(params.get("thread_ts") or ""),
            "text": str(params.get("initial_comment") or ""),
            "files": [file_entry(f) for f in files if isinstance(f, dict)],
        }
    if method == "files.upload":
        file = response.get("file") if isinstance(response.get("file"), dict) else {}
        return {
            "index": index,
            "kind": "file",
            "channel": str(params.get("channels") or params.get("channel") or ""),
            "thread_ts": str(params.get("thread_ts") or ""),
            "text": str(params.get("initial_comment") or ""),
            "files": [file_entry(file)] if file else [],
        }
    return None


def file_entry(file: JsonDict) -> JsonDict:
    file_id = str(file.get("id") or "")
    return {
        "id": file_id,
        "name": str(file.get("name") or ""),
        "title": str(file.get("title") or file.get("name") or file_id),
        "url": f"/playground/api/file/{urllib.parse.quote(file_id)}",
    }
