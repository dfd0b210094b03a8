"""Pacing this process's messages to each channel by Slack's limit (about one a second)."""

from __future__ import annotations

import threading
import time


class ChannelPacer:
    """Spaces this process's messages to one channel by Slack's limit (about one a second), so
    posting waits its turn instead of running into 429s. A cache of timings, not state: another
    replica's posts are still covered by the client's Retry-After handling."""

    def __init__(self, interval: float = 1.05) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def next_slot(self, channel: str) -> float:
        with self._lock:
            return self._next.get(channel, 0.0)

    def wait(self, channel: str) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(channel, 0.0))
            self._next[channel] = slot + self.interval  # reserve: the next caller waits after us
        if slot > now:
            time.sleep(slot - now)


PACER = ChannelPacer()
