"""The Web API methods the fake answers, as a mixin of FakeSlack (it holds their state)."""

from __future__ import annotations

import math
from collections.abc import Callable

from bot.playground.fakeslack.blockkit import (
    JsonDict,
    message_error,
    view_errors,
)
from bot.playground.fakeslack.wire import Reply, api_error, api_ok, as_str, message_view


class WebApiMethods:
    """One method per Web API method; each runs with the fake's lock held."""

    per_channel_rate: float | None
    socket_mode_url: str | None
    users: dict[str, JsonDict]
    usergroups: dict[str, list[str]]
    _messages: dict[tuple[str, str], JsonDict]
    _last_post: dict[str, float]
    _issued_files: dict[str, JsonDict]
    _uploads: list[bytes]

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    def _next_ts(self) -> str:
        raise NotImplementedError

    def _next_id(self, prefix: str) -> str:
        raise NotImplementedError

    def _connections_open(self, params: JsonDict, now: float) -> Reply:
        # Socket Mode: hand out the WebSocket URL a test's server listens on.
        if not self.socket_mode_url:
            return api_error("invalid_auth")
        return api_ok(url=self.socket_mode_url)

    def _post_message(self, params: JsonDict, now: float) -> Reply:
        channel = as_str(params.get("channel"))
        if not channel:
            return api_error("channel_not_found")
        if self.per_channel_rate:
            # Slack allows about one message per second per channel and answers 429 beyond that.
            interval = 1.0 / self.per_channel_rate
            last = self._last_post.get(channel)
            if last is not None and now - last < interval:
                retry_after = max(1, math.ceil(interval - (now - last)))
                return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        error = message_error(params, require_content=True)
        if error is not None:
            return Reply(200, error)
        self._last_post[channel] = now
        ts = self._next_ts()
        message = message_view(params, ts)
        self._messages[(channel, ts)] = message
        return api_ok(channel=channel, ts=ts, message=message)

    def _post_ephemeral(self, params: JsonDict, now: float) -> Reply:
        if not as_str(params.get("channel")):
            return api_error("channel_not_found")
        if not as_str(params.get("user")):
            return api_error("user_not_found")
        error = message_error(params, require_content=True)
        if error is not None:
            return Reply(200, error)
        return api_ok(message_ts=self._next_ts())

    def _update(self, params: JsonDict, now: float) -> Reply:
        channel, ts = as_str(params.get("channel")), as_str(params.get("ts"))
        if not channel:
            return api_error("channel_not_found")
        if not ts:
            return api_error("message_not_found")
        error = message_error(params, require_content=False)
        if error is not None:
            return Reply(200, error)
        message = message_view(params, ts)
        # Messages the fake never saw (ts taken from a test payload) are accepted, as a convenience.
        self._messages.setdefault((channel, ts), {}).update(message)
        return api_ok(channel=channel, ts=ts, text=message.get("text", ""), message=message)

    def _delete(self, params: JsonDict, now: float) -> Reply:
        channel, ts = as_str(params.get("channel")), as_str(params.get("ts"))
        if not channel:
            return api_error("channel_not_found")
        if not ts:
            return api_error("message_not_found")
        self._messages.pop((channel, ts), None)
        return api_ok(channel=channel, ts=ts)

    def _conversations_open(self, params: JsonDict, now: float) -> Reply:
        users = [u for u in as_str(params.get("users")).split(",") if u]
        if not users:
            if channel := as_str(params.get("channel")):
                return api_ok(channel={"id": channel})
            return api_error("users_list_not_supplied")
        channel_id = "D" + users[0] if len(users) == 1 else "G" + "".join(users)
        return api_ok(channel={"id": channel_id})

    def _views_publish(self, params: JsonDict, now: float) -> Reply:
        if not as_str(params.get("user_id")):
            return api_error("invalid_arguments")
        return self._view_reply(params)

    def _views_open(self, params: JsonDict, now: float) -> Reply:
        if not as_str(params.get("trigger_id")) and not as_str(params.get("interactivity_pointer")):
            return api_error("invalid_arguments")
        return self._view_reply(params)

    def _views_update(self, params: JsonDict, now: float) -> Reply:
        if not as_str(params.get("view_id")) and not as_str(params.get("external_id")):
            return api_error("invalid_arguments")
        return self._view_reply(params, view_id=as_str(params.get("view_id")) or None)

    def _view_reply(self, params: JsonDict, view_id: str | None = None) -> Reply:
        view = params.get("view")
        if not isinstance(view, dict):
            return api_error("invalid_arguments")
        errors = view_errors(view)
        if errors:
            return Reply(200, {"ok": False, "error": "invalid_blocks", "errors": errors})
        return api_ok(view={"id": view_id or self._next_id("V"), **view})

    def _users_info(self, params: JsonDict, now: float) -> Reply:
        user_id = as_str(params.get("user"))
        if not user_id:
            return api_error("user_not_found")
        user: JsonDict = {
            "id": user_id,
            "team_id": "T1",
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "tz": "America/Los_Angeles",
            "tz_offset": -28800,
            "is_admin": False,
            "is_owner": False,
            "is_bot": False,
            "deleted": False,
            "profile": {"real_name": f"User {user_id}", "display_name": user_id.lower()},
        }
        user.update(self.users.get(user_id, {}))
        return api_ok(user=user)

    def _usergroups_users_list(self, params: JsonDict, now: float) -> Reply:
        group = as_str(params.get("usergroup"))
        if group not in self.usergroups:
            return api_error("no_such_subteam")
        return api_ok(users=list(self.usergroups[group]))

    def _files_get_upload_url(self, params: JsonDict, now: float) -> Reply:
        filename, length = as_str(params.get("filename")), as_str(params.get("length"))
        if not filename or not length.isdigit():
            return api_error("invalid_arguments")
        file_id = self._next_id("F")
        self._issued_files[file_id] = {"filename": filename, "uploaded": False}
        return api_ok(upload_url=f"{self.base_url}upload/{file_id}", file_id=file_id)

    def _files_complete_upload(self, params: JsonDict, now: float) -> Reply:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            return api_error("invalid_arguments")
        result = []
        for item in files:
            file_id = as_str(item.get("id")) if isinstance(item, dict) else ""
            issued = self._issued_files.get(file_id)
            if issued is None or not issued["uploaded"]:
                return api_error("file_not_found")
            title = as_str(item.get("title")) or issued["filename"]
            result.append({"id": file_id, "name": issued["filename"], "title": title})
        return api_ok(files=result)

    def _files_upload(self, params: JsonDict, now: float) -> Reply:
        content = params.get("file", params.get("content"))
        if isinstance(content, str):
            content = content.encode()
        if not isinstance(content, bytes):
            return api_error("no_file_data")
        self._uploads.append(content)
        file_id = self._next_id("F")
        name = as_str(params.get("filename")) or "file"
        return api_ok(file={"id": file_id, "name": name, "title": as_str(params.get("title")) or name})


METHODS: dict[str, Callable[[WebApiMethods, JsonDict, float], Reply]] = {
    "apps.connections.open": WebApiMethods._connections_open,
    "chat.postMessage": WebApiMethods._post_message,
    "chat.postEphemeral": WebApiMethods._post_ephemeral,
    "chat.update": WebApiMethods._update,
    "chat.delete": WebApiMethods._delete,
    "conversations.open": WebApiMethods._conversations_open,
    "views.publish": WebApiMethods._views_publish,
    "views.open": WebApiMethods._views_open,
    "views.update": WebApiMethods._views_update,
    "users.info": WebApiMethods._users_info,
    "usergroups.users.list": WebApiMethods._usergroups_users_list,
    "files.getUploadURLExternal": WebApiMethods._files_get_upload_url,
    "files.completeUploadExternal": WebApiMethods._files_complete_upload,
    "files.upload": WebApiMethods._files_upload,
}
