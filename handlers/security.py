"""Security Center in Slack: the Block a buyer button and its two-step modal (admins only)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks import cards
from blocks.ids import ActionId, BlockDraftRef, CallbackId, ShopRef
from blocks.security import block_confirm, block_form, block_recorded
from bot import claims, security
from bot.app import Deps
from bot.db import transaction
from bot.links import security_center_url
from bot.models import Shop
from bot.replies import today_for
from handlers.actions import matching, responder, say_ephemeral, shop_or_apology
from handlers.admins import is_admin

log = logging.getLogger(__name__)
ADMIN_ONLY = "Only the bot's admins (HEALTHBOT_ADMINS) may block buyers."


def _value(view: dict[str, Any], block: str) -> Any:
    element = view.get("state", {}).get("values", {}).get(block, {}).get("value", {}) or {}
    if "selected_option" in element:
        return (element.get("selected_option") or {}).get("value")
    return element.get("value") or ""


def register(app: App, deps: Deps) -> None:
    def load_shop(shop_id: str) -> Shop | None:
        with deps.factory() as session:
            return session.get(Shop, shop_id)

    @app.action(matching(ActionId.BLOCK_BUYER))
    def open_form(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        respond = responder(body, respond, client)
        user_id = body.get("user", {}).get("id", "")
        if not is_admin(deps, user_id):
            say_ephemeral(respond, cards.message(ADMIN_ONLY))
            return
        shop = shop_or_apology(deps, ShopRef.decode((body.get("actions") or [{}])[0].get("value")), respond)
        if shop is None:
            return
        draft = BlockDraftRef(shop_id=shop.shop_id, channel_id=(body.get("channel") or {}).get("id", ""))
        try:
            client.views_open(trigger_id=body.get("trigger_id", ""), view=block_form(shop.shop_name, draft))
        except SlackApiError as exc:
            say_ephemeral(respond, cards.message(f"I couldn't open the form ({exc.response.get('error')})."))

    @app.view(CallbackId.BLOCK_BUYER.value)
    def form_submitted(ack: Ack, view: dict[str, Any], body: dict[str, Any]) -> None:
        ref = BlockDraftRef.decode(view.get("private_metadata"))
        shop = load_shop(ref.shop_id) if isinstance(ref, BlockDraftRef) else None
        if not isinstance(ref, BlockDraftRef) or shop is None:
            ack(response_action="errors", errors={"username": "That seller is no longer in the portfolio."})
            return
        if not is_admin(deps, body.get("user", {}).get("id", "")):
            ack(response_action="errors", errors={"username": ADMIN_ONLY})
            return
        draft = ref.model_copy(
            update={
                "buyer_username": _value(view, "username"),
                "reason": _value(view, "reason"),
                "scope": _value(view, "scope") or "user",
                "permanent": _value(view, "duration") == "permanent",
            }
        )
        try:
            security.validate_draft(_draft(draft))
            with deps.factory() as session:
                security.check_limits(session, shop.shop_id, today=today_for(deps.settings))
        except security.BlockRefused as refused:
            ack(response_action="errors", errors={refused.field: str(refused)})
            return
        ack(response_action="update", view=block_confirm(shop.shop_name, draft))

    @app.view(CallbackId.BLOCK_BUYER_CONFIRM.value)
    def confirmed(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        ref = BlockDraftRef.decode(view.get("private_metadata"))
        user_id = body.get("user", {}).get("id", "")
        shop = load_shop(ref.shop_id) if isinstance(ref, BlockDraftRef) else None
        if not isinstance(ref, BlockDraftRef) or shop is None:
            ack(response_action="errors", errors={"confirm": "That seller is no longer in the portfolio."})
            return
        if not is_admin(deps, user_id):
            ack(response_action="errors", errors={"confirm": ADMIN_ONLY})
            return
        if _value(view, "confirm") != ref.buyer_username:
            ack(response_action="errors", errors={"confirm": "That does not match the username exactly."})
            return
        # A double submit or a retried delivery of the same view records one block.
        key = f"block:{view.get('id')}:{view.get('hash')}"
        if not claims.claim(deps.factory, key, user_id):
            ack()
            return
        today = today_for(deps.settings)
        try:
            with transaction(deps.factory) as session:
                block = security.record_block(session, _draft(ref), user_id=user_id, today=today)
                expires = f"{block.expires_on:%b %-d, %Y}" if block.expires_on else None
        except security.BlockRefused as refused:
            claims.release(deps.factory, key)
            ack(response_action="errors", errors={"confirm": str(refused)})
            return
        ack()
        log.info("buyer block recorded shop=%s by=%s", shop.shop_id, user_id)
        reply = block_recorded(
            shop.shop_name, ref.buyer_username, permanent=ref.permanent, expires=expires,
            url=security_center_url(shop, deps.settings),
        )  # fmt: skip
        try:
            if ref.channel_id:
                client.chat_postEphemeral(
                    channel=ref.channel_id, user=user_id, text=reply.text, blocks=reply.blocks
                )
            else:
                channel = client.conversations_open(users=user_id)["channel"]["id"]
                client.chat_postMessage(channel=channel, text=reply.text, blocks=reply.blocks)
        except SlackApiError as exc:
            log.warning("could not confirm the block to %s: %s", user_id, exc.response.get("error"))


def _draft(ref: BlockDraftRef) -> security.BlockDraft:
    return security.BlockDraft(
        shop_id=ref.shop_id, buyer_username=ref.buyer_username, scope=ref.scope, permanent=ref.permanent,
        reason=ref.reason,
    )  # fmt: skip
