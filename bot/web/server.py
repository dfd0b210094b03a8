"""Serving the web app: gunicorn with several worker processes in production (every core), and
werkzeug's threaded server on a local port for the playground and tests. Both start and stop
through their public APIs only.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, Self

from flask import Flask
from gunicorn.app.base import BaseApplication
from werkzeug.serving import BaseWSGIServer, make_server

log = logging.getLogger(__name__)


def default_workers() -> int:
    """One worker process per core, at least two (one may be busy with a slow request)."""
    return max(2, os.cpu_count() or 1)


class Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn run from Python: `load` builds the Flask app in each worker, after the fork, so no
    database connection or thread is shared between processes. `hooks` are gunicorn server hooks
    (`when_ready` runs in the master, `post_fork` in each new worker)."""

    def __init__(self, load: Callable[[], Flask], options: dict[str, Any]) -> None:
        self._load = load
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """The app, its objects then left out of the collector's full passes (`gc.freeze`): a
        worker holds ~150,000 of them, and a full pass over them took ~80 ms of some request."""
        app = self._load()
        gc.freeze()
        return app


def serve_production(
    load: Callable[[], Flask], *, port: int, workers: int | None = None, hooks: dict[str, Any] | None = None
) -> None:
    """Serve in the foreground on 0.0.0.0:`port` until stopped (SIGTERM or Ctrl-C)."""
    options: dict[str, Any] = {
        "bind": f"0.0.0.0:{port}",
        "workers": workers or default_workers(),
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,  # one line per request would be noise; errors still go to the log
        "errorlog": "-",
        "loglevel": "warning",
        **(hooks or {}),
    }
    Gunicorn(load, options).run()


class LocalServer:
    """werkzeug's threaded WSGI server on a local port, in a background thread (port 0: any free one)."""

    def __init__(self, web: Flask, *, host: str = "127.0.0.1", port: int = 0) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self._server: BaseWSGIServer = make_server(host, port, web, threaded=True)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="healthbot-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop accepting, finish the requests in flight, and release the port; safe to call twice."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
