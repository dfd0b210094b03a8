"""Dispatch alerts: at T-24 h, T-12 h and T-4 h before each open order's deadline, one message per
seller and threshold to the seller's mapped channel, else a DM to its owner.

Exactly once per order and threshold, across replicas and restarts: each (order, threshold) is
claimed in the database before posting (`bot.services.dispatch.claim_alerts`), and the message goes
through the exactly-once poster (its claim settled from the channel's history by the message's
metadata when Slack does not confirm it). A post Slack refused gives its claims back, so the next
run tries again; one Slack did not confirm keeps them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
from bot.slack.poster import Delivery, Outcome, Poster
from jobs.pacer import PACER

log = logging.getLogger(__name__)


@dataclass
class AlertReport:
    posted: list[tuple[str, int, int]] = field(default_factory=list)  # (shop_id, threshold, orders)
    failed: list[str] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)  # Slack did not confirm; never re-sent blindly


def post_alert(poster: Poster, client: WebClient, batch: DispatchAlertBatch, reply: Reply) -> Delivery:
    """Post one alert where the seller's people see it: their channel, else the owner's DM."""
    channel = batch.channel
    if channel is None:
        assert batch.shop.owner is not None  # claim_alerts only claims sellers someone can be told of
        try:
            channel = str(client.conversations_open(users=batch.shop.owner)["channel"]["id"])
        except SlackApiError as exc:
            return Delivery(Outcome.FAILED, error=str(exc.response.get("error")))
    orders = ",".join(sorted(o.order_id for o in batch.orders))
    key = f"dispatch:{batch.shop.shop_id}:{batch.threshold_hours}:{hashlib.sha256(orders.encode()).hexdigest()[:32]}"
    delivery = poster.post(
        key, channel=channel, text=reply.text, blocks=reply.blocks, unfurl_links=False, pace=PACER.wait
    )
    return Delivery(delivery.outcome, delivery.ts, delivery.error, channel)


def run_dispatch_alerts(
    factory: sessionmaker[Session], client: WebClient, settings: Settings, *, now: dt.datetime | None = None
) -> AlertReport:
    """Settle new deadlines, then alert every order that reached a threshold and is not alerted yet."""
    now = now or dt.datetime.now(dt.UTC)
    report = AlertReport()
    with transaction(factory) as session:
        dispatch.settle_deadlines(session, settings.healthbot_timezone)
    poster = Poster(client, factory, worker=WORKER)
    for batch in dispatch.claim_alerts(factory, now, settings.healthbot_timezone, WORKER):
        reply = dispatch_alert(batch, seller_center_url=seller_center_url(batch.shop, settings), now=now)
        delivery = post_alert(poster, client, batch, reply)
        if delivery.outcome is Outcome.FAILED:
            dispatch.release_alerts(factory, batch)
            log.warning(
                "dispatch alert for %s (T-%dh) failed: %s",
                batch.shop.shop_id,
                batch.threshold_hours,
                delivery.error,
            )
            report.failed.append(batch.shop.shop_id)
            continue
        if delivery.outcome is not Outcome.POSTED or not delivery.ts or not delivery.channel:
            report.unsettled.append(batch.shop.shop_id)
            continue
        dispatch.record_alert_posted(factory, batch, delivery.channel, delivery.ts)
        report.posted.append((batch.shop.shop_id, batch.threshold_hours, len(batch.orders)))
    return report
