"""HTTP mode: one WSGI application for Slack (`POST /slack/events`), health checks, and webhooks.

Served by waitress, a production WSGI server (multi-threaded, pure Python), never a dev server.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.orm import Session, sessionmaker

from bot import db

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Route = Callable[[Environ, StartResponse], Iterable[bytes]]


def json_reply(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    """A small JSON answer for the health checks and webhooks."""
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def make_wsgi(
    app: App, factory: sessionmaker[Session], extra_routes: dict[str, Route] | None = None
) -> WsgiApp:
    slack = SlackRequestHandler(app, path="/slack/events")
    engine = factory.kw["bind"]
    routes = dict(extra_routes or {})

    def application(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events":
            if method != "POST":
                return json_reply(start_response, "405 Method Not Allowed", {"error": "POST only"})
            return slack(environ, start_response)
        if path == "/healthz":
            return json_reply(start_response, "200 OK", {"status": "ok"})
        if path == "/readyz":
            if db.ping(engine):
                return json_reply(start_response, "200 OK", {"status": "ready"})
            return json_reply(start_response, "503 Service Unavailable", {"status": "database unreachable"})
        for prefix, route in routes.items():
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return route(environ, start_response)
        return json_reply(start_response, "404 Not Found", {"error": "not found"})

    return application


class HttpServer:
    """A waitress server on a real socket, in a background thread (tests) or in the foreground."""

    def __init__(
        self,
        application: WsgiApp,
        *,
        host: str = "0.0.0.0",
        port: int = 3000,
        threads: int = 8,
        poll: float = 1.0,
    ) -> None:
        # `poll` bounds how long stop() waits for waitress's select loop to notice.
        self.server = waitress.create_server(
            application, host=host, port=port, threads=threads, ident="healthbot", asyncore_loop_timeout=poll
        )
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve_forever(self) -> None:
        self.server.run()

    def start(self) -> HttpServer:
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="healthbot-http")
        self.thread.start()
        return self

    def stop(self) -> None:
        # Close every channel from inside waitress's own loop (via its trigger): an empty socket map
        # ends the loop, and no select() ever sees a descriptor closed under it.
        def close_all() -> None:
            for channel in list(self.server._map.values()):
                channel.close()

        if self.thread and self.thread.is_alive():
            self.server.trigger.pull_trigger(close_all)
        else:
            close_all()
        self.server.task_dispatcher.shutdown()
        if self.thread:
            self.thread.join(timeout=5)
