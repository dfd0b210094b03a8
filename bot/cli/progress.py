"""The import progress bar: rows, rows/s and time left, drawn on the terminal once an import has
taken a second, and never when the output is not a terminal (cron, pipes, logs)."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from bot.ingest.formats import ImportResult
from bot.ingest.readers import Opened

SHOW_AFTER_SECONDS = 1.0


class ImportBar:
    """A `bot.ingest.loader.Progress` that draws one bar per file with rich."""

    def __init__(self, console: Console | None = None, *, show_after: float = SHOW_AFTER_SECONDS) -> None:
        self.console = console or Console(stderr=True)
        self.show_after = show_after
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._started = 0.0

    def start(self, opened: Opened) -> None:
        self._started = time.monotonic()
        self._task = None

    def advance(self, opened: Opened, rows: int) -> None:
        if not self.console.is_terminal:
            return
        elapsed = time.monotonic() - self._started
        if self._task is None:
            if elapsed < self.show_after:
                return
            self._task = self._bar().add_task(opened.name, total=opened.total, rows=0, rate=0.0)
        assert self._progress is not None
        self._progress.update(
            self._task, completed=opened.position(), rows=rows, rate=rows / elapsed if elapsed > 0 else 0.0
        )

    def finish(self, opened: Opened, result: ImportResult) -> None:
        if self._progress is not None and self._task is not None:
            task = self._progress.tasks[-1]
            self._progress.update(self._task, completed=task.total or opened.position())
        self._task = None

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _bar(self) -> Progress:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[rows]:,} rows"),
                TextColumn("{task.fields[rate]:,.0f} rows/s"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._progress.start()
        return self._progress
