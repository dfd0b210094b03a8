"""App Home: publish the Home tab when a user opens it.

Thin: read the user's sellers, the overview and the sellers needing action, build the view,
`views.publish` it. A Slack error is logged (method error only, never tokens or payloads) and
the event is still acknowledged, so Slack does not retry it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks.home import home_view
from bot.deps import asker_of, deps_of, session_of
from bot.domain import Window
from bot.services.portfolio import at_risk, overview, own_sellers

log = logging.getLogger(__name__)

AT_RISK_LIMIT = 10


def app_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    # The Messages and About tabs send this event too; only the Home tab has a view to publish.
    if event.get("tab") != "home":
        return
    user_id = event.get("user")
    if not isinstance(user_id, str) or not user_id:
        return
    session, window = session_of(context), Window.DAY
    view = home_view(
        user_id,
        own_sellers(session, user_id, window=window),
        overview(session, window),
        at_risk(session, window=window, limit=AT_RISK_LIMIT),
        asker_of(context).zone() or deps_of(context).settings.tz,
    )

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


def register(app: App) -> None:
    app.event("app_home_opened")(app_home_opened)
