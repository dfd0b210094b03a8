"""Follow-up buttons: Acknowledge, Snooze, Assign (a modal), and the seller-row overflow menu.
Each acks at once; the change and the answer come after the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk.errors import SlackApiError

from blocks.followup import OWNER_BLOCK, assign_modal, owner_assigned
from blocks.ids import ActionId, CallbackId, RowAction, ShopRef
from blocks.message import message
from bot.commands.subcommands.followup import apply_follow_up
from bot.commands.subcommands.shop import shop_card_reply
from bot.deps import DbSession, after_ack, asker_of, deps_of, payload_of, session_of
from bot.services import followup
from bot.services.lookup import get_shop
from handlers.actions import shop_or_apology
from handlers.outreach import request_link_later
from handlers.respond import delivery_key, matching, say_ephemeral, user_of

log = logging.getLogger(__name__)


def _act(op: str, shop_id: str, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """One follow-up on one seller, after the ack."""
    if op == "request":
        request_link_later(context, body, respond, shop_id=shop_id, confirmed=False)
        return
    deps = deps_of(context)
    user_id, settings, trigger_id = user_of(body), deps.settings, str(body.get("trigger_id", ""))
    zone = asker_of(context).zone()

    def work(session: DbSession) -> None:
        shop = shop_or_apology(session, shop_id, respond)
        if shop is None:
            return
        today = settings.today()
        if op == "open":
            card = shop_card_reply(session, shop.shop_id, settings=settings, today=today, zone=zone)
            say_ephemeral(respond, card)
        elif op == "ack" or op.startswith("snooze:"):
            action, _, option = op.partition(":")
            if action == "snooze" and option not in set(followup.SnoozeMode):
                say_ephemeral(respond, message("That snooze option is out of date."))
                return
            reply = apply_follow_up(session, action, shop, user_id=user_id, option=option, today=today)
            say_ephemeral(respond, reply)
        elif op == "assign":
            try:  # a trigger lasts 3 seconds: the modal opens right after the ack
                deps.client.views_open(
                    trigger_id=trigger_id, view=assign_modal(shop.shop_id, shop.shop_name, shop.owner)
                )
            except SlackApiError as exc:
                say_ephemeral(
                    respond, message(f"I couldn't open the assign dialog ({exc.response.get('error')}).")
                )
        else:
            say_ephemeral(respond, message("That option is out of date; open the card again."))

    after_ack(context, work)


def overflow(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    ref = payload_of(context, RowAction)
    _act(ref.op, ref.shop_id, body, context, respond)


def acknowledge(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    _act("ack", payload_of(context, ShopRef).shop_id, body, context, respond)


def assign(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    _act("assign", payload_of(context, ShopRef).shop_id, body, context, respond)


def assign_submitted(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    session, deps = session_of(context), deps_of(context)
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
    followup.assign_owner(session, ref.shop_id, owner)
    session.commit()
    ack()
    user_id = user_of(body)
    log.info("owner assigned shop=%s owner=%s by=%s", ref.shop_id, owner, user_id)
    confirmation = owner_assigned(owner, shop.shop_name)
    key = f"assign-dm:{view.get('id')}:{view.get('hash')}:{delivery_key(body)}"

    def tell() -> None:
        try:
            channel = deps.client.conversations_open(users=user_id)["channel"]["id"]
        except SlackApiError as exc:
            log.warning("could not confirm the assignment: %s", exc.response.get("error"))
            return
        deps.poster.post(key, channel=channel, text=confirmation.text, blocks=confirmation.blocks)

    deps.later.run(tell)


def register(app: App) -> None:
    app.action(matching(ActionId.SHOP_MENU))(overflow)
    app.action(matching(ActionId.SNOOZE))(overflow)
    app.action(matching(ActionId.ACKNOWLEDGE))(acknowledge)
    app.action(matching(ActionId.ASSIGN))(assign)
    app.view(CallbackId.ASSIGN_OWNER.value)(assign_submitted)
