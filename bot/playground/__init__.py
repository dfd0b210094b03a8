"""The local playground: a web page on 127.0.0.1 that stands in for Slack, on demo data.

`healthbot serve` starts it when no Slack credentials are set (and `healthbot serve --playground`
always). The page (`index.html`, `playground.js`, `playground.css` in this package) takes `/health ...` commands, renders the
Block Kit replies close to how Slack shows them, and sends button clicks back. Nothing is
short-circuited: the page's server side builds the form bodies Slack would send, signs them with a
per-run signing secret and POSTs them over real HTTP to the app's own `/slack/events`, so the same
Bolt listeners run as in production. What the bot sends to the Slack Web API (channel posts, DMs,
App Home, file uploads) and to `response_url`s lands in an in-process `FakeSlack`
(`bot.localslack`), which the page reads through `/playground/api/feed`.

Routes, beside the app's own `/slack/events`, `/healthz` and `/readyz`:

- `GET /`: the page; `GET /playground/static/<file>`: its script and style sheet.
- `POST /playground/api/command` `{"text": "/health atrisk"}` (the `/health` prefix is optional).
- `POST /playground/api/action` `{"action_id", "value", "block_id", "type", "selected_option",
  "message": {"ts", "channel", "is_ephemeral", "text", "blocks"}, "response_name"}`.
- `POST /playground/api/view` `{"view": {...}, "values": {...}}`: submit a modal.
- `POST /playground/api/home` `{}`: open the app's Home tab (an `app_home_opened` event).
- `GET /playground/api/feed?since=N`: what the bot sent since event index N.
- `GET /playground/api/file/<file_id>`: a file the bot uploaded (e.g. a trend chart).

The server binds 127.0.0.1 only, answers only requests addressed to it by that name or
`localhost` (no DNS rebinding), and takes JSON bodies only (no cross-site form posts). The signing
secret and the bot token never leave the process.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.demo import DemoSize, load_demo
from bot.localslack import RESPONSE_URL_METHOD, UPLOAD_METHOD, Call, FakeSlack
from bot.server import Environ, HttpServer, Route, StartResponse, make_wsgi
from bot.settings import Settings

__all__ = ["PLAYGROUND_CHANNEL", "PLAYGROUND_USER", "Playground", "serve_playground"]

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

PLAYGROUND_TEAM = "TPLAYGROUND"
PLAYGROUND_CHANNEL = "CPLAYGROUND"
PLAYGROUND_USER = "UPLAYGROUND"
PLAYGROUND_APP = "APLAYGROUND"
BOT_TOKEN = "xoxb-playground"

ASSETS = Path(__file__).parent  # index.html, playground.js, playground.css beside this file
STATIC_FILES = {
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
}
MAX_BODY = 1_000_000
# How long an action waits for response_url posts when the app sent nothing at all. Bolt runs the
# listeners before answering (process_before_response), so posts are normally there already.
RESPONSE_WAIT_SECONDS = 2.0

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{1,30}$")
_TS = re.compile(r"^\d{1,12}\.\d{1,6}$")
_IMAGE_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
_SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]
_PAGE_HEADERS = [
    *_SECURITY_HEADERS,
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' http: https: data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
]


class BadRequest(Exception):
    """A request the playground API refuses; the message is shown on the page."""


class AppFailed(Exception):
    """The app answered Slack's request with an error status; the message is shown on the page."""


