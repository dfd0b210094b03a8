"""Trend-chart buttons: draw a shop's AHR/SPS trend and upload it as a PNG where the button was.

The click is acknowledged at once and the chart is drawn and uploaded by a Bolt lazy listener, so
rendering and the three-step upload (`files_upload_v2`) never hold Slack's 3-second ack. The
chart goes into the clicked message's thread (a non-ephemeral message), else into the channel,
else (a click from the Home tab) into the user's DM. Problems come back as a short ephemeral note.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from blocks import cards
from blocks.common import escape, name
from blocks.ids import ActionId, TrendRef
from bot import claims, domain
from bot.app import Deps
from bot.charts import Point, clamp_days, known, shop_trend
from bot.models import Shop
from handlers.actions import delivery_key, matching, responder, say_ephemeral

log = logging.getLogger(__name__)

Tell = Callable[[str], None]
CHANNEL_HINTS = {
    "not_in_channel": " Invite me to the channel first (`/invite @Shop Health Bot`).",
    "channel_not_found": " Invite me to the channel first (`/invite @Shop Health Bot`).",
    "missing_scope": " The app needs the `files:write` scope: ask a workspace admin to reinstall it.",
    "not_allowed_token_type": " The app needs a bot token with the `files:write` scope.",
}


def register(app: App, deps: Deps) -> None:
    def ack_trend(ack: Ack) -> None:
        ack()

    def draw_trend(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ref = TrendRef.decode((body.get("actions") or [{}])[0].get("value"))
        if not isinstance(ref, TrendRef):
            _teller(body, client, respond)("That button is out of date; open the seller's card again.")
            return
        post_trend(deps, body, respond, client, shop_id=ref.shop_id, days=ref.days)

    app.action(matching(ActionId.TREND))(ack=ack_trend, lazy=[draw_trend])


def post_trend(
    deps: Deps, body: dict[str, Any], respond: Respond, client: WebClient, *, shop_id: str, days: int = 30
) -> None:
    """Draw one shop's trend over `days` and upload it where the click came from.

    For any interaction payload (a Trend button, an overflow-menu choice); the caller has acked.
    Every outcome other than the chart itself is told to the clicker, ephemerally.
    """
    tell = _teller(body, client, respond)
    try:
        _post_trend(deps, body, client, tell, shop_id=shop_id, days=clamp_days(days))
    except Exception:
        # Runs after the ack (a lazy listener), outside the app's error handler: apologise here.
        reference = uuid.uuid4().hex[:8]
        log.exception("trend chart failed ref=%s", reference)
        tell(f"Sorry, something went wrong drawing the chart (reference {reference}). Please try again.")


def _post_trend(
    deps: Deps, body: dict[str, Any], client: WebClient, tell: Tell, *, shop_id: str, days: int
) -> None:
    user_id = (body.get("user") or {}).get("id", "")
    with deps.factory() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            tell("That seller is no longer in the portfolio, or the button is out of date.")
            return
        shop_name, shop_code, region = shop.shop_name, shop.shop_code, shop.region
        if not shop.authorized:
            tell(
                f"{shop_name} has not authorized the partner, so its health history stays hidden "
                "until the seller grants access (`/health unauthorized` sends request links)."
            )
            return
        trend = shop_trend(session, shop, days, uk_48_point=deps.settings.healthbot_uk_48_point)
    if trend.empty:
        tell(f"{shop_name} has no scores in the last {days} days yet, so there is no trend to draw.")
        return

    key = f"trend:{delivery_key(body)}"
    if not claims.claim(deps.factory, key, user_id):
        return  # the same click delivered again: the first delivery posts the chart
    ahr, sps, points_region, title = trend.ahr, trend.sps, trend.points_region, trend.title
    png = trend.png()

    channel, thread_ts = _destination(body)
    try:
        if channel is None:  # a private card or the Home tab: the chart goes to the user's DM
            channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            file=png,
            filename=f"{_safe(shop_code)}-trend-{days}d.png",
            title=title,
            alt_txt=_alt_text(shop_name, days, ahr, sps, points_region=points_region),
            initial_comment=_comment(user_id, shop_name, shop_code, region, days, ahr, sps, points_region),
        )
    except SlackApiError as exc:
        claims.release(deps.factory, key)
        error = str(exc.response.get("error") or "unknown_error")
        tell(f"I couldn't post the trend chart here ({error}).{CHANNEL_HINTS.get(error, '')}")
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


def _teller(body: dict[str, Any], client: WebClient, respond: Respond) -> Tell:
    """Say something only the clicker sees: via response_url, else (Home tab) in their DM."""
    reply_to = responder(body, respond, client)

    def tell(text: str) -> None:
        try:
            say_ephemeral(reply_to, cards.message(text))
        except Exception as exc:
            log.warning("could not tell the user about a trend chart: %s", type(exc).__name__)

    return tell


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text) or "shop"


def _latest(points: list[Point], *, scored_only: bool = False) -> tuple[int, int] | None:
    """(latest value, change since the first value of the period)."""
    values = known(points, scored_only=scored_only)
    if not values:
        return None
    return values[-1][1], values[-1][1] - values[0][1]


def _comment(
    user_id: str,
    shop_name: str,
    shop_code: str,
    region: str,
    days: int,
    ahr: list[Point],
    sps: list[Point],
    points_region: bool,
) -> str:
    parts = []
    ahr_now = _latest(ahr)
    if ahr_now is not None:
        value, change = ahr_now
        text = f"AHR *{value}* ({change:+d} in {days} days)"
        milestone = domain.next_milestone(value, region)
        if milestone is not None:
            warn = ":warning: " if domain.milestone_warning(value, region) else ""
            text += f", {warn}next milestone {milestone.score} in {value - milestone.score} points"
        parts.append(text)
    sps_now = _latest(sps, scored_only=True)
    if sps_now is not None:
        value, change = sps_now
        parts.append(f"SPS *{domain.format_sps(value)}* ({change / 10:+.1f})")
    elif known(sps):
        parts.append("SPS not scored yet")
    if points_region:
        parts.append("48-point region: penalty points are on the seller's card")
    summary = " · ".join(parts)
    who = f"<@{user_id}> asked for " if user_id else ""
    return f"{who}*{name(shop_name)}* `{escape(shop_code)}`, last {days} days: {summary}"


def _alt_text(shop_name: str, days: int, ahr: list[Point], sps: list[Point], *, points_region: bool) -> str:
    scores = (
        "SPS" if points_region or not known(ahr) else "AHR with milestone lines at 150, 100 and 50, and SPS"
    )
    return f"Line chart of {shop_name}'s {scores} over the last {days} days; gaps are days without data."[
        :1000
    ]
