"""Security Center in Slack: the Block a buyer button and its two-step modal, and "Done in Seller
Center" on a pending request (admins only)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks.ids import ActionId, BlockDraftRef, BlockRef, CallbackId, ShopRef
from blocks.message import message
from blocks.security import (
    ADMINS_ONLY,
    block_confirm,
    block_done_note,
    block_form,
    block_recorded,
    security_card,
)
from bot.commands.grammar import clean
from bot.deps import DbSession, after_ack, asker_of, deps_of, payload_of, session_of
from bot.services import claims, security
from bot.services.links import security_center_url
from bot.services.lookup import get_shop
from bot.services.records import ShopInfo
from handlers.actions import shop_or_apology
from handlers.respond import matching, say_ephemeral, user_of

log = logging.getLogger(__name__)


def _value(view: dict[str, Any], block: str) -> str:
    """What the person typed or picked, without control characters (a NUL never reaches SQL)."""
    element = view.get("state", {}).get("values", {}).get(block, {}).get("value", {}) or {}
    if "selected_option" in element:
        return clean(str((element.get("selected_option") or {}).get("value") or ""))
    return clean(str(element.get("value") or ""))


def _draft(ref: BlockDraftRef) -> security.BlockDraft:
    return security.BlockDraft(
        shop_id=ref.shop_id, buyer_username=ref.buyer_username, scope=ref.scope, permanent=ref.permanent,
        reason=ref.reason,
    )  # fmt: skip


def open_form(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    deps, is_admin, ref = deps_of(context), asker_of(context).is_admin, payload_of(context, ShopRef)
    trigger_id, channel_id = str(body.get("trigger_id", "")), str((body.get("channel") or {}).get("id", ""))

    def work(session: DbSession) -> None:
        if not is_admin:
            say_ephemeral(respond, message(ADMINS_ONLY))
            return
        shop = shop_or_apology(session, ref.shop_id, respond)
        if shop is None:
            return
        draft = BlockDraftRef(shop_id=shop.shop_id, channel_id=channel_id)
        try:  # a trigger lasts 3 seconds: the form opens right after the ack
            deps.client.views_open(trigger_id=trigger_id, view=block_form(shop.shop_name, draft))
        except SlackApiError as exc:
            say_ephemeral(respond, message(f"I couldn't open the form ({exc.response.get('error')})."))

    after_ack(context, work)


def _allowed_shop(ack: Ack, context: BoltContext, field: str) -> ShopInfo | None:
    """The shop the modal is about, when it still exists and the submitter is an admin; else the
    form shows why next to `field`."""
    shop = get_shop(session_of(context), payload_of(context, BlockDraftRef).shop_id)
    if shop is None:
        ack(response_action="errors", errors={field: "That seller is no longer in the portfolio."})
    elif not asker_of(context).is_admin:
        ack(response_action="errors", errors={field: ADMINS_ONLY})
    else:
        return shop
    return None


def form_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    ref = payload_of(context, BlockDraftRef)
    shop = _allowed_shop(ack, context, "username")
    if shop is None:
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
        security.check_limits(session_of(context), shop.shop_id, today=deps_of(context).settings.today())
    except security.BlockRefused as refused:
        ack(response_action="errors", errors={refused.field: str(refused)})
        return
    ack(response_action="update", view=block_confirm(shop.shop_name, draft))


def confirmed(
    ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    deps, session = deps_of(context), session_of(context)
    ref = payload_of(context, BlockDraftRef)
    user_id = user_of(body)
    shop = _allowed_shop(ack, context, "confirm")
    if shop is None:
        return
    if _value(view, "confirm") != ref.buyer_username:
        ack(response_action="errors", errors={"confirm": "That does not match the username exactly."})
        return
    # A double submit or a retried delivery of the same view records one block.
    key = f"block:{view.get('id')}:{view.get('hash')}"
    if not claims.claim(deps.factory, key, user_id):
        ack()
        return
    try:
        security.record_block(session, _draft(ref), user_id=user_id, today=deps.settings.today())
        session.commit()
    except security.BlockRefused as refused:
        session.rollback()
        claims.release(deps.factory, key)
        ack(response_action="errors", errors={"confirm": str(refused)})
        return
    ack()
    log.info("buyer block request recorded (pending) shop=%s by=%s", shop.shop_id, user_id)
    reply = block_recorded(
        shop.shop_name, shop.shop_code, ref.buyer_username, scope=ref.scope, permanent=ref.permanent,
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


def block_done(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    """ "Done in Seller Center" on a pending request: it counts from today; the card is redrawn."""
    ack()
    deps, is_admin, ref = deps_of(context), asker_of(context).is_admin, payload_of(context, BlockRef)
    user_id = user_of(body)

    def work(session: DbSession) -> None:
        if not is_admin:
            say_ephemeral(respond, message(ADMINS_ONLY))
            return
        today = deps.settings.today()
        try:
            done = security.confirm_block(session, ref.block_id, user_id=user_id, today=today)
            session.commit()
        except security.BlockGone:
            session.rollback()
            say_ephemeral(
                respond, message("That block request is no longer recorded (its seller was removed).")
            )
            return
        except security.BlockRefused as refused:
            session.rollback()
            say_ephemeral(respond, message(f"Seller Center allows no more: {refused}"))
            return
        shop = shop_or_apology(session, done.shop_id, respond)
        if shop is None:
            return
        if not done.already:
            log.info("buyer block done in Seller Center shop=%s by=%s", shop.shop_id, user_id)
        expires = f"{done.expires_on:%b %-d, %Y}" if done.expires_on else None
        card = security_card(
            security.summary(session, shop, today=today),
            seller_center_url=security_center_url(shop, deps.settings),
            note=block_done_note(done.buyer_username, expires, already=done.already),
        )
        say_ephemeral(respond, card, replace=True)

    after_ack(context, work)


def register(app: App) -> None:
    app.action(matching(ActionId.BLOCK_DONE))(block_done)
    app.action(matching(ActionId.BLOCK_BUYER))(open_form)
    app.view(CallbackId.BLOCK_BUYER.value)(form_submitted)
    app.view(CallbackId.BLOCK_BUYER_CONFIRM.value)(confirmed)
