"""Dispatch alerts: at T-24 h, T-12 h and T-4 h before each open order's deadline, one message per
seller and threshold to the seller's mapped channel, else a DM to its owner.

Exactly once per order and threshold, across replicas and restarts: each (order, threshold) is
claimed in the database before posting (`bot.services.dispatch.claim_alerts`); a failed post gives
its claims back so the next run tries again. Posting is one function, `post_alert`, so it can move
to the exactly-once poster (claims settled through message metadata) without touching the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from blocks.dispatch import dispatch_alert
from blocks.kit import Reply
from bot.db import transaction
from bot.services import dispatch
from bot.services.digest_runs import WORKER
from bot.services.links import seller_center_url
from bot.services.records import DispatchAlertBatch
from bot.settings import Settings
from jobs.pacer import PACER

log = logging.getLogger(__name__)


@dataclass
class AlertReport:
    posted: list[tuple[str, int, int]] = field(default_factory=list)  # (shop_id, threshold, orders)
    failed: list[str] = field(default_factory=list)


def post_alert(client: WebClient, batch: DispatchAlertBatch, reply: Reply) -> tuple[str, str]:
    """Post one alert where the seller's people see it; returns (channel, ts). Raises SlackApiError."""
    channel = batch.channel
    if channel is None:
        assert batch.shop.owner is not None  # claim_alerts only claims sellers someone can be told of
        channel = str(client.conversations_open(users=batch.shop.owner)["channel"]["id"])
    PACER.wait(channel)
    message = client.chat_postMessage(
        channel=channel, text=reply.text, blocks=reply.blocks, unfurl_links=False
    )
    return channel, str(message.get("ts"))


def run_dispatch_alerts(
    factory: sessionmaker[Session], client: WebClient, settings: Settings, *, now: dt.datetime | None = None
) -> AlertReport:
    """Settle new deadlines, then alert every order that reached a threshold and is not alerted yet."""
    now = now or dt.datetime.now(dt.UTC)
    report = AlertReport()
    with transaction(factory) as session:
        dispatch.settle_deadlines(session, settings.healthbot_timezone)
    for batch in dispatch.claim_alerts(factory, now, settings.healthbot_timezone, WORKER):
        reply = dispatch_alert(batch, seller_center_url=seller_center_url(batch.shop, settings), now=now)
        try:
            channel, ts = post_alert(client, batch, reply)
        except SlackApiError as exc:
            dispatch.release_alerts(factory, batch)
            log.warning(
                "dispatch alert for %s (T-%dh) failed: %s",
                batch.shop.shop_id,
                batch.threshold_hours,
                exc.response.get("error"),
            )
            report.failed.append(batch.shop.shop_id)
            continue
        dispatch.record_alert_posted(factory, batch, channel, ts)
        report.posted.append((batch.shop.shop_id, batch.threshold_hours, len(batch.orders)))
    return report
