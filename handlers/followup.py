"""Follow-up buttons: Acknowledge, Snooze, Assign (a modal), and the seller-row overflow menu.
Each acks at once; the change and the answer come after the ack."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from blocks import followup as builders
from blocks.followup import OWNER_BLOCK, assign_modal, owner_assigned
from blocks.ids import ActionId, CallbackId, Place, RowAction, ShopRef, UndoRef
from blocks.kit import MAX_BLOCKS, Reply
from blocks.message import message
from bot.commands.subcommands.shop import shop_card_reply
from bot.deps import DbSession, after_ack, asker_of, deps_of, payload_of, session_of
from bot.services import followup
from bot.services.lookup import get_shop
from handlers.actions import shop_or_apology
from handlers.outreach import request_link_later
from handlers.respond import delivery_key, first_action, matching, say_ephemeral, user_of

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
            place = str(first_action(body).get("block_id") or "")
            if action == "ack":
                ack_id = followup.acknowledge(session, shop.shop_id, user_id)
                undo = UndoRef(op="ack", shop_id=shop.shop_id, ack_id=ack_id, place=place)
                said = builders.acknowledged_notice(user_id, shop.shop_name, shop.shop_id, undo)
            else:
                mode = followup.SnoozeMode(option)
                followup.snooze(session, shop.shop_id, user_id, mode, today=today)
                undo = UndoRef(op="snooze", shop_id=shop.shop_id, place=place)
                said = builders.snoozed_notice(shop.shop_name, mode.label, shop.shop_id, undo)
            session.commit()
            log.info("%s shop=%s by=%s", op, shop.shop_id, user_id)
            redraw(session, body, respond, context, place, said)
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


def undo(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """Take back an acknowledgement or a snooze (one's own), and redraw where it was done."""
    ack()
    ref, user_id = payload_of(context, UndoRef), user_of(body)

    def work(session: DbSession) -> None:
        shop = shop_or_apology(session, ref.shop_id, respond)
        if shop is None:
            return
        if ref.op == "ack":
            if not followup.undo_acknowledgement(session, ref.ack_id, user_id):
                say_ephemeral(respond, message("Only the person who acknowledged it can take that back."))
                return
            what = "acknowledged by you"
        elif ref.op == "snooze":
            if not followup.unsnooze(session, ref.shop_id, user_id=user_id):
                say_ephemeral(respond, message("That snooze has ended, or someone else set it."))
                return
            what = "snoozed"
        else:
            say_ephemeral(respond, message("That button is out of date."))
            return
        session.commit()
        log.info("undo %s shop=%s by=%s", ref.op, ref.shop_id, user_id)
        redraw(
            session,
            body,
            respond,
            context,
            ref.place,
            builders.undone_notice(what, shop.shop_name, shop.shop_id),
        )

    after_ack(context, work)


def redraw(
    session: DbSession,
    body: dict[str, Any],
    respond: Respond,
    context: BoltContext,
    place_id: str,
    said: Block,
) -> None:
    """Show a follow-up where it was done: the posted message (a digest, a shared card or list)
    with the seller's team line redrawn and `said` beside it, for everyone in the channel; a
    private card drawn again with `said` on top (Slack sends no blocks for an ephemeral message).
    Elsewhere (a private list, the App Home) `said` alone, privately."""
    deps, asker = deps_of(context), asker_of(context)
    place = Place.decode(place_id)
    posted = body.get("message") or {}
    ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
    zone, today = asker.zone() or deps.settings.tz, deps.settings.today()
    if place is not None and posted.get("blocks") and not ephemeral:
        state = followup.team_states(session, [place.shop_id], today).get(place.shop_id)
        team = builders.team_line(state, dt.datetime.now(dt.UTC), zone)
        blocks = builders.redrawn(list(posted["blocks"]), place_id, team, said)
        respond(text=str(posted.get("text") or ""), blocks=blocks, replace_original=True)
        return
    if place is None or not place.card:
        said_dict = said.to_dict()
        say_ephemeral(respond, Reply(str(said_dict["text"]["text"]), [said_dict]))
        return
    card = shop_card_reply(session, place.shop_id, settings=deps.settings, today=today, zone=zone)
    say_ephemeral(respond, Reply(card.text, [said.to_dict(), *card.blocks][:MAX_BLOCKS]), replace=True)


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
    followup.assign_owner(session, ref.shop_id, owner, deps.settings)
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
    app.action(matching(ActionId.UNDO))(undo)
    app.view(CallbackId.ASSIGN_OWNER.value)(assign_submitted)
