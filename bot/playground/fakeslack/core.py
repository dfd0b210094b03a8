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
(``slack.response_url("name")``), the external file-upload URL used by ``files_upload_v2``, and
the download URLs of files people shared (``share_file``, ``files.info``: see ``files``),
enforces the Block Kit limits that make real Slack answer ``invalid_blocks``, and can inject
HTTP 500s, HTTP 429s, and Slack's one-message-per-second-per-channel rate limit.
"""

from __future__ import annotations

import collections
import json
import threading
import time
import urllib.parse
from types import TracebackType
from typing import Self

from bot.playground.fakeslack.blockkit import JsonDict, message_error
from bot.playground.fakeslack.conversations import CONVERSATION_METHODS, ConversationMethods
from bot.playground.fakeslack.files import DOWNLOAD_METHOD, DOWNLOAD_PREFIX, FILE_METHODS, FileMethods
from bot.playground.fakeslack.methods import METHODS, WebApiMethods
from bot.playground.fakeslack.wire import (
    Call,
    Handler,
    Injected,
    Reply,
    Server,
    api_error,
    decode_json_fields,
    parse_body,
    parse_form,
    token_of,
)

# Pseudo-methods under which the non-Web-API endpoints are recorded (and can take injected failures).
RESPONSE_URL_METHOD = "response_url"
UPLOAD_METHOD = "upload"


class FakeSlack(ConversationMethods, FileMethods, WebApiMethods):
    """A fake Slack Web API server; see the module docstring.

    Configuration (may be changed while running): ``usergroups`` (group id -> member ids),
    ``users`` (user id -> fields merged into the users.info answer), ``per_channel_rate``
    (allowed chat.postMessage calls per second per channel, ``None`` for unlimited).
    """

    def __init__(self) -> None:
        self.usergroups: dict[str, list[str]] = {}
        self.users: dict[str, JsonDict] = {}
        self.channels: dict[str, JsonDict] = {}  # see ConversationMethods
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
        self._injected: dict[str, collections.deque[Injected]] = collections.defaultdict(collections.deque)
        self._last_post: dict[str, float] = {}
        self._issued_files: dict[str, JsonDict] = {}
        self._shared_files: dict[str, JsonDict] = {}  # files people shared (files.py)
        self._shared_content: dict[str, bytes] = {}
        self._ts_counter = 0
        self._id_counter = 0

        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Bind to a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeSlack is already running")
        server = Server(("127.0.0.1", 0), Handler)
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
            self._shared_files.clear()
            self._shared_content.clear()

    # ----------------------------------------------------------------- failure injection

    def fail_next(self, method: str, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP ``status`` and ``internal_error``."""
        with self._lock:
            for _ in range(times):
                self._injected[method].append(Injected(status=status, error="internal_error"))

    def slow_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Do the next ``times`` calls' work (a post is recorded) but answer only after ``seconds``:
        a client with a shorter timeout gives up on a message Slack did accept."""
        with self._lock:
            for _ in range(times):
                self._injected[method].append(Injected(status=200, error="", after="slow", seconds=seconds))

    def reset_next(self, method: str, times: int = 1) -> None:
        """Do the next ``times`` calls' work, then drop the connection without an answer."""
        with self._lock:
            for _ in range(times):
                self._injected[method].append(Injected(status=200, error="", after="reset"))

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP 429 and ``Retry-After``."""
        with self._lock:
            for _ in range(times):
                self._injected[method].append(
                    Injected(status=429, error="ratelimited", retry_after=retry_after)
                )

    # ----------------------------------------------------------------- request handling

    def _handle(self, http_method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """Route one request and record it. Runs on a server thread."""
        now = time.monotonic()
        url = urllib.parse.urlsplit(path)
        route = url.path
        query = decode_json_fields(parse_form(url.query))

        if route.startswith("/api/"):
            kind, name = "api", route.removeprefix("/api/")
        elif route.startswith("/response/"):
            kind, name = "response", urllib.parse.unquote(route.removeprefix("/response/"))
        elif route.startswith("/upload/"):
            kind, name = "upload", route.removeprefix("/upload/")
        elif route.startswith(DOWNLOAD_PREFIX) and http_method == "GET":
            with self._lock:
                call = Call(DOWNLOAD_METHOD, {"path": route}, headers, now)
                call.token = token_of(headers, {})
                return self._finish(call, self._download(route, headers))
        else:
            return Reply(404, "not_found")

        if kind == "upload":
            params: JsonDict = {"file_id": name, "size": len(body), "head": body[:64]}
        else:
            try:
                params = {**query, **parse_body(headers.get("content-type", ""), body)}
            except ValueError as exc:
                params = dict(query)
                if kind == "api":
                    return self._finish(Call(name, params, headers, now), api_error("invalid_form_data"))
                return self._finish(Call(RESPONSE_URL_METHOD, params, headers, now), Reply(400, str(exc)))

        method = {"api": name, "response": RESPONSE_URL_METHOD, "upload": UPLOAD_METHOD}[kind]
        call = Call(method=method, params=params, headers=headers, at=now)

        # Hold the lock for the whole dispatch: handlers are tiny, and it makes rate-limit
        # bookkeeping and id counters race-free under the threading server.
        with self._lock:
            injected = self._injected.get(method)
            after: Injected | None = None
            if injected and injected[0].after is not None:
                after = injected.popleft()
            elif injected:
                failure = injected.popleft()
                reply_headers = (
                    {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                )
                return self._finish(
                    call, Reply(failure.status, {"ok": False, "error": failure.error}, reply_headers)
                )

            if kind == "response":
                return self._finish(call, self._response_url(name, params))
            if kind == "upload":
                return self._finish(call, self._upload(name, body))

            handler = CONVERSATION_METHODS.get(method) or FILE_METHODS.get(method) or METHODS.get(method)
            if handler is None:
                return self._finish(call, api_error("unknown_method"))

            call.token = token_of(headers, params)
            if call.token is None:
                return self._finish(call, api_error("not_authed"))
            if not call.token.startswith(("xox", "xapp-")):
                return self._finish(call, api_error("invalid_auth"))

            reply = handler(self, params, now)
            if after is not None:
                reply.delay, reply.reset = after.seconds, after.after == "reset"
            return self._finish(call, reply)

    def _finish(self, call: Call, reply: Reply) -> Reply:
        """Fill in the outcome on ``call``, record it and wake up wait_for()."""
        call.status = reply.status
        if isinstance(reply.body, dict):
            call.response = reply.body
            call.ok = bool(reply.body.get("ok")) and reply.status == 200
            error = reply.body.get("error")
            call.error = str(error) if error is not None else None
        else:
            call.ok = reply.status == 200
            call.error = None if call.ok else str(reply.body)
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        return reply

    def _record_server_error(self, message: str) -> None:
        with self._lock:
            self._server_errors.append(message)

    # ----------------------------------------------------------------- ids

    def _next_ts(self) -> str:
        # Real ts values are "seconds.micro" of the time of posting, unique per channel.
        self._ts_counter = max(self._ts_counter + 100, int(time.time() * 1_000_000))
        seconds, micros = divmod(self._ts_counter, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _next_id(self, prefix: str) -> str:
        self._id_counter += 1
        return f"{prefix}{self._id_counter:08d}"

    # ----------------------------------------------------------------- non-API endpoints

    def _response_url(self, name: str, params: JsonDict) -> Reply:
        # Real response_url webhooks answer plain text: "ok", or the error name with HTTP 400.
        if "payload" in params and isinstance(params["payload"], str):
            try:
                params = json.loads(params["payload"])
            except ValueError:
                return Reply(400, "invalid_payload")
        if not isinstance(params, dict):
            return Reply(400, "invalid_payload")
        if not params.get("delete_original"):
            error = message_error(params, require_content=True)
            if error is not None:
                return Reply(400, error["error"])
        self._responses.append((name, params))
        return Reply(200, "ok")

    def _upload(self, file_id: str, body: bytes) -> Reply:
        if file_id not in self._issued_files:
            return Reply(404, "file_not_found")
        self._issued_files[file_id]["uploaded"] = True
        self._uploads.append(body)
        return Reply(200, f"OK - {len(body)}")
