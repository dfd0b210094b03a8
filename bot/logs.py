"""Logging: one line per event, never a request body, token or secret.

Text that came from outside (a shop name, a command, an error message) may hold newlines or
control characters; the formatter escapes them, so nothing a sender types can forge a log line.
"""

from __future__ import annotations

import logging
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Libraries that would log request bodies or every request at INFO.
QUIET = {
    "slack_bolt": logging.WARNING,
    "slack_sdk": logging.WARNING,
    "httpx": logging.WARNING,
    "werkzeug": logging.WARNING,
}


def _escape(text: str) -> str:
    return _CONTROL.sub(lambda m: "\\n" if m.group() == "\n" else f"\\x{ord(m.group()):02x}", text)


class OneLineFormatter(logging.Formatter):
    """The usual format, with the message (and any traceback) kept on one line."""

    def format(self, record: logging.LogRecord) -> str:
        message = _escape(record.getMessage())
        line = f"{self.formatTime(record)} {record.levelname} {record.name}: {message}"
        if record.exc_info:
            line += " | " + _escape(self.formatException(record.exc_info))
        return line


def configure(*, verbose: bool = False) -> None:
    """Once, for the `healthbot` process: one-line records on stderr; chatty libraries quiet."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name, level in {**QUIET, "alembic": logging.WARNING}.items():
        logging.getLogger(name).setLevel(logging.DEBUG if verbose and name != "alembic" else level)
