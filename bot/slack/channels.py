"""Which channels are shared with another organisation (Slack Connect): portfolio-wide content
never goes there, and a digest cannot be subscribed there."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)
CACHE_SECONDS = 300


class Channels:
    def __init__(self, client: WebClient, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def shared(self, channel: str) -> bool | None:
        """True when the channel is shared with another organisation (or about to be); None when
        Slack would not say (the bot cannot see it): callers treat that as shared."""
        with self._lock:
            cached = self._cache.get(channel)
        if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            info = self._client.conversations_info(channel=channel).get("channel") or {}
        except SlackApiError as exc:
            log.warning("conversations.info %s: %s", channel, exc.response.get("error"))
            return None
        except (SlackClientError, OSError) as exc:
            log.warning("conversations.info %s failed: %s", channel, type(exc).__name__)
            return None
        shared = bool(
            info.get("is_ext_shared")
            or info.get("is_pending_ext_shared")
            or (info.get("is_shared") and not info.get("is_org_shared"))
        )
        with self._lock:
            self._cache[channel] = (time.monotonic(), shared)
        return shared
