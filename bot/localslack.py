"""A local stand-in for the Slack Web API: a real HTTP server on 127.0.0.1 that ``slack_sdk`` talks to.

The tests use it in place of Slack, and the local playground uses it to catch what the bot would
post to channels and DMs.

Point a real client at it instead of patching code, so request encoding, retry handlers and
error handling in ``slack_sdk`` run exactly as in production::

    with FakeSlack() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.calls_to("chat.postMessage")[0].params["text"] == "hi"

Besides answering the Web API methods the bot uses, it serves ``response_url`` webhooks
(``slack.response_url("name")``) and the external file-upload URL used by ``files_upload_v2``,
enforces the Block Kit limits that make real Slack answer ``invalid_blocks``, and can inject
HTTP 500s, HTTP 429s, and Slack's one-message-per-second-per-channel rate limit.
"""

from __future__ import annotations

import collections
import contextlib
import email.message
import email.parser
import email.policy
import json
import math
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast

__all__ = ["Call", "FakeSlack"]

JsonDict = dict[str, Any]

# Slack's documented Block Kit limits (https://api.slack.com/reference/block-kit).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELD = 2000
MAX_SECTION_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_OPTIONS = 100
MAX_OVERFLOW_OPTIONS = 5
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_VIEW_TITLE = 24
MAX_MESSAGE_TEXT = 40000

# Form fields that slack_sdk (or hand-written callers) send as JSON-encoded strings.
_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")

# Pseudo-methods under which the non-Web-API endpoints are recorded (and can take injected failures).
RESPONSE_URL_METHOD = "response_url"
UPLOAD_METHOD = "upload"

_FIRST_TS_SECONDS = 1_700_000_000


@dataclass
class Call:
    """One request the fake received.

    ``method`` is the Web API method (``"chat.postMessage"``), or ``"response_url"`` / ``"upload"``
    for the webhook and upload endpoints. ``headers`` keys are lower-cased. ``at`` is
    ``time.monotonic()`` when the request arrived.
    """

    method: str
    params: JsonDict
    headers: dict[str, str]
    at: float
    ok: bool = True
    error: str | None = None
    status: int = 200
    token: str | None = None
    response: JsonDict = field(default_factory=dict)


@dataclass
class _Injected:
    status: int
    error: str
    retry_after: int | None = None


