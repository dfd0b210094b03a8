"""Posting a message exactly once, even when Slack times out or drops the connection after it
accepted the message, or the process dies between posting and recording.

Every post carries Slack message metadata (`event_type` "healthbot_post", `event_payload` with the
claim ID). When the outcome of a post is unknown, the poster reads the channel's recent history
(or the thread's replies) for that claim ID before anything is posted again. `chat.postMessage`
goes through a client that retries only a 429 (a message Slack refused), never a dropped
connection or a server error, after which the message may well exist.
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy.orm import Session, sessionmaker

from bot.services import posts

log = logging.getLogger(__name__)

EVENT_TYPE = "healthbot_post"
SETTLE_MARGIN = dt.timedelta(minutes=2)  # clocks differ; look a little before the claim
HISTORY_PAGE = 200
HISTORY_PAGES = 10  # a busy channel's day, at most
# What a post can fail with when nobody knows whether Slack accepted it.
UNKNOWN_OUTCOME = (SlackClientError, OSError, urllib.error.URLError, http.client.HTTPException, TimeoutError)


class Outcome(StrEnum):
    POSTED = "posted"  # posted now, or found posted (by an earlier attempt)
    BUSY = "busy"  # another worker holds the claim
    FAILED = "failed"  # Slack refused it: nothing was posted
    UNKNOWN = "unknown"  # no answer and not in the history yet: the claim stays for a later try


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    ts: str | None = None
    error: str | None = None
    channel: str | None = None  # where it went, when the caller chose it late (a DM)


def metadata(claim_id: str) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"claim": claim_id}}


class Poster:
    """`post` for messages claimed in `post_claims`; `deliver` for callers that keep their own
    claim (the digest keeps one per subscription and local day)."""

    def __init__(self, client: WebClient, factory: sessionmaker[Session], *, worker: str) -> None:
        # The same token, URL and timeout as the app's client, but a dropped connection or a 5xx
        # is never retried blindly: only a 429 (Slack refused the message) is.
        self.client = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
        )
        self.reader = client  # reading history is safe to retry: the app's client does
        self.factory = factory
        self.worker = worker

    def post(
        self,
        key: str,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        pace: Callable[[str], None] | None = None,
        **extra: Any,
    ) -> Delivery:
        claim = posts.claim(self.factory, key, channel=channel, thread_ts=thread_ts, worker=self.worker)
        if claim.state is posts.State.POSTED:
            return Delivery(Outcome.POSTED, claim.ts)
        if claim.state is posts.State.BUSY:
            return Delivery(Outcome.BUSY)
        delivery = self.deliver(
            claim.claim_id,
            claim.claimed_at,
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            unsettled=claim.state is posts.State.UNSETTLED,
            pace=pace,
            **extra,
        )
        if delivery.outcome is Outcome.POSTED and delivery.ts:
            posts.record(self.factory, key, delivery.ts)
        elif delivery.outcome is Outcome.FAILED:
            posts.release(self.factory, key)
        return delivery

    def deliver(
        self,
        claim_id: str,
        claimed_at: dt.datetime,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        unsettled: bool = False,
        pace: Callable[[str], None] | None = None,
        **extra: Any,
    ) -> Delivery:
        """Post once under `claim_id`. `unsettled`: an earlier attempt under this claim may have
        posted, so the history is read first."""
        if unsettled:
            readable, found = self.find(claim_id, channel=channel, thread_ts=thread_ts, since=claimed_at)
            if found:
                return Delivery(Outcome.POSTED, found)
            if not readable:  # posting now could post twice
                return Delivery(Outcome.UNKNOWN, error="could not read the channel's history")
        for _attempt in (1, 2):
            if pace is not None:
                pace(channel)
            try:
                answer = self.client.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    metadata=metadata(claim_id),
                    **extra,
                )
                return Delivery(Outcome.POSTED, str(answer.get("ts")))
            except SlackApiError as exc:
                status = exc.response.status_code
                error = str(exc.response.get("error") or f"http_{status}")
                if status < 500:  # Slack refused it (after the client's 429 retries)
                    return Delivery(Outcome.FAILED, error=error)
                log.warning("chat.postMessage to %s answered %s: settling from history", channel, status)
            except UNKNOWN_OUTCOME as exc:
                log.warning("chat.postMessage to %s: %s; settling from history", channel, type(exc).__name__)
            readable, found = self.find(claim_id, channel=channel, thread_ts=thread_ts, since=claimed_at)
            if found:
                return Delivery(Outcome.POSTED, found)
            if not readable:
                return Delivery(Outcome.UNKNOWN, error="no answer from Slack")
            # Not in the history: it was not posted. Try once more, then give up cleanly.
        return Delivery(Outcome.FAILED, error="Slack did not accept the message")

    def find(
        self, claim_id: str, *, channel: str, thread_ts: str | None, since: dt.datetime
    ) -> tuple[bool, str | None]:
        """(whether the history could be read, the ts of the message posted under `claim_id`):
        from the channel's history (or the thread's replies) since the claim was taken."""
        oldest = f"{(since - SETTLE_MARGIN).timestamp():.6f}"
        cursor = None
        for _page in range(HISTORY_PAGES):
            try:
                if thread_ts:
                    answer = self.reader.conversations_replies(
                        channel=channel, ts=thread_ts, oldest=oldest, include_all_metadata=True,
                        limit=HISTORY_PAGE, cursor=cursor,
                    )  # fmt: skip
                else:
                    answer = self.reader.conversations_history(
                        channel=channel,
                        oldest=oldest,
                        include_all_metadata=True,
                        limit=HISTORY_PAGE,
                        cursor=cursor,
                    )
            except (SlackApiError, *UNKNOWN_OUTCOME) as exc:
                log.warning("could not read %s's history to settle a post: %s", channel, type(exc).__name__)
                return False, None
            for message in answer.get("messages") or []:
                meta = message.get("metadata") or {}
                if (
                    meta.get("event_type") == EVENT_TYPE
                    and (meta.get("event_payload") or {}).get("claim") == claim_id
                ):
                    return True, str(message.get("ts"))
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not answer.get("has_more") or not cursor:
                return True, None
        return False, None  # too much history to be sure
