"""App Home: publish the Home tab when a user opens it, and "Take a seller" from its empty state.

Thin: read the user's sellers, the overview and the sellers needing action, build the view,
`views.publish` it. A Slack error is logged (method error only, never tokens or payloads) and
the event is still acknowledged, so Slack does not retry it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks.home import CLAIM_BLOCK, claim_modal, home_view
from blocks.ids import ActionId, CallbackId
from blocks.text import truncate
from bot.deps import DbSession, after_ack, asker_of, deps_of, session_of
from bot.services import followup
from bot.services.attention import lens_for
from bot.services.followup import with_team_page
from bot.services.lookup import find_shop
from bot.services.portfolio import at_risk, overview, own_sellers
from bot.services.records import Lookup
from bot.settings import Settings
from handlers.respond import matching, user_of

log = logging.getLogger(__name__)

AT_RISK_LIMIT = 10


def app_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    # The Messages and About tabs send this event too; only the Home tab has a view to publish.
    if event.get("tab") != "home":
        return
    user_id = event.get("user")
    if not isinstance(user_id, str) or not user_id:
        return
    settings = deps_of(context).settings
    view = _view(session_of(context), settings, user_id, asker_of(context).zone() or settings.tz)

    def publish() -> None:  # after Slack has its answer
        try:
            client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            log.warning(
                "could not publish App Home for %s: %s %s",
                user_id,
                exc.response.get("error"),
                exc.response.get("errors") or "",
            )

    deps_of(context).later.run(publish)


def _view(session: DbSession, settings: Settings, user_id: str, zone: dt.tzinfo) -> dict[str, Any]:
    lens = lens_for(settings)
    today = lens.today
    return home_view(
        user_id,
        with_team_page(session, own_sellers(session, user_id, lens), today),
        overview(session, lens),
        with_team_page(session, at_risk(session, lens, limit=AT_RISK_LIMIT), today),
        zone,
    )


def take_seller(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The "Take a seller" button: the picker opens right after the ack (a trigger lasts 3 s)."""
    ack()
    trigger_id = str(body.get("trigger_id", ""))

    def open_picker(_session: DbSession) -> None:
        try:
            client.views_open(trigger_id=trigger_id, view=claim_modal())
        except SlackApiError as exc:
            log.warning("could not open the seller picker: %s", exc.response.get("error"))

    after_ack(context, open_picker)


def seller_taken(ack: Ack, view: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    """The picker's answer: one seller becomes the submitter's, and their Home tab is redrawn.
    The modal shows why when the text names no single seller."""
    values = view.get("state", {}).get("values", {}).get(CLAIM_BLOCK, {}).get(CLAIM_BLOCK, {}) or {}
    query = " ".join(str(values.get("value") or "").split())
    session, user_id = session_of(context), user_of(body)
    found = find_shop(session, query)
    if found.shop is None:
        ack(response_action="errors", errors={CLAIM_BLOCK: _not_one(query, found)})
        return
    followup.assign_owner(session, found.shop.shop_id, user_id, deps_of(context).settings)
    session.commit()
    ack()
    log.info("owner assigned shop=%s owner=%s by=%s (Take a seller)", found.shop.shop_id, user_id, user_id)
    client, settings, asker = deps_of(context).client, deps_of(context).settings, asker_of(context)

    def republish(session: DbSession) -> None:
        try:
            client.views_publish(
                user_id=user_id, view=_view(session, settings, user_id, asker.zone() or settings.tz)
            )
        except SlackApiError as exc:
            log.warning("could not publish App Home for %s: %s", user_id, exc.response.get("error"))

    after_ack(context, republish)


def _not_one(query: str, found: Lookup) -> str:
    """Why the picker's text names no single seller (plain text: modal errors are not mrkdwn)."""
    if not query:
        return "Name a seller: its shop code, shop ID, name or @handle."
    close = found.matches or found.suggestions
    if close:
        codes = ", ".join(s.shop_code for s in close[:5])
        kind = "Several sellers match" if found.matches else "No seller is called"
        return f"{kind} “{truncate(query, 40)}”: try one of {codes}."
    return f"No seller matches “{truncate(query, 40)}”; try its shop code."


def register(app: App) -> None:
    app.event("app_home_opened")(app_home_opened)
    app.action(matching(ActionId.CLAIM_SELLER))(take_seller)
    app.view(CallbackId.CLAIM_SELLER.value)(seller_taken)
