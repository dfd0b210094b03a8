"""Logging: one line per event, whatever text it carries (bot/logs.py)."""

from __future__ import annotations

import logging
import subprocess
import sys

from bot.logs import OneLineFormatter


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("bot.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_newline_or_control_character_in_a_message_stays_on_one_line() -> None:
    line = OneLineFormatter().format(_record("shop %s refused", "Glow\n2026-01-01 ERROR bot: forged\r\x00"))
    assert "\n" not in line and "\r" not in line and "\x00" not in line
    assert "Glow\\n2026-01-01 ERROR bot: forged\\x0d\\x00 refused" in line


def test_a_traceback_is_kept_on_the_same_line() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError as exc:
        line = OneLineFormatter().format(_record("failed", exc=exc))
    assert "\n" not in line and "ValueError: boom\\nsecond line" in line


def test_the_command_line_logs_one_line_per_event_on_stderr(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Database is at revision" in result.stdout
    assert all(" INFO " in line or " WARNING " in line for line in result.stderr.splitlines())
