"""Buttons on every card: Visit Seller Center (audit only), Open card, Show more, Share, Cancel.

Every button's state comes from its typed value (decoded by the middleware) or the database, so a
button works from a message posted hours earlier and on any replica.
"""

from __future__ import annotations

import hashlib
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks import share as share_blocks
from blocks.ids import ActionId, CommandRef, ShopRef
from blocks.message import message
from bot.commands.registry import answer, shareable
from bot.commands.subcommands.shop import shop_card_reply
from bot.deps import asker_of, deps_of, payload_of, session_of
from bot.services import claims
from bot.services.audit import record_click
from bot.services.lookup import get_shop
from bot.services.records import ShopInfo
from handlers.respond import delivery_key, matching, say_ephemeral, user_of


def visit_seller_center(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()  # Slack opens the URL itself; we only keep the audit trail.
    ref = payload_of(context, ShopRef)
    record_click(session_of(context), ActionId.VISIT_SELLER_CENTER.value, ref.shop_id, user_of(body))


def open_shop(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    deps, session = deps_of(context), session_of(context)
    ref = payload_of(context, ShopRef)
    today = deps.settings.today()
    say_ephemeral(respond, shop_card_reply(session, ref.shop_id, settings=deps.settings, today=today))


def show_more(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    deps, ref = deps_of(context), payload_of(context, CommandRef)
    reply = answer(
        session_of(context), ref.text, settings=deps.settings, asker=asker_of(context), offset=ref.offset
    )
    # Paging replaces the page it came from; other lists open as a new message.
    say_ephemeral(respond, reply, replace=ref.offset > 0)


def share(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient) -> None:
    ack()
    deps, ref = deps_of(context), payload_of(context, CommandRef)
    channel = (body.get("channel") or {}).get("id")
    user_id = user_of(body)
    if not channel or not shareable(ref.text):
        say_ephemeral(respond, message("That card can't be shared from here; run the command again."))
        return
    # One share per card: a double click or a retried delivery finds the claim taken.
    source = (body.get("container") or {}).get("message_ts") or body.get("response_url") or delivery_key(body)
    digest = hashlib.sha256(f"{source}:{ref.text}:{ref.offset}".encode()).hexdigest()[:32]
    key = f"share:{channel}:{digest}"
    if not claims.claim(deps.factory, key, user_id):
        return
    reply = answer(
        session_of(context), ref.text, settings=deps.settings, asker=asker_of(context), offset=ref.offset
    )
    shared = share_blocks.shared(reply, user_id, ref.text)
    try:
        client.chat_postMessage(channel=channel, text=shared.text, blocks=shared.blocks)
    except SlackApiError as exc:
        claims.release(deps.factory, key)
        say_ephemeral(respond, share_blocks.share_failed(str(exc.response.get("error"))))


def cancel(ack: Ack, respond: Respond) -> None:
    ack()
    respond(delete_original=True)


def shop_or_apology(context: BoltContext, shop_id: str, respond: Respond) -> ShopInfo | None:
    """The shop a button names, or None after telling the clicker the button is out of date."""
    shop = get_shop(session_of(context), shop_id)
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
