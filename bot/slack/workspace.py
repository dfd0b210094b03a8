"""The agency's own workspace (`auth.test`: the team the bot token belongs to, and its Enterprise
Grid organisation), and telling its members from outsiders in shared channels."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Home:
    team_id: str
    name: str
    enterprise_id: str | None = None


class Workspace:
    """Asks Slack once per process; a failed answer is not kept, so the next request asks again."""

    def __init__(self, client: WebClient) -> None:
        # Asked on the request path before the ack: one try with a short timeout, never the
        # retries with backoff of the bot's client (three 500s took 5 s, past Slack's 3).
        self._client = WebClient(token=client.token, base_url=client.base_url, timeout=2, retry_handlers=[])
        self._home: Home | None = None
        self._lock = threading.Lock()

    def home(self) -> Home | None:
        with self._lock:
            if self._home is not None:
                return self._home
        try:
            answer = self._client.auth_test()
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not read the bot's workspace (auth.test): %s", type(exc).__name__)
            return None
        home = Home(str(answer.get("team_id") or ""), str(answer.get("team") or "this workspace"),
                    answer.get("enterprise_id") or None)  # fmt: skip
        with self._lock:
            self._home = home
        return home

    def outsider(self, teams: Iterable[str | None], enterprise_id: str | None) -> bool | None:
        """True when any team named in a request is not the agency's (and not of its Enterprise
        Grid organisation); None when the agency's own team cannot be read right now."""
        home = self.home()
        if home is None or not home.team_id:
            return None
        if home.enterprise_id and enterprise_id == home.enterprise_id:
            return False
        return any(team and team != home.team_id for team in teams)