class Playground:
    """The playground server: database (migrated, demo-seeded), fake Slack, Bolt app, page.

    ``start()`` serves in a background thread (tests use ``port=0``); ``stop()`` shuts it down.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        demo_size: DemoSize | None = None,
        today: dt.date | None = None,
        poll: float = 1.0,
    ) -> None:
        self.settings = settings
        self.host = host
        self.requested_port = port
        self.demo_size = demo_size or DemoSize()
        self.today = today
        self.poll = poll
        self.demo_loaded = False
        self.fake = FakeSlack()
        self._secret = secrets.token_hex(32)
        self._verifier = SignatureVerifier(self._secret)
        self._server: HttpServer | None = None
        self._http: httpx.Client | None = None
        self._engine: Engine | None = None
        self._counter = 0
        self._counter_lock = threading.Lock()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Migrate and seed the database, start the fake Slack and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("the playground is already running")
        factory = self._prepare_database()
        self.fake.start()
        try:
            from bot.app import create_app

            configured = self.settings.model_copy(
                update={
                    "slack_bot_token": SecretStr(BOT_TOKEN),
                    "slack_signing_secret": SecretStr(self._secret),
                    "slack_app_token": None,
                    "slack_api_url": self.fake.api_url,
                    # The one playground user may press every button.
                    "healthbot_admins": [],
                }
            )
            app = create_app(configured, factory=factory)
            routes: dict[str, Route] = {"/playground": self._api_route, "/": self._page_route}
            self._server = HttpServer(
                make_wsgi(app, factory, routes), host=self.host, port=self.requested_port, poll=self.poll
            )
            self._http = httpx.Client(timeout=30)
            self._server.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and release the ports; safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        if self._http is not None:
            self._http.close()
            self._http = None
        self.fake.stop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def wait(self) -> None:
        """Block while the server runs (until Ctrl-C)."""
        server = self._server
        thread = server.thread if server is not None else None
        while thread is not None and thread.is_alive():
            thread.join(timeout=0.5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the playground is not running; call start()")
        return self._server.port

    @property
    def url(self) -> str:
        """The page's address, e.g. ``http://127.0.0.1:3000/``."""
        return f"http://127.0.0.1:{self.port}/"

    def _prepare_database(self) -> sessionmaker[Session]:
        from bot.models import Shop

        db.upgrade(self.settings.database_url)
        self._engine = db.make_engine(self.settings.database_url)
        factory = db.session_factory(self._engine)
        with factory() as session:
            empty = session.query(Shop.shop_id).first() is None
        if empty:
            size = self.demo_size
            today = self.today or dt.datetime.now(self.settings.tz).date()
            log.info("empty database: loading the demo portfolio (%s shops, %s days)", size.shops, size.days)
            load_demo(factory, size, today)
            self.demo_loaded = True
        return factory

    # ----------------------------------------------------------------- talking to the app

    def _next(self, prefix: str) -> str:
        with self._counter_lock:
            self._counter += 1
            return f"{prefix}{self._counter}-{uuid.uuid4().hex[:8]}"

    def _post_to_app(
        self, body: str, content_type: str = "application/x-www-form-urlencoded"
    ) -> httpx.Response:
        """POST a body to the app's /slack/events, signed as Slack signs it."""
        assert self._http is not None and self._server is not None
        timestamp = str(int(time.time()))
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body) or ""
        return self._http.post(
            f"http://127.0.0.1:{self._server.port}/slack/events",
            content=body.encode(),
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature,
            },
        )

    def command(self, data: JsonDict) -> JsonDict:
        """Run a `/health` command as Slack would send it; return the reply and what followed."""
        text = _text(data.get("text"), "text").strip()
        if text.startswith("/"):
            name, _, rest = text.partition(" ")
            if name != "/health":
                raise BadRequest(f"{name} is not a command here; try /health help.")
            text = rest.strip()
        user = _slack_id(data.get("user_id"), PLAYGROUND_USER)
        response_name = _response_name(data.get("response_name")) or self._next("cmd")
        mark = len(self.fake.calls)
        body = urllib.parse.urlencode(
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
                "response_url": self.fake.response_url(response_name),
                "trigger_id": self._trigger_id(),
            }
        )
        reply = self._post_to_app(body)
        _check_status(reply, "/health")
        events, next_index = self.events(since=mark)
        return {
            "response_name": response_name,
            "message": _ack_message(reply),
            "events": events,
            "next": next_index,
        }

    def action(self, data: JsonDict) -> JsonDict:
        """Click a button (or pick an overflow/select option) as Slack would send it."""
        action_id = _text(data.get("action_id"), "action_id")
        if not action_id or len(action_id) > 255:
            raise BadRequest("action_id is required")
        kind = str(data.get("type") or "button")
        if kind not in ("button", "overflow", "static_select"):
            raise BadRequest(f"unsupported element type {kind}")
        user = _slack_id(data.get("user_id"), PLAYGROUND_USER)
        response_name = _response_name(data.get("response_name")) or self._next("act")
        action: JsonDict = {
            "action_id": action_id,
            "block_id": _text(data.get("block_id"), "block_id") or uuid.uuid4().hex[:5],
            "type": kind,
            "action_ts": f"{time.time():.6f}",
        }
        if kind == "button":
            if data.get("value") is not None:
                action["value"] = _text(data.get("value"), "value")
            if isinstance(data.get("text"), str):
                action["text"] = {"type": "plain_text", "text": data["text"], "emoji": True}
        else:
            option = data.get("selected_option")
            if not isinstance(option, dict) or not isinstance(option.get("value"), str):
                raise BadRequest("selected_option with a value is required")
            label = option.get("text")
            action["selected_option"] = {
                "text": label
                if isinstance(label, dict)
                else {"type": "plain_text", "text": str(label or "")},
                "value": option["value"],
            }
        payload: JsonDict = {
            "type": "block_actions",
            "user": {"id": user, "username": "you", "name": "you", "team_id": PLAYGROUND_TEAM},
            "api_app_id": PLAYGROUND_APP,
            "token": "playground",
            "team": {"id": PLAYGROUND_TEAM, "domain": "playground"},
            "enterprise": None,
            "is_enterprise_install": False,
            "trigger_id": self._trigger_id(),
            "actions": [action],
        }
        view = data.get("view")
        if isinstance(view, dict):
            # A button inside a modal or App Home: no channel, no response_url.
            view_id = _text(view.get("id"), "view.id")
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = _view_payload(view, data.get("values"))
        else:
            message = data.get("message") if isinstance(data.get("message"), dict) else {}
            assert isinstance(message, dict)
            channel = _slack_id(message.get("channel"), PLAYGROUND_CHANNEL)
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
            payload["channel"] = {
                "id": channel,
                "name": "playground" if channel == PLAYGROUND_CHANNEL else channel,
            }
            payload["response_url"] = self.fake.response_url(response_name)
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
        mark = len(self.fake.calls)
        reply = self._post_to_app(urllib.parse.urlencode({"payload": json.dumps(payload)}))
        _check_status(reply, "The button")
        # Bolt answers after the listeners ran, so their posts are normally recorded already; if
        # the app sent nothing at all, give a late (threaded) listener a moment.
        deadline = time.monotonic() + RESPONSE_WAIT_SECONDS
        while len(self.fake.calls) == mark and time.monotonic() < deadline:
            time.sleep(0.05)
        events, next_index = self.events(since=mark)
        return {"response_name": response_name, "events": events, "next": next_index}

    def submit_view(self, data: JsonDict) -> JsonDict:
        """Submit a modal: a view_submission with the inputs' state, as Slack sends it."""
        view = data.get("view")
        if not isinstance(view, dict):
            raise BadRequest("view is required")
        user = _slack_id(data.get("user_id"), PLAYGROUND_USER)
        payload: JsonDict = {
            "type": "view_submission",
            "team": {"id": PLAYGROUND_TEAM, "domain": "playground"},
            "user": {"id": user, "username": "you", "name": "you", "team_id": PLAYGROUND_TEAM},
            "api_app_id": PLAYGROUND_APP,
            "token": "playground",
            "trigger_id": self._trigger_id(),
            "view": _view_payload(view, data.get("values")),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        mark = len(self.fake.calls)
        reply = self._post_to_app(urllib.parse.urlencode({"payload": json.dumps(payload)}))
        _check_status(reply, "The form")
        ack: JsonDict = {}
        if reply.content.strip():
            try:
                parsed = reply.json()
                ack = parsed if isinstance(parsed, dict) else {}
            except ValueError:
                ack = {}
        events, next_index = self.events(since=mark)
        return {"ack": ack, "events": events, "next": next_index}

    def open_home(self, data: JsonDict) -> JsonDict:
        """Open the app's Home tab: the `app_home_opened` event Slack sends, as JSON."""
        user = _slack_id(data.get("user_id"), PLAYGROUND_USER)
        now = time.time()
        body = {
            "token": "playground",
            "team_id": PLAYGROUND_TEAM,
            "api_app_id": PLAYGROUND_APP,
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(now),
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D" + user,
                "tab": "home",
                "event_ts": f"{now:.6f}",
            },
        }
        mark = len(self.fake.calls)
        reply = self._post_to_app(json.dumps(body), "application/json")
        _check_status(reply, "App Home")
        events, next_index = self.events(since=mark)
        return {"events": events, "next": next_index}

    def _trigger_id(self) -> str:
        return f"{int(time.time())}.{secrets.randbelow(10**9)}.{uuid.uuid4().hex[:16]}"

    # ----------------------------------------------------------------- what the bot sent

    def events(self, since: int = 0) -> tuple[list[JsonDict], int]:
        """What the bot sent to Slack since event index ``since``, and the next index.

        An event's index is its position in the fake's call log, so it never changes.
        """
        calls = self.fake.calls
        # Taken after the calls: every accepted response_url call in `calls` has its entry here.
        responses = self.fake.responses
        events: list[JsonDict] = []
        answered = 0
        for index, call in enumerate(calls):
            if call.method == RESPONSE_URL_METHOD:
                if not call.ok:
                    continue
                name, body = responses[answered] if answered < len(responses) else ("", call.params)
                answered += 1
                if index >= since:
                    events.append(_response_event(index, name, body))
                continue
            if index < since or not call.ok:
                continue
            event = _api_event(index, call)
            if event is not None:
                events.append(event)
        return events, len(calls)

    def file(self, file_id: str) -> bytes | None:
        """The bytes of a file the bot uploaded, by Slack file ID."""
        uploads = self.fake.uploads
        stored = 0
        for call in self.fake.calls:
            if not call.ok or call.method not in (UPLOAD_METHOD, "files.upload"):
                continue
            if stored >= len(uploads):
                break
            data = uploads[stored]
            stored += 1
            if call.method == UPLOAD_METHOD:
                found = call.params.get("file_id")
            else:
                file = call.response.get("file")
                found = file.get("id") if isinstance(file, dict) else None
            if found == file_id:
                return data
        return None

    # ----------------------------------------------------------------- WSGI routes

    def _allowed_host(self, environ: Environ) -> bool:
        host = str(environ.get("HTTP_HOST", "")).lower()
        port = self._server.port if self._server is not None else self.requested_port
        return host in (f"127.0.0.1:{port}", f"localhost:{port}")

    def _page_route(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not self._allowed_host(environ):
            return _json(start_response, "403 Forbidden", {"error": "use http://127.0.0.1:PORT/"})
        if path not in ("/", "/index.html"):
            return _json(start_response, "404 Not Found", {"error": "not found"})
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return _json(start_response, "405 Method Not Allowed", {"error": "GET only"})
        data = (ASSETS / "index.html").read_bytes()
        return _bytes(start_response, "200 OK", data, "text/html; charset=utf-8", _PAGE_HEADERS)

    def _api_route(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not self._allowed_host(environ):
            return _json(start_response, "403 Forbidden", {"error": "use http://127.0.0.1:PORT/"})
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if path.startswith("/playground/static/"):
                name = path.removeprefix("/playground/static/")
                if name not in STATIC_FILES or method not in ("GET", "HEAD"):
                    return _json(start_response, "404 Not Found", {"error": "not found"})
                data = (ASSETS / name).read_bytes()
                return _bytes(start_response, "200 OK", data, STATIC_FILES[name], _SECURITY_HEADERS)
            if path == "/playground/api/feed" and method == "GET":
                query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
                since = query.get("since", ["0"])[0]
                if since == "end":  # a page that just opened: only where the feed is now
                    return _json(start_response, "200 OK", {"events": [], "next": len(self.fake.calls)})
                events, next_index = self.events(since=int(since) if since.isdigit() else 0)
                return _json(start_response, "200 OK", {"events": events, "next": next_index})
            if path.startswith("/playground/api/file/") and method == "GET":
                return self._file_route(path.removeprefix("/playground/api/file/"), start_response)
            handlers = {
                "/playground/api/command": self.command,
                "/playground/api/action": self.action,
                "/playground/api/view": self.submit_view,
                "/playground/api/home": self.open_home,
            }
            handler = handlers.get(path)
            if handler is None:
                return _json(start_response, "404 Not Found", {"error": "not found"})
            if method != "POST":
                return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
            return _json(start_response, "200 OK", handler(_read_json(environ)))
        except BadRequest as exc:
            return _json(start_response, "400 Bad Request", {"error": str(exc)})
        except AppFailed as exc:
            return _json(start_response, "502 Bad Gateway", {"error": str(exc)})
        except httpx.HTTPError as exc:
            log.warning("playground: the app did not answer (%s)", type(exc).__name__)
            return _json(start_response, "502 Bad Gateway", {"error": "The app did not answer; see the log."})
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("playground error ref=%s", reference)
            return _json(
                start_response,
                "500 Internal Server Error",
                {"error": f"Something went wrong in the playground (reference {reference})."},
            )

    def _file_route(self, file_id: str, start_response: StartResponse) -> Iterable[bytes]:
        data = self.file(file_id) if _SLACK_ID.match(file_id) else None
        if data is None:
            return _json(start_response, "404 Not Found", {"error": "no such file"})
        content_type = next(
            (kind for magic, kind in _IMAGE_TYPES.items() if data.startswith(magic)),
            "application/octet-stream",
        )
        headers = list(_SECURITY_HEADERS)
        if content_type == "application/octet-stream":
            headers.append(("Content-Disposition", f'attachment; filename="{file_id}"'))
        return _bytes(start_response, "200 OK", data, content_type, headers)


# --------------------------------------------------------------------- helpers


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string")
    if len(value) > 4000:
        raise BadRequest(f"{field} is too long")
    return value


def _slack_id(value: Any, default: str) -> str:
    return value if isinstance(value, str) and _SLACK_ID.match(value) else default


def _response_name(value: Any) -> str | None:
    return value if isinstance(value, str) and _NAME.match(value) else None


def _check_status(reply: httpx.Response, what: str) -> None:
    if reply.status_code != 200:
        # What Slack itself shows when an app answers with an error status.
        raise AppFailed(f'{what} failed with the error "http_status_{reply.status_code}"')


def _ack_message(reply: httpx.Response) -> JsonDict | None:
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


def _view_payload(view: JsonDict, values: Any) -> JsonDict:
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


def _message_fields(params: JsonDict) -> JsonDict:
    message: JsonDict = {"text": str(params.get("text") or "")}
    blocks = params.get("blocks")
    if isinstance(blocks, list):
        message["blocks"] = blocks
    attachments = params.get("attachments")
    if isinstance(attachments, list):
        message["attachments"] = attachments
    return message


def _response_event(index: int, name: str, body: JsonDict) -> JsonDict:
    event: JsonDict = {"index": index, "kind": "response", "name": name, **_message_fields(body)}
    for key in ("response_type", "replace_original", "delete_original", "thread_ts"):
        if key in body:
            event[key] = body[key]
    return event


def _api_event(index: int, call: Call) -> JsonDict | None:
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
            **_message_fields(params),
        }
    if method == "chat.postEphemeral":
        return {
            "index": index,
            "kind": "ephemeral",
            "channel": str(params.get("channel") or ""),
            "user": str(params.get("user") or ""),
            "ts": str(response.get("message_ts") or ""),
            **_message_fields(params),
        }
    if method == "chat.update":
        return {
            "index": index,
            "kind": "update",
            "channel": str(params.get("channel") or ""),
            "ts": str(params.get("ts") or ""),
            **_message_fields(params),
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
            "files": [_file_entry(f) for f in files if isinstance(f, dict)],
        }
    if method == "files.upload":
        file = response.get("file") if isinstance(response.get("file"), dict) else {}
        return {
            "index": index,
            "kind": "file",
            "channel": str(params.get("channels") or params.get("channel") or ""),
            "thread_ts": str(params.get("thread_ts") or ""),
            "text": str(params.get("initial_comment") or ""),
            "files": [_file_entry(file)] if file else [],
        }
    return None


def _file_entry(file: JsonDict) -> JsonDict:
    file_id = str(file.get("id") or "")
    return {
        "id": file_id,
        "title": str(file.get("title") or file.get("name") or file_id),
        "url": f"/playground/api/file/{urllib.parse.quote(file_id)}",
    }


def _read_json(environ: Environ) -> JsonDict:
    content_type = str(environ.get("CONTENT_TYPE", "")).split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise BadRequest("send JSON (Content-Type: application/json)")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise BadRequest("bad Content-Length") from exc
    if length > MAX_BODY:
        raise BadRequest("request too large")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _bytes(
    start_response: StartResponse, status: str, data: bytes, content_type: str, headers: list[tuple[str, str]]
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))), *headers])
    return [data]


def _json(start_response: StartResponse, status: str, body: JsonDict) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode()
    return _bytes(start_response, status, data, "application/json; charset=utf-8", _SECURITY_HEADERS)


def serve_playground(settings: Settings, *, port: int) -> int:
    """`healthbot serve` without Slack credentials (or with --playground): serve until Ctrl-C."""
    playground = Playground(settings, port=port)
    if not settings.has_slack_credentials:
        print("No Slack credentials set: starting the local playground instead.")
    try:
        playground.start()
    except OSError as exc:
        print(f"healthbot: cannot serve the playground on port {port}: {exc.strerror or exc}")
        return 2
    try:
        if playground.demo_loaded:
            print("Loaded the demo portfolio into the empty database.")
        print(f"Playground: {playground.url} (demo data; no Slack needed)", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        playground.wait()
    except KeyboardInterrupt:
        pass
    finally:
        playground.stop()
    return 0
