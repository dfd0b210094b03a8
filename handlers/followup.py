"""Follow-up buttons: Acknowledge, Snooze, Assign (a modal), and the seller-row overflow menu."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks.followup import OWNER_BLOCK, assign_modal, owner_assigned
from blocks.ids import ActionId, CallbackId, RowAction, ShopRef
from blocks.message import message
from bot.commands.subcommands.followup import apply_follow_up
from bot.commands.subcommands.shop import shop_card_reply
from bot.deps import deps_of, payload_of, session_of
from bot.services import followup
from bot.services.lookup import get_shop
from bot.services.records import ShopInfo
from handlers.actions import shop_or_apology
from handlers.outreach import send_request_link
from handlers.respond import matching, say_ephemeral, user_of

log = logging.getLogger(__name__)


def _act(
    op: str, shop: ShopInfo, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
) -> None:
    deps, session = deps_of(context), session_of(context)
    user_id, today = user_of(body), deps.settings.today()
    if op == "open":
        say_ephemeral(respond, shop_card_reply(session, shop.shop_id, settings=deps.settings, today=today))
    elif op == "ack" or op.startswith("snooze:"):
        action, _, option = op.partition(":")
        if action == "snooze" and option not in set(followup.SnoozeMode):
            say_ephemeral(respond, message("That snooze option is out of date."))
            return
        say_ephemeral(
            respond, apply_follow_up(session, action, shop, user_id=user_id, option=option, today=today)
        )
    elif op == "assign":
        try:
            client.views_open(
                trigger_id=body.get("trigger_id", ""),
                view=assign_modal(shop.shop_id, shop.shop_name, shop.owner),
            )
        except SlackApiError as exc:
            say_ephemeral(
                respond, message(f"I couldn't open the assign dialog ({exc.response.get('error')}).")
            )
    elif op == "request":
        send_request_link(context, body, respond, client, shop=shop, confirmed=False)
    else:
        say_ephemeral(respond, message("That option is out of date; open the card again."))


def overflow(
    ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
) -> None:
    ack()
    ref = payload_of(context, RowAction)
    shop = shop_or_apology(context, ref.shop_id, respond)
    if shop is not None:
        _act(ref.op, shop, body, context, respond, client)


def acknowledge(
    ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
) -> None:
    ack()
    shop = shop_or_apology(context, payload_of(context, ShopRef).shop_id, respond)
    if shop is not None:
        _act("ack", shop, body, context, respond, client)


def assign(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient) -> None:
    ack()
    shop = shop_or_apology(context, payload_of(context, ShopRef).shop_id, respond)
    if shop is not None:
        _act("assign", shop, body, context, respond, client)


def assign_submitted(
    ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    session = session_of(context)
    ref = payload_of(context, ShopRef)
    values = view.get("state", {}).get("values", {}).get(OWNER_BLOCK, {}).get(OWNER_BLOCK, {}) or {}
    owner = values.get("selected_user")
    shop = get_shop(session, ref.shop_id)
    if shop is None:
        ack(response_action="errors", errors={OWNER_BLOCK: "That seller is no longer in the portfolio."})
        return
    if not owner:
        ack(response_action="errors", errors={OWNER_BLOCK: "Pick the person who owns this seller."})
        return
    ack()
    followup.assign_owner(session, ref.shop_id, owner)
    session.commit()
    user_id = user_of(body)
    log.info("owner assigned shop=%s owner=%s by=%s", ref.shop_id, owner, user_id)
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        confirmation = owner_assigned(owner, shop.shop_name)
        client.chat_postMessage(channel=channel, text=confirmation.text, blocks=confirmation.blocks)
    except SlackApiError as exc:
        log.warning("could not confirm the assignment: %s", exc.response.get("error"))


def register(app: App) -> None:
    app.action(matching(ActionId.SHOP_MENU))(overflow)
    app.action(matching(ActionId.SNOOZE))(overflow)
    app.action(matching(ActionId.ACKNOWLEDGE))(acknowledge)
    app.action(matching(ActionId.ASSIGN))(assign)
    app.view(CallbackId.ASSIGN_OWNER.value)(assign_submitted)
