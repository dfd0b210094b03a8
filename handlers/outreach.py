"""Request authorization / Send request link: the seller's authorization-request link, posted where
the seller sees it (their mapped channel) or in the clicker's DM, once per click, confirmed within
24 hours (admins only). The click is acknowledged at once; the link is posted after the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk.errors import SlackApiError

from blocks import outreach as builders
from blocks.ids import ActionId, ConfirmSendRef, ShopRef
from blocks.message import message
from bot.deps import DbSession, Deps, after_ack, asker_of, deps_of, payload_of
from bot.ingest.tiktok.connect import optional_authorization_link
from bot.services import outreach
from bot.services.links import LinkNotConfigured, auth_request_url
from bot.services.records import ShopInfo
from bot.slack.poster import Outcome
from handlers.actions import shop_or_apology
from handlers.respond import delivery_key, matching, say_ephemeral, user_of

log = logging.getLogger(__name__)


def request_authorization(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    request_link_later(context, body, respond, shop_id=payload_of(context, ShopRef).shop_id, confirmed=False)


def confirm_request(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    ref = payload_of(context, ConfirmSendRef)
    # One confirmation per earlier send: a double click on "Send again" sends once.
    request_link_later(
        context,
        body,
        respond,
        shop_id=ref.shop_id,
        confirmed=True,
        idempotency_key=f"confirm:{ref.previous_id}",
    )


def request_link_later(
    context: BoltContext,
    body: dict[str, Any],
    respond: Respond,
    *,
    shop_id: str,
    confirmed: bool,
    idempotency_key: str | None = None,
) -> None:
    """After the ack: check the asker may send, then send the seller's link once."""
    deps, is_admin = deps_of(context), asker_of(context).is_admin
    key = idempotency_key or delivery_key(body)

    def work(session: DbSession) -> None:
        if not is_admin:
            say_ephemeral(respond, message(builders.ADMINS_ONLY))
            return
        shop = shop_or_apology(session, shop_id, respond)
        if shop is not None:
            send_request_link(
                deps, user_of(body), respond, shop=shop, confirmed=confirmed, idempotency_key=key
            )

    after_ack(context, work)


def send_request_link(
    deps: Deps, user_id: str, respond: Respond, *, shop: ShopInfo, confirmed: bool, idempotency_key: str
) -> None:
    """Post the seller's authorization-request link, once per click, confirmed within 24 h."""
    try:
        link = auth_request_url(shop, deps.settings)
    except LinkNotConfigured as problem:  # named in the reply that needed it; nothing is claimed
        say_ephemeral(respond, message(f":warning: {problem}"))
        return
    api_link = optional_authorization_link(deps.settings)  # offered when the TikTok app is set up
    claim = outreach.claim_send(
        deps.factory,
        shop.shop_id,
        user_id=user_id,
        channel=shop.slack_channel or f"DM:{user_id}",
        idempotency_key=idempotency_key,
        confirmed=confirmed,
    )
    if claim.outcome is outreach.Outcome.DUPLICATE_DELIVERY:
        return
    if claim.outcome is outreach.Outcome.NEEDS_CONFIRMATION:
        previous = claim.previous
        assert previous is not None
        reply = builders.confirm_resend(
            shop.shop_id, shop.shop_name, previous_id=previous.id, sent_by=previous.sent_by,
            channel=previous.channel, sent_at=previous.sent_at,
        )  # fmt: skip
        say_ephemeral(respond, reply)
        return
    assert claim.send_id is not None
    if shop.slack_channel:
        channel, text = shop.slack_channel, builders.request_for_seller(shop.shop_name, link, api_link)
    else:
        try:
            channel = deps.client.conversations_open(users=user_id)["channel"]["id"]
        except SlackApiError as exc:
            outreach.cancel_send(deps.factory, claim.send_id)
            say_ephemeral(respond, builders.request_failed(str(exc.response.get("error"))))
            return
        text = builders.request_to_forward(shop.shop_name, link, api_link)
    delivery = deps.poster.post(
        f"auth-request:{claim.send_id}", channel=channel, text=text, unfurl_links=False
    )
    if delivery.outcome is Outcome.FAILED:
        outreach.cancel_send(deps.factory, claim.send_id)
        say_ephemeral(respond, builders.request_failed(str(delivery.error)))
        return
    if delivery.outcome is not Outcome.POSTED:  # kept: the claim makes a later try settle, not resend
        say_ephemeral(respond, builders.request_unconfirmed(shop.shop_name))
        return
    outreach.mark_sent(deps.factory, claim.send_id, channel=channel, message_ts=delivery.ts)
    log.info("authorization request sent shop=%s by=%s to=%s", shop.shop_id, user_id, channel)
    say_ephemeral(respond, builders.request_sent(shop.shop_name, shop.slack_channel))


def register(app: App) -> None:
    app.action(matching(ActionId.REQUEST_AUTHORIZATION))(request_authorization)
    app.action(matching(ActionId.CONFIRM_REQUEST_AUTHORIZATION))(confirm_request)