@dataclass
class _Reply:
    status: int
    body: JsonDict | str
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    """A fake Slack Web API server; see the module docstring.

    Configuration (may be changed while running): ``usergroups`` (group id -> member ids),
    ``users`` (user id -> fields merged into the users.info answer), ``per_channel_rate``
    (allowed chat.postMessage calls per second per channel, ``None`` for unlimited).
    """

    def __init__(self) -> None:
        self.usergroups: dict[str, list[str]] = {}
        self.users: dict[str, JsonDict] = {}
        self.per_channel_rate: float | None = None
        self.socket_mode_url: str | None = None  # answered by apps.connections.open

        # One lock guards all state; the Condition lets wait_for() sleep until a call is recorded.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._responses: list[tuple[str, JsonDict]] = []
        self._uploads: list[bytes] = []
        self._server_errors: list[str] = []
        self._messages: dict[tuple[str, str], JsonDict] = {}
        self._injected: dict[str, collections.deque[_Injected]] = collections.defaultdict(collections.deque)
        self._last_post: dict[str, float] = {}
        self._issued_files: dict[str, JsonDict] = {}
        self._ts_counter = 0
        self._id_counter = 0

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Bind to a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeSlack is already running")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        # shutdown() waits up to one poll interval; a short one keeps per-test teardown fast.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and release the port; safe to call twice."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Root of the server, e.g. ``http://127.0.0.1:PORT/``."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not running; call start() or use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def api_url(self) -> str:
        """Value for ``WebClient(base_url=...)``, e.g. ``http://127.0.0.1:PORT/api/``."""
        return self.base_url + "api/"

    def response_url(self, name: str = "x") -> str:
        """A Slack ``response_url`` webhook on this server; posts to it land in ``responses``."""
        return f"{self.base_url}response/{urllib.parse.quote(name, safe='')}"

    # ----------------------------------------------------------------- inspection

    @property
    def calls(self) -> list[Call]:
        """Every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls to one method (rejected ones included; filter on ``.ok``)."""
        with self._lock:
            return [c for c in self._calls if c.method == method]

    @property
    def responses(self) -> list[tuple[str, JsonDict]]:
        """Accepted response_url posts as ``(name, json_body)``."""
        with self._lock:
            return list(self._responses)

    @property
    def uploads(self) -> list[bytes]:
        """File contents received by the upload URL (and legacy files.upload)."""
        with self._lock:
            return list(self._uploads)

    @property
    def messages(self) -> dict[tuple[str, str], JsonDict]:
        """Current messages by ``(channel, ts)``: posts with chat.update applied, chat.delete removed."""
        with self._lock:
            return {key: dict(msg) for key, msg in self._messages.items()}

    @property
    def server_errors(self) -> list[str]:
        """Exceptions raised inside the fake itself (a bug in the fake, answered with HTTP 500)."""
        with self._lock:
            return list(self._server_errors)

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` were recorded; return all of them.

        Needed because handlers answer Slack first and call the API afterwards (lazy listeners,
        background jobs). Raises AssertionError on timeout.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self._calls if c.method == method]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [c.method for c in self._calls]
                    raise AssertionError(
                        f"expected {count} call(s) to {method} within {timeout}s, got {len(found)}; "
                        f"calls seen: {seen}"
                    )
                self._changed.wait(remaining)

    def reset(self) -> None:
        """Forget recorded calls, messages, uploads, pending failures and rate-limit state.

        Configuration (``usergroups``, ``users``, ``per_channel_rate``) is kept.
        """
        with self._lock:
            self._calls.clear()
            self._responses.clear()
            self._uploads.clear()
            self._server_errors.clear()
            self._messages.clear()
            self._injected.clear()
            self._last_post.clear()
            self._issued_files.clear()

    # ----------------------------------------------------------------- failure injection

    def fail_next(self, method: str, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP ``status`` and ``internal_error``."""
        with self._lock:
            for _ in range(times):
                self._injected[method].append(_Injected(status=status, error="internal_error"))

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP 429 and ``Retry-After``."""
        with self._lock:
            for _ in range(times):
                self._injected[method].append(
                    _Injected(status=429, error="ratelimited", retry_after=retry_after)
                )

    # ----------------------------------------------------------------- request handling

    def _handle(self, http_method: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        """Route one request and record it. Runs on a server thread."""
        now = time.monotonic()
        url = urllib.parse.urlsplit(path)
        route = url.path
        query = _decode_json_fields(_parse_form(url.query))

        if route.startswith("/api/"):
            kind, name = "api", route.removeprefix("/api/")
        elif route.startswith("/response/"):
            kind, name = "response", urllib.parse.unquote(route.removeprefix("/response/"))
        elif route.startswith("/upload/"):
            kind, name = "upload", route.removeprefix("/upload/")
        else:
            return _Reply(404, "not_found")

        if kind == "upload":
            params: JsonDict = {"file_id": name, "size": len(body), "head": body[:64]}
        else:
            try:
                params = {**query, **_parse_body(headers.get("content-type", ""), body)}
            except ValueError as exc:
                params = dict(query)
                if kind == "api":
                    return self._finish(Call(name, params, headers, now), _api_error("invalid_form_data"))
                return self._finish(Call(RESPONSE_URL_METHOD, params, headers, now), _Reply(400, str(exc)))

        method = {"api": name, "response": RESPONSE_URL_METHOD, "upload": UPLOAD_METHOD}[kind]
        call = Call(method=method, params=params, headers=headers, at=now)

        # Hold the lock for the whole dispatch: handlers are tiny, and it makes rate-limit
        # bookkeeping and id counters race-free under the threading server.
        with self._lock:
            injected = self._injected.get(method)
            if injected:
                failure = injected.popleft()
                reply_headers = (
                    {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                )
                return self._finish(
                    call, _Reply(failure.status, {"ok": False, "error": failure.error}, reply_headers)
                )

            if kind == "response":
                return self._finish(call, self._response_url(name, params))
            if kind == "upload":
                return self._finish(call, self._upload(name, body))

            handler = _METHODS.get(method)
            if handler is None:
                return self._finish(call, _api_error("unknown_method"))

            call.token = _token(headers, params)
            if call.token is None:
                return self._finish(call, _api_error("not_authed"))
            if not call.token.startswith(("xox", "xapp-")):
                return self._finish(call, _api_error("invalid_auth"))

            return self._finish(call, handler(self, params, now))

    def _finish(self, call: Call, reply: _Reply) -> _Reply:
        """Fill in the outcome on ``call``, record it and wake up wait_for()."""
        call.status = reply.status
        if isinstance(reply.body, dict):
            call.response = reply.body
            call.ok = bool(reply.body.get("ok")) and reply.status == 200
            error = reply.body.get("error")
            call.error = str(error) if error is not None else None
        else:
            call.ok = reply.status == 200
            call.error = None if call.ok else reply.body
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        return reply

    def _record_server_error(self, message: str) -> None:
        with self._lock:
            self._server_errors.append(message)

    # ----------------------------------------------------------------- ids

    def _next_ts(self) -> str:
        # Real ts values are "seconds.micro" and unique per channel; increasing by 100µs looks real.
        self._ts_counter += 100
        seconds, micros = divmod(self._ts_counter, 1_000_000)
        return f"{_FIRST_TS_SECONDS + seconds}.{micros:06d}"

    def _next_id(self, prefix: str) -> str:
        self._id_counter += 1
        return f"{prefix}{self._id_counter:08d}"

    # ----------------------------------------------------------------- non-API endpoints

    def _response_url(self, name: str, params: JsonDict) -> _Reply:
        # Real response_url webhooks answer plain text: "ok", or the error name with HTTP 400.
        if "payload" in params and isinstance(params["payload"], str):
            try:
                params = json.loads(params["payload"])
            except ValueError:
                return _Reply(400, "invalid_payload")
        if not isinstance(params, dict):
            return _Reply(400, "invalid_payload")
        if not params.get("delete_original"):
            error = _message_error(params, require_content=True)
            if error is not None:
                return _Reply(400, error["error"])
        self._responses.append((name, params))
        return _Reply(200, "ok")

    def _upload(self, file_id: str, body: bytes) -> _Reply:
        if file_id not in self._issued_files:
            return _Reply(404, "file_not_found")
        self._issued_files[file_id]["uploaded"] = True
        self._uploads.append(body)
        return _Reply(200, f"OK - {len(body)}")

    # ----------------------------------------------------------------- Web API methods

    def _connections_open(self, params: JsonDict, now: float) -> _Reply:
        # Socket Mode: hand out the WebSocket URL a test's server listens on.
        if not self.socket_mode_url:
            return _api_error("invalid_auth")
        return _api_ok(url=self.socket_mode_url)

    def _auth_test(self, params: JsonDict, now: float) -> _Reply:
        return _api_ok(
            user_id="UBOT", bot_id="BBOT", team_id="T1", team="Test", user="bot", url=self.base_url
        )

    def _post_message(self, params: JsonDict, now: float) -> _Reply:
        channel = _str(params.get("channel"))
        if not channel:
            return _api_error("channel_not_found")
        if self.per_channel_rate:
            # Slack allows about one message per second per channel and answers 429 beyond that.
            interval = 1.0 / self.per_channel_rate
            last = self._last_post.get(channel)
            if last is not None and now - last < interval:
                retry_after = max(1, math.ceil(interval - (now - last)))
                return _Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        error = _message_error(params, require_content=True)
        if error is not None:
            return _Reply(200, error)
        self._last_post[channel] = now
        ts = self._next_ts()
        message = _message_view(params, ts)
        self._messages[(channel, ts)] = message
        return _api_ok(channel=channel, ts=ts, message=message)

    def _post_ephemeral(self, params: JsonDict, now: float) -> _Reply:
        if not _str(params.get("channel")):
            return _api_error("channel_not_found")
        if not _str(params.get("user")):
            return _api_error("user_not_found")
        error = _message_error(params, require_content=True)
        if error is not None:
            return _Reply(200, error)
        return _api_ok(message_ts=self._next_ts())

    def _update(self, params: JsonDict, now: float) -> _Reply:
        channel, ts = _str(params.get("channel")), _str(params.get("ts"))
        if not channel:
            return _api_error("channel_not_found")
        if not ts:
            return _api_error("message_not_found")
        error = _message_error(params, require_content=False)
        if error is not None:
            return _Reply(200, error)
        message = _message_view(params, ts)
        # Messages the fake never saw (ts taken from a test payload) are accepted, as a convenience.
        self._messages.setdefault((channel, ts), {}).update(message)
        return _api_ok(channel=channel, ts=ts, text=message.get("text", ""), message=message)

    def _delete(self, params: JsonDict, now: float) -> _Reply:
        channel, ts = _str(params.get("channel")), _str(params.get("ts"))
        if not channel:
            return _api_error("channel_not_found")
        if not ts:
            return _api_error("message_not_found")
        self._messages.pop((channel, ts), None)
        return _api_ok(channel=channel, ts=ts)

    def _conversations_open(self, params: JsonDict, now: float) -> _Reply:
        users = [u for u in _str(params.get("users")).split(",") if u]
        if not users:
            if channel := _str(params.get("channel")):
                return _api_ok(channel={"id": channel})
            return _api_error("users_list_not_supplied")
        channel_id = "D" + users[0] if len(users) == 1 else "G" + "".join(users)
        return _api_ok(channel={"id": channel_id})

    def _views_publish(self, params: JsonDict, now: float) -> _Reply:
        if not _str(params.get("user_id")):
            return _api_error("invalid_arguments")
        return self._view_reply(params)

    def _views_open(self, params: JsonDict, now: float) -> _Reply:
        if not _str(params.get("trigger_id")) and not _str(params.get("interactivity_pointer")):
            return _api_error("invalid_arguments")
        return self._view_reply(params)

    def _views_update(self, params: JsonDict, now: float) -> _Reply:
        if not _str(params.get("view_id")) and not _str(params.get("external_id")):
            return _api_error("invalid_arguments")
        return self._view_reply(params, view_id=_str(params.get("view_id")) or None)

    def _view_reply(self, params: JsonDict, view_id: str | None = None) -> _Reply:
        view = params.get("view")
        if not isinstance(view, dict):
            return _api_error("invalid_arguments")
        errors = _view_errors(view)
        if errors:
            return _Reply(200, {"ok": False, "error": "invalid_blocks", "errors": errors})
        return _api_ok(view={"id": view_id or self._next_id("V"), **view})

    def _users_info(self, params: JsonDict, now: float) -> _Reply:
        user_id = _str(params.get("user"))
        if not user_id:
            return _api_error("user_not_found")
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
        return _api_ok(user=user)

    def _usergroups_users_list(self, params: JsonDict, now: float) -> _Reply:
        group = _str(params.get("usergroup"))
        if group not in self.usergroups:
            return _api_error("no_such_subteam")
        return _api_ok(users=list(self.usergroups[group]))

    def _files_get_upload_url(self, params: JsonDict, now: float) -> _Reply:
        filename, length = _str(params.get("filename")), _str(params.get("length"))
        if not filename or not length.isdigit():
            return _api_error("invalid_arguments")
        file_id = self._next_id("F")
        self._issued_files[file_id] = {"filename": filename, "uploaded": False}
        return _api_ok(upload_url=f"{self.base_url}upload/{file_id}", file_id=file_id)

    def _files_complete_upload(self, params: JsonDict, now: float) -> _Reply:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            return _api_error("invalid_arguments")
        result = []
        for item in files:
            file_id = _str(item.get("id")) if isinstance(item, dict) else ""
            issued = self._issued_files.get(file_id)
            if issued is None or not issued["uploaded"]:
                return _api_error("file_not_found")
            title = _str(item.get("title")) or issued["filename"]
            result.append({"id": file_id, "name": issued["filename"], "title": title})
        return _api_ok(files=result)

    def _files_upload(self, params: JsonDict, now: float) -> _Reply:
        content = params.get("file", params.get("content"))
        if isinstance(content, str):
            content = content.encode()
        if not isinstance(content, bytes):
            return _api_error("no_file_data")
        self._uploads.append(content)
        file_id = self._next_id("F")
        name = _str(params.get("filename")) or "file"
        return _api_ok(file={"id": file_id, "name": name, "title": _str(params.get("title")) or name})


_METHODS: dict[str, Callable[[FakeSlack, JsonDict, float], _Reply]] = {
    "apps.connections.open": FakeSlack._connections_open,
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.update": FakeSlack._update,
    "chat.delete": FakeSlack._delete,
    "conversations.open": FakeSlack._conversations_open,
    "views.publish": FakeSlack._views_publish,
    "views.open": FakeSlack._views_open,
    "views.update": FakeSlack._views_update,
    "users.info": FakeSlack._users_info,
    "usergroups.users.list": FakeSlack._usergroups_users_list,
    "files.getUploadURLExternal": FakeSlack._files_get_upload_url,
    "files.completeUploadExternal": FakeSlack._files_complete_upload,
    "files.upload": FakeSlack._files_upload,
}


# --------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # don't let a stuck client connection block interpreter exit
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; tests inspect ``FakeSlack.calls`` instead."""

    def _dispatch(self, http_method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake = self.server.fake
        try:
            reply = fake._handle(http_method, self.path, headers, body)
        except Exception as exc:  # a bug in the fake must fail the test, not hang the client
            fake._record_server_error(f"{type(exc).__name__}: {exc} ({http_method} {self.path})")
            reply = _Reply(500, {"ok": False, "error": "fake_slack_error", "detail": str(exc)})
        if isinstance(reply.body, dict):
            payload = json.dumps(reply.body).encode()
            content_type = "application/json; charset=utf-8"
        else:
            payload = reply.body.encode()
            content_type = "text/plain; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


# --------------------------------------------------------------------- request parsing


def _parse_body(content_type: str, body: bytes) -> JsonDict:
    """Decode a JSON, urlencoded or multipart body into a params dict (raises ValueError)."""
    if not body:
        return {}
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/json":
        parsed = json.loads(body.decode("utf-8"))
        if not isinstance(parsed, dict):
            raise ValueError("JSON body must be an object")
        return parsed
    if mime == "multipart/form-data":
        return _decode_json_fields(_parse_multipart(content_type, body))
    return _decode_json_fields(_parse_form(body.decode("utf-8")))


def _parse_form(text: str) -> JsonDict:
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
    return dict(pairs)


def _parse_multipart(content_type: str, body: bytes) -> JsonDict:
    # The email package is the stdlib's remaining multipart parser (cgi is gone in 3.13).
    raw = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    params: JsonDict = {}
    for part in _iter_parts(message):
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        params[name] = data if part.get_filename() is not None else data.decode("utf-8")
    return params


def _iter_parts(message: email.message.Message) -> Iterator[email.message.Message]:
    payload = message.get_payload()
    if isinstance(payload, list):
        yield from cast(list[email.message.Message], payload)


def _decode_json_fields(params: JsonDict) -> JsonDict:
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            # Undecodable JSON stays a string, so validation reports invalid_blocks_format.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _token(headers: dict[str, str], params: JsonDict) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    token = params.get("token")
    return token if isinstance(token, str) and token else None


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _api_ok(**fields: Any) -> _Reply:
    return _Reply(200, {"ok": True, **fields})


def _api_error(error: str) -> _Reply:
    return _Reply(200, {"ok": False, "error": error})


def _message_view(params: JsonDict, ts: str) -> JsonDict:
    message: JsonDict = {"type": "message", "user": "UBOT", "bot_id": "BBOT", "ts": ts}
    for key in ("text", "blocks", "attachments", "thread_ts", "metadata"):
        if key in params:
            message[key] = params[key]
    message.setdefault("text", "")
    return message


# --------------------------------------------------------------------- Block Kit validation


def _message_error(params: JsonDict, *, require_content: bool) -> JsonDict | None:
    """The Slack error body for an invalid message payload, or None if Slack would accept it."""
    text = params.get("text")
    blocks = params.get("blocks")
    if require_content and not text and not blocks and not params.get("attachments"):
        return {"ok": False, "error": "no_text"}
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return {"ok": False, "error": "msg_too_long"}
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        return {"ok": False, "error": "invalid_blocks_format"}
    errors = _block_errors(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    if errors:
        return {"ok": False, "error": "invalid_blocks", "errors": errors}
    return None


def _view_errors(view: JsonDict) -> list[str]:
    errors: list[str] = []
    if view.get("type") not in ("modal", "home"):
        errors.append("must be one of modal, home [json-pointer:/view/type]")
    for key in ("title", "submit", "close"):
        _check_text(errors, view.get(key), MAX_VIEW_TITLE, f"/view/{key}")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        errors.append("must provide an array [json-pointer:/view/blocks]")
    else:
        errors.extend(_block_errors(blocks, "/view/blocks", MAX_VIEW_BLOCKS))
    return errors


def _block_errors(blocks: list[Any], pointer: str, max_blocks: int) -> list[str]:
    errors: list[str] = []
    _check_count(errors, blocks, max_blocks, pointer)
    for i, block in enumerate(blocks):
        here = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type [json-pointer:{here}/type]")
            continue
        _check_len(errors, block.get("block_id"), MAX_BLOCK_ID, f"{here}/block_id")
        kind = block["type"]
        if kind == "section":
            _section_errors(errors, block, here)
        elif kind == "header":
            _check_text(errors, block.get("text"), MAX_HEADER_TEXT, f"{here}/text", required=True)
        elif kind in ("actions", "context"):
            limit = MAX_ACTIONS_ELEMENTS if kind == "actions" else MAX_CONTEXT_ELEMENTS
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                errors.append(f"must provide a non-empty array [json-pointer:{here}/elements]")
                continue
            _check_count(errors, elements, limit, f"{here}/elements")
            for j, element in enumerate(elements):
                _element_errors(errors, element, f"{here}/elements/{j}")
        elif kind == "input":
            _element_errors(errors, block.get("element"), f"{here}/element")
    return errors


def _section_errors(errors: list[str], block: JsonDict, here: str) -> None:
    text, fields = block.get("text"), block.get("fields")
    if text is None and not fields:
        errors.append(f"must provide either text or fields [json-pointer:{here}]")
    if text is not None:
        _check_text(errors, text, MAX_SECTION_TEXT, f"{here}/text", required=True)
    if isinstance(fields, list):
        _check_count(errors, fields, MAX_SECTION_FIELDS, f"{here}/fields")
        for j, item in enumerate(fields):
            _check_text(errors, item, MAX_SECTION_FIELD, f"{here}/fields/{j}", required=True)
    if "accessory" in block:
        _element_errors(errors, block["accessory"], f"{here}/accessory")


def _element_errors(errors: list[str], element: Any, here: str) -> None:
    if not isinstance(element, dict):
        return
    _check_len(errors, element.get("action_id"), MAX_ACTION_ID, f"{here}/action_id")
    if element.get("type") == "button":
        _check_text(errors, element.get("text"), MAX_BUTTON_TEXT, f"{here}/text", required=True)
        _check_len(errors, element.get("value"), MAX_BUTTON_VALUE, f"{here}/value")
        _check_len(errors, element.get("url"), MAX_URL, f"{here}/url")
    options = element.get("options")
    if isinstance(options, list):
        limit = MAX_OVERFLOW_OPTIONS if element.get("type") == "overflow" else MAX_OPTIONS
        _check_count(errors, options, limit, f"{here}/options")
        for j, option in enumerate(options):
            if isinstance(option, dict):
                _check_text(errors, option.get("text"), MAX_OPTION_TEXT, f"{here}/options/{j}/text")
                _check_len(errors, option.get("value"), MAX_OPTION_VALUE, f"{here}/options/{j}/value")


def _check_text(errors: list[str], obj: Any, limit: int, here: str, *, required: bool = False) -> None:
    """Check a text object's ``text`` (``{"type": ..., "text": ...}``) against ``limit`` chars."""
    if obj is None:
        if required:
            errors.append(f"missing required field: text [json-pointer:{here}]")
        return
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        errors.append(f"must be a text object [json-pointer:{here}]")
        return
    if required and not obj["text"]:
        errors.append(f"must be more than 0 characters [json-pointer:{here}/text]")
    _check_len(errors, obj["text"], limit, f"{here}/text")


def _check_count(errors: list[str], items: list[Any], limit: int, here: str) -> None:
    if len(items) > limit:
        errors.append(f"must provide an array of no more than {limit} items [json-pointer:{here}]")


def _check_len(errors: list[str], value: Any, limit: int, here: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.append(f"must be less than {limit + 1} characters [json-pointer:{here}]")
