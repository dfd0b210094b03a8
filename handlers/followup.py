"""Follow-up buttons: Acknowledge, Snooze, Assign (a modal), and the seller-row overflow menu."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks import cards
from blocks.common import name
from blocks.ids import ActionId, CallbackId, RowAction, ShopRef
from bot import followup
from bot.app import Deps
from bot.db import transaction
from bot.models import Shop
from bot.replies import apply_follow_up, shop_card_reply, today_for
from handlers.actions import matching, responder, say_ephemeral, send_request_link, shop_or_apology

log = logging.getLogger(__name__)


def assign_modal(shop: Shop) -> dict[str, Any]:
    select: dict[str, Any] = {
        "type": "users_select",
        "action_id": "owner",
        "placeholder": {"type": "plain_text", "text": "Pick a person"},
    }
    if shop.owner:
        select["initial_user"] = shop.owner
    return {
        "type": "modal",
        "callback_id": CallbackId.ASSIGN_OWNER.value,
        "private_metadata": ShopRef(shop_id=shop.shop_id).encode(),
        "title": {"type": "plain_text", "text": "Assign owner"},
        "submit": {"type": "plain_text", "text": "Assign"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"Who owns *{name(shop.shop_name)}*?"}},
            {
                "type": "input",
                "block_id": "owner",
                "label": {"type": "plain_text", "text": "Owner"},
                "element": select,
            },
        ],
    }


def register(app: App, deps: Deps) -> None:
    def load_shop(shop_id: str) -> Shop | None:
        with deps.factory() as session:
            return session.get(Shop, shop_id)

    def act(op: str, shop: Shop, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        user_id = body.get("user", {}).get("id", "")
        today = today_for(deps.settings)
        if op == "open":
            with deps.factory() as session:
                say_ephemeral(
                    respond, shop_card_reply(session, shop.shop_id, settings=deps.settings, today=today)
                )
        elif op == "ack" or op.startswith("snooze:"):
            action, _, option = op.partition(":")
            if action == "snooze" and option not in set(followup.SnoozeMode):
                say_ephemeral(respond, cards.message("That snooze option is out of date."))
                return
            with deps.factory() as session:
                reply = apply_follow_up(session, action, shop, user_id=user_id, option=option, today=today)
            say_ephemeral(respond, reply)
        elif op == "assign":
            try:
                client.views_open(trigger_id=body.get("trigger_id", ""), view=assign_modal(shop))
            except SlackApiError as exc:
                say_ephemeral(
                    respond,
                    cards.message(f"I couldn't open the assign dialog ({exc.response.get('error')})."),
                )
        elif op == "request":
            send_request_link(deps, body, respond, client, shop=shop, confirmed=False)
        else:
            say_ephemeral(respond, cards.message("That option is out of date; open the card again."))

    def shop_of(ref: object, respond: Respond) -> Shop | None:
        return shop_or_apology(deps, ref, respond)

    @app.action(matching(ActionId.SHOP_MENU))
    @app.action(matching(ActionId.SNOOZE))
    def overflow(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        respond = responder(body, respond, client)
        selected = (body.get("actions") or [{}])[0].get("selected_option") or {}
        ref = RowAction.decode(selected.get("value"))
        shop = shop_of(ref, respond)
        if shop is not None and isinstance(ref, RowAction):
            act(ref.op, shop, body, respond, client)

    @app.action(matching(ActionId.ACKNOWLEDGE))
    def acknowledge(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        respond = responder(body, respond, client)
        shop = shop_of(ShopRef.decode((body.get("actions") or [{}])[0].get("value")), respond)
        if shop is not None:
            act("ack", shop, body, respond, client)

    @app.action(matching(ActionId.ASSIGN))
    def assign(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        respond = responder(body, respond, client)
        shop = shop_of(ShopRef.decode((body.get("actions") or [{}])[0].get("value")), respond)
        if shop is not None:
            act("assign", shop, body, respond, client)

    @app.view(CallbackId.ASSIGN_OWNER.value)
    def assign_submitted(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        ref = ShopRef.decode(view.get("private_metadata"))
        owner = (view.get("state", {}).get("values", {}).get("owner", {}).get("owner", {}) or {}).get(
            "selected_user"
        )
        if not isinstance(ref, ShopRef) or load_shop(ref.shop_id) is None:
            ack(response_action="errors", errors={"owner": "That seller is no longer in the portfolio."})
            return
        if not owner:
            ack(response_action="errors", errors={"owner": "Pick the person who owns this seller."})
            return
        ack()
        with transaction(deps.factory) as session:
            followup.assign_owner(session, ref.shop_id, owner)
        user_id = body.get("user", {}).get("id", "")
        log.info("owner assigned shop=%s owner=%s by=%s", ref.shop_id, owner, user_id)
        try:
            channel = client.conversations_open(users=user_id)["channel"]["id"]
            shop = load_shop(ref.shop_id)
            client.chat_postMessage(
                channel=channel,
                text=f"<@{owner}> now owns {name(shop.shop_name if shop else ref.shop_id)}.",
            )
        except SlackApiError as exc:
            log.warning("could not confirm the assignment: %s", exc.response.get("error"))
