"""The fake's HTTP side: recorded calls, replies, the threading server, and request parsing."""

from __future__ import annotations

import contextlib
import email.message
import email.parser
import email.policy
import json
import socket
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from bot.playground.fakeslack.core import FakeSlack

JsonDict = dict[str, Any]

# Form fields that slack_sdk (or hand-written callers) send as JSON-encoded strings.
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")


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
class Injected:
    """A failure to give one call instead of its answer. `after` is None for an error answer;
    "slow" or "reset" let the call do its work (a message is posted) and then answer only after
    `seconds`, or drop the connection without answering."""

    status: int
    error: str
    retry_after: int | None = None
    after: str | None = None
    seconds: float = 0.0


@dataclass
class Reply:
    status: int
    body: JsonDict | str | bytes  # bytes (a file) go out with the Content-Type in `headers`
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    reset: bool = False  # drop the connection instead of answering


class Server(ThreadingHTTPServer):
    daemon_threads = True  # don't let a stuck client connection block interpreter exit
    request_queue_size = 128  # many workers posting at once queue up, as at Slack, not get refused
    fake: FakeSlack


class Handler(BaseHTTPRequestHandler):
    server: Server

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
            reply = Reply(500, {"ok": False, "error": "fake_slack_error", "detail": str(exc)})
        if reply.delay:
            time.sleep(reply.delay)
        if reply.reset:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        headers = dict(reply.headers)
        if isinstance(reply.body, dict):
            payload = json.dumps(reply.body).encode()
            content_type = "application/json; charset=utf-8"
        elif isinstance(reply.body, bytes):
            payload = reply.body
            content_type = "application/octet-stream"
        else:
            payload = reply.body.encode()
            content_type = "text/plain; charset=utf-8"
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            self.send_response(reply.status)
            self.send_header("Content-Type", headers.pop("Content-Type", content_type))
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)


def parse_body(content_type: str, body: bytes) -> JsonDict:
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
        return decode_json_fields(parse_multipart(content_type, body))
    return decode_json_fields(parse_form(body.decode("utf-8")))


def parse_form(text: str) -> JsonDict:
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
    return dict(pairs)


def parse_multipart(content_type: str, body: bytes) -> JsonDict:
    # The email package is the stdlib's remaining multipart parser (cgi is gone in 3.13).
    raw = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    params: JsonDict = {}
    for part in iter_parts(message):
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        params[name] = data if part.get_filename() is not None else data.decode("utf-8")
    return params


def iter_parts(message: email.message.Message) -> Iterator[email.message.Message]:
    payload = message.get_payload()
    if isinstance(payload, list):
        yield from cast(list[email.message.Message], payload)


def decode_json_fields(params: JsonDict) -> JsonDict:
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            # Undecodable JSON stays a string, so validation reports invalid_blocks_format.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def token_of(headers: dict[str, str], params: JsonDict) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    token = params.get("token")
    return token if isinstance(token, str) and token else None


def as_str(value: Any) -> str:
    return "" if value is None else str(value)


def api_ok(**fields: Any) -> Reply:
    return Reply(200, {"ok": True, **fields})


def api_error(error: str) -> Reply:
    return Reply(200, {"ok": False, "error": error})


def message_view(params: JsonDict, ts: str) -> JsonDict:
    message: JsonDict = {"type": "message", "user": "UBOT", "bot_id": "BBOT", "ts": ts}
    for key in ("text", "blocks", "attachments", "thread_ts", "metadata"):
        if key in params:
            message[key] = params[key]
    message.setdefault("text", "")
    return message
