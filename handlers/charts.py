"""Trend-chart buttons: draw a shop's AHR/SPS trend and upload it as a PNG where the button was.

The click is acknowledged at once and the chart is drawn and uploaded afterwards (`Deps.later`),
so rendering and the three-step upload (`files_upload_v2`) never hold Slack's 3-second ack. The
chart goes into the clicked message's thread (a non-ephemeral message), else into the channel,
else (a private card, or a click from the Home tab) into the user's DM. Problems come back as a
short ephemeral note.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from blocks import trend as builders
from blocks.ids import ActionId, TrendRef
from blocks.message import message
from bot.deps import Deps, deps_of, payload_of
from bot.services import claims
from bot.services.lookup import get_shop
from bot.services.trend import clamp_days, known, shop_trend
from handlers.respond import delivery_key, matching, say_ephemeral, user_of

log = logging.getLogger(__name__)

Tell = Callable[[str], None]


def trend(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient) -> None:
    ack()
    deps, ref = deps_of(context), payload_of(context, TrendRef)
    deps.later.run(lambda: post_trend(deps, body, respond, client, shop_id=ref.shop_id, days=ref.days))


def post_trend(
    deps: Deps, body: dict[str, Any], respond: Respond, client: WebClient, *, shop_id: str, days: int = 30
) -> None:
    """Draw one shop's trend over `days` and upload it where the click came from (after the ack).

    Every outcome other than the chart itself is told to the clicker, ephemerally.
    """
    tell = _teller(respond)
    try:
        _post_trend(deps, body, client, tell, shop_id=shop_id, days=clamp_days(days))
    except Exception:
        # Runs after the ack, outside the app's error handler: apologise here.
        reference = uuid.uuid4().hex[:8]
        log.exception("trend chart failed ref=%s", reference)
        tell(f"Sorry, something went wrong drawing the chart (reference {reference}). Please try again.")


def _post_trend(
    deps: Deps, body: dict[str, Any], client: WebClient, tell: Tell, *, shop_id: str, days: int
) -> None:
    user_id = user_of(body)
    with deps.factory() as session:
        shop = get_shop(session, shop_id)
        if shop is None:
            tell("That seller is no longer in the portfolio, or the button is out of date.")
            return
        if not shop.authorized:
            tell(
                f"{shop.shop_name} has not authorized the partner, so its health history stays hidden "
                "until the seller grants access (`/health unauthorized` sends request links)."
            )
            return
        chart = shop_trend(session, shop, days, uk_48_point=deps.settings.healthbot_uk_48_point)
    if chart.empty:
        tell(f"{shop.shop_name} has no scores in the last {days} days yet, so there is no trend to draw.")
        return

    key = f"trend:{delivery_key(body)}"
    if not claims.claim(deps.factory, key, user_id):
        return  # the same click delivered again: the first delivery posts the chart
    png = chart.png()
    channel, thread_ts = _destination(body)
    try:
        if channel is None:  # a private card or the Home tab: the chart goes to the user's DM
            channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            file=png,
            filename=f"{_safe(shop.shop_code)}-trend-{days}d.png",
            title=chart.title,
            alt_txt=builders.chart_alt_text(
                shop.shop_name, days, has_ahr=not chart.points_region and bool(known(chart.ahr))
            ),
            initial_comment=builders.chart_comment(
                user_id, shop, days, chart.ahr, chart.sps, points_region=chart.points_region
            ),
        )
    except SlackApiError as exc:
        claims.release(deps.factory, key)
        error = str(exc.response.get("error") or "unknown_error")
        tell(builders.upload_failed(error))
        return
    except SlackClientError as exc:  # the upload step itself failed (no Web API error to name)
        claims.release(deps.factory, key)
        log.warning("trend chart upload failed shop=%s: %s", shop_id, type(exc).__name__)
        tell("I couldn't upload the trend chart (the file upload failed). Please try again.")
        return
    log.info("trend chart posted shop=%s days=%s by=%s to=%s", shop_id, days, user_id, channel)


def _destination(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(channel, thread_ts): a shared message's thread; None (the clicker's DM) for a card only
    they can see, since replies stay private until shared, and for the Home tab."""
    container = body.get("container") or {}
    if container.get("type") != "message" or container.get("is_ephemeral"):
        return None, None
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return channel, container.get("thread_ts") or container.get("message_ts")


def _teller(respond: Respond) -> Tell:
    """Say something only the clicker sees."""

    def tell(text: str) -> None:
        try:
            say_ephemeral(respond, message(text))
        except Exception as exc:
            log.warning("could not tell the user about a trend chart: %s", type(exc).__name__)

    return tell


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text) or "shop"


def register(app: App) -> None:
    app.action(matching(ActionId.TREND))(trend)
