"""Buttons on every card: Visit Seller Center (audit only), Open card, Show more, Share, Cancel.

Every button's state comes from its typed value (decoded by the middleware) or the database, so a
button works from a message posted hours earlier and on any replica. Each listener acks at once;
what calls Slack runs after the ack.
"""

from __future__ import annotations

import hashlib
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from blocks import share as share_blocks
from blocks.ids import ActionId, CommandRef, ShopRef
from blocks.message import message
from bot.commands.registry import ShareRefusal, answer, share_refusal
from bot.commands.subcommands.shop import shop_card_reply
from bot.deps import DbSession, after_ack, asker_of, deps_of, payload_of, session_of
from bot.services.audit import record_click
from bot.services.lookup import get_shop
from bot.services.records import ShopInfo
from bot.slack.poster import Outcome
from handlers.respond import delivery_key, matching, say_ephemeral, user_of


def visit_seller_center(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()  # Slack opens the URL itself; we only keep the audit trail.
    ref = payload_of(context, ShopRef)
    record_click(session_of(context), ActionId.VISIT_SELLER_CENTER.value, ref.shop_id, user_of(body))


def open_shop(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    settings, ref, asker = deps_of(context).settings, payload_of(context, ShopRef), asker_of(context)

    def work(session: DbSession) -> None:
        card = shop_card_reply(
            session, ref.shop_id, settings=settings, today=settings.today(), zone=asker.zone()
        )
        say_ephemeral(respond, card)

    after_ack(context, work)


def show_more(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    settings, ref, asker = deps_of(context).settings, payload_of(context, CommandRef), asker_of(context)

    def work(session: DbSession) -> None:
        reply = answer(session, ref.text, settings=settings, asker=asker, offset=ref.offset)
        # Paging replaces the page it came from; other lists open as a new message.
        say_ephemeral(respond, reply, replace=ref.paging or ref.offset > 0)

    after_ack(context, work)


def share(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """Post the card into the channel, re-rendered with the sharer's rights, once per card."""
    ack()
    deps, ref, asker = deps_of(context), payload_of(context, CommandRef), asker_of(context)
    channel = str((body.get("channel") or {}).get("id") or "")
    user_id = user_of(body)
    # One share per card: a double click or a retried delivery names the same card.
    source = (body.get("container") or {}).get("message_ts") or body.get("response_url") or delivery_key(body)
    key = f"share:{channel}:{hashlib.sha256(f'{source}:{ref.text}:{ref.offset}'.encode()).hexdigest()[:32]}"

    def work(session: DbSession) -> None:
        if not channel:
            say_ephemeral(respond, message(share_blocks.NOT_SHAREABLE))
            return
        refused = share_refusal(session, ref.text, channel=channel, channel_shared=asker.shared(channel))
        if refused is not None:
            text = (
                share_blocks.SHARED_CHANNEL
                if refused is ShareRefusal.SHARED_CHANNEL
                else share_blocks.NOT_SHAREABLE
            )
            say_ephemeral(respond, message(text))
            return
        reply = answer(session, ref.text, settings=deps.settings, asker=asker, offset=ref.offset)
        shared = share_blocks.shared(reply, user_id, ref.text)
        delivery = deps.poster.post(key, channel=channel, text=shared.text, blocks=shared.blocks)
        if delivery.outcome is Outcome.FAILED:
            say_ephemeral(respond, share_blocks.share_failed(str(delivery.error)))
        elif delivery.outcome is Outcome.UNKNOWN:
            say_ephemeral(respond, share_blocks.share_unknown())

    after_ack(context, work)


def cancel(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    deps_of(context).later.run(lambda: respond(delete_original=True))


def shop_or_apology(session: DbSession, shop_id: str, respond: Respond) -> ShopInfo | None:
    """The shop a button names, or None after telling the clicker the button is out of date."""
    shop = get_shop(session, shop_id)
    if shop is None:
        say_ephemeral(
            respond, message("That seller is no longer in the portfolio, or the button is out of date.")
        )
    return shop


def register(app: App) -> None:
    app.action(matching(ActionId.VISIT_SELLER_CENTER))(visit_seller_center)
    app.action(matching(ActionId.OPEN_SHOP))(open_shop)
    app.action(matching(ActionId.SHOW_MORE))(show_more)
    app.action(matching(ActionId.SHARE))(share)
    app.action(matching(ActionId.CANCEL))(cancel)
