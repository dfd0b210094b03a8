"""Request authorization / Send request link: the seller's authorization-request link, posted where
the seller sees it (their mapped channel) or in the clicker's DM, once per click, confirmed within
24 hours (admins only)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks import outreach as builders
from blocks.ids import ActionId, ConfirmSendRef, ShopRef
from blocks.message import message
from bot.deps import asker_of, deps_of, payload_of
from bot.ingest.tiktok.connect import optional_authorization_link
from bot.services import outreach
from bot.services.links import auth_request_url
from bot.services.records import ShopInfo
from handlers.actions import shop_or_apology
from handlers.respond import delivery_key, matching, say_ephemeral, user_of

log = logging.getLogger(__name__)


def request_authorization(
    ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
) -> None:
    ack()
    shop = shop_or_apology(context, payload_of(context, ShopRef).shop_id, respond)
    if shop is not None:
        send_request_link(context, body, respond, client, shop=shop, confirmed=False)


def confirm_request(
    ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
) -> None:
    ack()
    ref = payload_of(context, ConfirmSendRef)
    shop = shop_or_apology(context, ref.shop_id, respond)
    if shop is not None:
        # One confirmation per earlier send: a double click on "Send again" sends once.
        send_request_link(
            context,
            body,
            respond,
            client,
            shop=shop,
            confirmed=True,
            idempotency_key=f"confirm:{ref.previous_id}",
        )


def send_request_link(
    context: BoltContext,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    *,
    shop: ShopInfo,
    confirmed: bool,
    idempotency_key: str | None = None,
) -> None:
    """Post the seller's authorization-request link (admins only), once per click, confirmed within 24 h."""
    deps = deps_of(context)
    user_id = user_of(body)
    if not asker_of(context).is_admin:
        say_ephemeral(respond, message(builders.ADMINS_ONLY))
        return
    link = auth_request_url(shop, deps.settings)
    api_link = optional_authorization_link(deps.settings)  # offered when the TikTok app is set up
    claim = outreach.claim_send(
        deps.factory,
        shop.shop_id,
        user_id=user_id,
        channel=shop.slack_channel or f"DM:{user_id}",
        idempotency_key=idempotency_key or delivery_key(body),
        confirmed=confirmed,
    )
    if claim.outcome is outreach.Outcome.DUPLICATE_DELIVERY:
        return
    if claim.outcome is outreach.Outcome.NEEDS_CONFIRMATION:
        previous = claim.previous
        assert previous is not None
        say_ephemeral(
            respond,
            builders.confirm_resend(
                shop.shop_id,
                shop.shop_name,
                previous_id=previous.id,
                sent_by=previous.sent_by,
                channel=previous.channel,
                sent_at=previous.sent_at,
            ),
        )
        return
    assert claim.send_id is not None
    try:
        if shop.slack_channel:
            channel, text = shop.slack_channel, builders.request_for_seller(shop.shop_name, link, api_link)
        else:
            channel = client.conversations_open(users=user_id)["channel"]["id"]
            text = builders.request_to_forward(shop.shop_name, link, api_link)
        posted = client.chat_postMessage(channel=channel, text=text, unfurl_links=False)
    except SlackApiError as exc:
        outreach.cancel_send(deps.factory, claim.send_id)
        say_ephemeral(respond, builders.request_failed(str(exc.response.get("error"))))
        return
    outreach.mark_sent(deps.factory, claim.send_id, channel=channel, message_ts=posted.get("ts"))
    log.info("authorization request sent shop=%s by=%s to=%s", shop.shop_id, user_id, channel)
    say_ephemeral(respond, builders.request_sent(shop.shop_name, shop.slack_channel))


def register(app: App) -> None:
    app.action(matching(ActionId.REQUEST_AUTHORIZATION))(request_authorization)
    app.action(matching(ActionId.CONFIRM_REQUEST_AUTHORIZATION))(confirm_request)
