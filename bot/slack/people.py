"""People's own time zones (`users.info`), so a time on a card reads in the viewer's zone."""

from __future__ import annotations

import logging
import threading
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)
CACHE_SECONDS = 3600


class People:
    def __init__(self, client: WebClient) -> None:
        # A quick look-up: a reply waits for it, so no retries and a short timeout.
        self._client = WebClient(token=client.token, base_url=client.base_url, timeout=2, retry_handlers=[])
        self._cache: dict[str, tuple[float, ZoneInfo | None]] = {}
        self._lock = threading.Lock()

    def zone(self, user_id: str) -> ZoneInfo | None:
        """The person's Slack time zone, or None when Slack does not say (the bot's zone applies)."""
        with self._lock:
            cached = self._cache.get(user_id)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        zone: ZoneInfo | None = None
        try:
            name = (self._client.users_info(user=user_id).get("user") or {}).get("tz")
            zone = ZoneInfo(name) if isinstance(name, str) and name else None
        except (SlackApiError, SlackClientError, OSError, ZoneInfoNotFoundError, ValueError) as exc:
            log.info("no time zone for %s: %s", user_id, type(exc).__name__)
        with self._lock:
            self._cache[user_id] = (time.monotonic(), zone)
        return zone
