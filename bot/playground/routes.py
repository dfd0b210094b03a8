"""The playground's web routes, a Flask blueprint beside the app's own `/slack/events`:

- `GET /`: the page; `GET /playground/static/<file>`: its script and style sheet.
- `POST /playground/api/command` `{"text": "/health atrisk"}` (the `/health` prefix is optional).
- `POST /playground/api/action` `{"action_id", "value", "block_id", "type", "selected_option",
  "message": {"ts", "channel", "is_ephemeral", "text", "blocks"}, "response_name"}`.
- `POST /playground/api/view` `{"view": {...}, "values": {...}}`: submit a modal.
- `POST /playground/api/home` `{}`: open the app's Home tab (an `app_home_opened` event).
- `POST /playground/api/upload` `{"files": [{"name", "content" (base64)}]}`: drop files into the
  bot's DM (stored in the fake Slack, announced by a `message` event), imported as in Slack.
- `POST /playground/api/digests` `{}`: run the due digests now (no scheduler runs here); what was
  posted, and per channel what happened.
- `GET /playground/api/workspace`: the playground's channels and people (ID -> name).
- `GET /playground/api/feed?since=N`: what the bot sent since event index N.
- `GET /playground/api/file/<file_id>`: a file the bot uploaded (e.g. a trend chart).

The server binds 127.0.0.1 only, answers only requests addressed to it by that name or
`localhost` (no DNS rebinding), and takes JSON bodies only (no cross-site form posts). The signing
secret and the bot token never leave the process.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from flask import Blueprint, Response, request

from bot.playground.payloads import SLACK_ID, AppFailed, BadRequest

if TYPE_CHECKING:
    from bot.playground.core import Playground

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
ASSETS = Path(__file__).parent  # index.html, playground.js, playground.css beside this file
STATIC_FILES = {
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
}
MAX_BODY = 1_000_000
MAX_UPLOAD_BODY = 40_000_000  # base64 of files up to the bot's own limit (the bot refuses more)
_IMAGE_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_PAGE_HEADERS = {
    **_SECURITY_HEADERS,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' http: https: data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


def _json(status: int, body: JsonDict) -> Response:
    data = json.dumps(body, ensure_ascii=False)
    return Response(
        data, status=status, content_type="application/json; charset=utf-8", headers=_SECURITY_HEADERS
    )


def _read_json(limit: int = MAX_BODY) -> JsonDict:
    if request.mimetype != "application/json":
        raise BadRequest("send JSON (Content-Type: application/json)")
    if (request.content_length or 0) > limit:
        raise BadRequest("request too large")
    try:
        data = json.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def blueprint(playground: Playground) -> Blueprint:
    routes = Blueprint("playground", __name__)

    @routes.before_request
    def allowed_host() -> Response | None:
        host = request.host.lower()
        if host not in (f"127.0.0.1:{playground.port}", f"localhost:{playground.port}"):
            return _json(403, {"error": "use http://127.0.0.1:PORT/"})
        return None

    @routes.get("/")
    @routes.get("/index.html")
    def page() -> Response:
        data = (ASSETS / "index.html").read_bytes()
        return Response(data, content_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)

    @routes.get("/playground/static/<name>")
    def static_file(name: str) -> Response:
        if name not in STATIC_FILES:
            return _json(404, {"error": "not found"})
        return Response(
            (ASSETS / name).read_bytes(), content_type=STATIC_FILES[name], headers=_SECURITY_HEADERS
        )

    @routes.get("/playground/api/feed")
    def feed() -> Response:
        since = request.args.get("since", "0")
        if since == "end":  # a page that just opened: only where the feed is now
            return _json(200, {"events": [], "next": len(playground.fake.calls)})
        events, next_index = playground.events(since=int(since) if since.isdigit() else 0)
        return _json(200, {"events": events, "next": next_index})

    @routes.get("/playground/api/workspace")
    def workspace() -> Response:
        return _json(200, playground.workspace())

    @routes.get("/playground/api/file/<file_id>")
    def file(file_id: str) -> Response:
        data = playground.file(file_id) if SLACK_ID.match(file_id) else None
        if data is None:
            return _json(404, {"error": "no such file"})
        content_type = next(
            (kind for magic, kind in _IMAGE_TYPES.items() if data.startswith(magic)),
            "application/octet-stream",
        )
        headers = dict(_SECURITY_HEADERS)
        if content_type == "application/octet-stream":
            headers["Content-Disposition"] = f'attachment; filename="{file_id}"'
        return Response(data, content_type=content_type, headers=headers)

    def api(handler: Callable[[JsonDict], JsonDict], limit: int = MAX_BODY) -> Callable[[], Response]:
        def route() -> Response:
            try:
                return _json(200, handler(_read_json(limit)))
            except BadRequest as exc:
                return _json(400, {"error": str(exc)})
            except AppFailed as exc:
                return _json(502, {"error": str(exc)})
            except httpx.HTTPError as exc:
                log.warning("playground: the app did not answer (%s)", type(exc).__name__)
                return _json(502, {"error": "The app did not answer; see the log."})
            except Exception:
                reference = uuid.uuid4().hex[:8]
                log.exception("playground error ref=%s", reference)
                return _json(
                    500, {"error": f"Something went wrong in the playground (reference {reference})."}
                )

        return route

    for path, handler in (
        ("command", playground.command),
        ("action", playground.action),
        ("view", playground.submit_view),
        ("home", playground.open_home),
        ("digests", playground.run_digests),
    ):
        routes.add_url_rule(f"/playground/api/{path}", f"api_{path}", api(handler), methods=["POST"])
    routes.add_url_rule(
        "/playground/api/upload", "api_upload", api(playground.upload, MAX_UPLOAD_BODY), methods=["POST"]
    )

    @routes.app_errorhandler(404)
    def not_found(_: Exception) -> Response:
        return _json(404, {"error": "not found"})

    @routes.app_errorhandler(405)
    def not_allowed(_: Exception) -> Response:
        return _json(405, {"error": "method not allowed"})

    return routes
