"""Button listeners: Seller Center clicks, authorization requests, paging, open card, share.

Every button's state comes from its typed value (blocks.ids) or the database, so a button works
from a message posted hours earlier and on any replica.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ActionsBlock

from blocks import cards
from blocks.common import Reply, button, channel_mention, context, finish, name, section
from blocks.ids import ActionId, CommandRef, ConfirmSendRef, ShopRef
from bot import claims, outreach
from bot.app import Deps
from bot.links import auth_request_url
from bot.models import ButtonClick, Shop
from bot.replies import Asker, answer, shop_card_reply, today_for
from handlers.admins import is_admin
from jobs.digests import manage_digest

log = logging.getLogger(__name__)


def matching(action: ActionId) -> re.Pattern[str]:
    """Row buttons carry a suffix (`open_shop:3`) to stay unique within a message."""
    return re.compile(rf"^{re.escape(action.value)}(:.*)?$")


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return dict(actions[0])


def delivery_key(body: dict[str, Any]) -> str:
    """The same click delivered twice has the same action_ts; a second click has its own."""
    action = _action(body)
    raw = f"{body.get('user', {}).get('id')}:{action.get('action_id')}:{action.get('action_ts')}:{action.get('value')}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


class DirectReply:
    """Stands in for `respond` where Slack gives no response_url (App Home): replies in the DM."""

    def __init__(self, client: WebClient, user_id: str) -> None:
        self.client, self.user_id = client, user_id

    def __call__(self, text: str = "", blocks: Any = None, delete_original: bool = False, **_: Any) -> None:
        if not delete_original and self.user_id:
            self.client.chat_postMessage(channel=self.user_id, text=text, blocks=blocks)


def responder(body: dict[str, Any], respond: Respond, client: WebClient) -> Respond:
    """`respond` for clicks on messages; a DM for clicks on the App Home tab."""
    if body.get("response_url"):
        return respond
    return DirectReply(client, body.get("user", {}).get("id", ""))  # type: ignore[return-value]


def say_ephemeral(respond: Respond, reply: Reply, *, replace: bool = False) -> None:
    respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=replace)


def shop_or_apology(deps: Deps, ref: object, respond: Respond) -> Shop | None:
    """The shop a button names, or None after telling the clicker the button is out of date."""
    shop = None
    shop_id = getattr(ref, "shop_id", None)
    if isinstance(shop_id, str):
        with deps.factory() as session:
            shop = session.get(Shop, shop_id)
    if shop is None:
        say_ephemeral(
            respond, cards.message("That seller is no longer in the portfolio, or the button is out of date.")
        )
    return shop


def register(app: App, deps: Deps) -> None:
    def shop_from(body: dict[str, Any], respond: Respond) -> Shop | None:
        return shop_or_apology(deps, ShopRef.decode(_action(body).get("value")), respond)

    @app.action(matching(ActionId.VISIT_SELLER_CENTER))
    def visit_seller_center(ack: Ack, body: dict[str, Any]) -> None:
        ack()  # Slack opens the URL itself; we only keep the audit trail.
        ref = ShopRef.decode(_action(body).get("value"))
        with deps.factory() as session, session.begin():
            session.add(
                ButtonClick(
                    action=ActionId.VISIT_SELLER_CENTER.value,
                    shop_id=ref.shop_id if isinstance(ref, ShopRef) else None,
                    user_id=body.get("user", {}).get("id", ""),
                    clicked_at=dt.datetime.now(dt.UTC),
                )
            )

    @app.action(matching(ActionId.OPEN_SHOP))
    def open_shop(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        respond = responder(body, respond, client)
        shop = shop_from(body, respond)
        if shop is None:
            return
        with deps.factory() as session:
            reply = shop_card_reply(
                session, shop.shop_id, settings=deps.settings, today=today_for(deps.settings)
            )
        say_ephemeral(respond, reply)

    @app.action(matching(ActionId.SHOW_MORE))
    def show_more(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        respond = responder(body, respond, client)
        ref = CommandRef.decode(_action(body).get("value"))
        if not isinstance(ref, CommandRef):
            say_ephemeral(respond, cards.message("That button is out of date; run the command again."))
            return
        user_id = body.get("user", {}).get("id", "")
        asker = Asker(
            user_id=user_id,
            channel_id=(body.get("channel") or {}).get("id"),
            is_admin=is_admin(deps, user_id),
        )
        with deps.factory() as session:
            reply = answer(
                session,
                ref.text,
                settings=deps.settings,
                asker=asker,
                offset=ref.offset,
                digest=manage_digest,
            )
        # Paging replaces the page it came from; other lists open as a new message.
        say_ephemeral(respond, reply, replace=ref.offset > 0)

    @app.action(matching(ActionId.SHARE))
    def share(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        ref = CommandRef.decode(_action(body).get("value"))
        channel = (body.get("channel") or {}).get("id")
        user_id = body.get("user", {}).get("id", "")
        if not isinstance(ref, CommandRef) or not channel:
            say_ephemeral(
                respond, cards.message("That card can't be shared from here; run the command again.")
            )
            return
        # One share per card: a double click or a retried delivery finds the claim taken.
        source = (
            (body.get("container") or {}).get("message_ts") or body.get("response_url") or delivery_key(body)
        )
        key = (
            f"share:{channel}:{hashlib.sha256(f'{source}:{ref.text}:{ref.offset}'.encode()).hexdigest()[:32]}"
        )
        if not claims.claim(deps.factory, key, user_id):
            return
        with deps.factory() as session:
            reply = answer(session, ref.text, settings=deps.settings, offset=ref.offset)
        blocks = [b for b in reply.blocks if not _is_share_row(b)]
        blocks.append(context(f"Shared by <@{user_id}> from `/health {ref.text[:80]}`").to_dict())
        try:
            client.chat_postMessage(channel=channel, text=reply.text, blocks=blocks[:50])
        except SlackApiError as exc:
            claims.release(deps.factory, key)
            error = exc.response.get("error")
            hint = (
                " Invite me to the channel first (`/invite @Shop Health Bot`)."
                if error in ("not_in_channel", "channel_not_found")
                else ""
            )
            say_ephemeral(respond, cards.message(f"I couldn't post in this channel ({error}).{hint}"))

    @app.action(matching(ActionId.REQUEST_AUTHORIZATION))
    def request_authorization(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        respond = responder(body, respond, client)
        shop = shop_from(body, respond)
        if shop is not None:
            send_request_link(deps, body, respond, client, shop=shop, confirmed=False)

    @app.action(matching(ActionId.CONFIRM_REQUEST_AUTHORIZATION))
    def confirm_request(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        respond = responder(body, respond, client)
        ref = ConfirmSendRef.decode(_action(body).get("value"))
        shop = shop_or_apology(deps, ref, respond)
        if shop is not None and isinstance(ref, ConfirmSendRef):
            # One confirmation per earlier send: a double click on "Send again" sends once.
            send_request_link(
                deps,
                body,
                respond,
                client,
                shop=shop,
                confirmed=True,
                idempotency_key=f"confirm:{ref.previous_id}",
            )

    @app.action(matching(ActionId.CANCEL))
    def cancel(ack: Ack, respond: Respond) -> None:
        ack()
        respond(delete_original=True)


def _is_share_row(block: dict[str, Any]) -> bool:
    return block.get("type") == "actions"


def send_request_link(
    deps: Deps,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    *,
    shop: Shop,
    confirmed: bool,
    idempotency_key: str | None = None,
) -> None:
    """Post the seller's authorization-request link (admins only), once per click, confirmed within 24 h."""
    user_id = body.get("user", {}).get("id", "")
    if not is_admin(deps, user_id):
        say_ephemeral(
            respond,
            cards.message("Only the bot's admins (HEALTHBOT_ADMINS) may send authorization requests."),
        )
        return
    link = auth_request_url(shop, deps.settings)
    claim = outreach.claim_send(
        deps.factory,
        shop,
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
        when = previous.sent_at if previous.sent_at.tzinfo else previous.sent_at.replace(tzinfo=dt.UTC)
        ago = max(1, int((dt.datetime.now(dt.UTC) - when).total_seconds() // 60))
        ref = ShopRef(shop_id=shop.shop_id).encode()
        again = ConfirmSendRef(shop_id=shop.shop_id, previous_id=previous.id).encode()
        blocks = [
            section(
                f"<@{previous.sent_by}> already sent *{name(shop.shop_name)}* a request link "
                f"{ago} minute(s) ago (to {_where(previous.channel)}). Send it again?"
            ),
            ActionsBlock(
                elements=[
                    button("Send again", ActionId.CONFIRM_REQUEST_AUTHORIZATION, again, style="danger"),
                    button("Cancel", ActionId.CANCEL, ref),
                ]
            ),
        ]
        say_ephemeral(respond, Reply("Request link already sent recently. Send again?", finish(blocks)))
        return
    assert claim.send_id is not None
    text = (
        f"Hello from your TikTok Shop Partner: to let us watch *{name(shop.shop_name)}*'s account health "
        f"and help you avoid restrictions, please grant access here: {link}"
    )
    try:
        if shop.slack_channel:
            channel = shop.slack_channel
            intro = text
        else:
            channel = client.conversations_open(users=user_id)["channel"]["id"]
            intro = (
                f"Here is *{name(shop.shop_name)}*'s authorization-request link, ready to forward:\n{link}"
            )
        posted = client.chat_postMessage(channel=channel, text=intro, unfurl_links=False)
    except SlackApiError as exc:
        outreach.cancel_send(deps.factory, claim.send_id)
        say_ephemeral(
            respond,
            cards.message(
                f"I couldn't send the request link ({exc.response.get('error')}). Nothing was sent; try again."
            ),
        )
        return
    outreach.mark_sent(deps.factory, claim.send_id, channel=channel, message_ts=posted.get("ts"))
    log.info("authorization request sent shop=%s by=%s to=%s", shop.shop_id, user_id, channel)
    where = channel_mention(channel) if shop.slack_channel else "your DMs, ready to forward"
    say_ephemeral(
        respond, cards.message(f"Request link for {name(shop.shop_name)} sent to {where}.", mrkdwn=True)
    )


def _where(channel: str) -> str:
    return "a DM" if channel.startswith(("DM:", "D")) else channel_mention(channel)
