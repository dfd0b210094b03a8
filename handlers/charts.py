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
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from blocks import trend as builders
from blocks.ids import ActionId, PeriodRef, TrendRef
from blocks.message import message
from bot.deps import Deps, deps_of, payload_of
from bot.services import claims
from bot.services import portfolio_trend as portfolio
from bot.services.digest_records import PortfolioTrend
from bot.services.lookup import get_shop
from bot.services.trend import clamp_days, known, shop_trend
from handlers.respond import delivery_key, matching, say_ephemeral, user_of

log = logging.getLogger(__name__)

Tell = Callable[[str], None]


@dataclass(frozen=True)
class Picture:
    """A chart ready to upload; `draw` runs only once the click is claimed."""

    draw: Callable[[], bytes]
    filename: str
    title: str
    alt_text: str
    comment: str
    confidential: bool  # portfolio-wide: never into a channel shared with another organisation


def trend(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient) -> None:
    ack()
    deps, ref = deps_of(context), payload_of(context, TrendRef)
    deps.later.run(lambda: post_trend(deps, body, respond, client, shop_id=ref.shop_id, days=ref.days))


def portfolio_trend(
    ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
) -> None:
    ack()
    deps, ref = deps_of(context), payload_of(context, PeriodRef)
    deps.later.run(
        lambda: _post(deps, body, respond, client, lambda tell: _portfolio_picture(deps, ref.days))
    )


def post_trend(
    deps: Deps, body: dict[str, Any], respond: Respond, client: WebClient, *, shop_id: str, days: int = 30
) -> None:
    """Draw one shop's trend over `days` and upload it where the click came from (after the ack)."""
    _post(
        deps, body, respond, client, lambda tell: _shop_picture(deps, body, tell, shop_id, clamp_days(days))
    )


def _post(
    deps: Deps,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    picture: Callable[[Tell], Picture | None],
) -> None:
    """Upload the picture where the click came from. Every outcome other than the chart itself is
    told to the clicker, ephemerally."""
    tell = _teller(respond)
    try:
        chart = picture(tell)
        if chart is not None:
            _upload(deps, body, client, tell, chart)
    except Exception:
        # Runs after the ack, outside the app's error handler: apologise here.
        reference = uuid.uuid4().hex[:8]
        log.exception("chart failed ref=%s", reference)
        tell(f"Sorry, something went wrong drawing the chart (reference {reference}). Please try again.")


def _shop_picture(deps: Deps, body: dict[str, Any], tell: Tell, shop_id: str, days: int) -> Picture | None:
    with deps.factory() as session:
        shop = get_shop(session, shop_id)
        if shop is None:
            tell("That seller is no longer in the portfolio, or the button is out of date.")
            return None
        if not shop.authorized:
            tell(
                f"{shop.shop_name} has not authorized the partner, so its health history stays hidden "
                "until the seller grants access (`/health unauthorized` sends request links)."
            )
            return None
        chart = shop_trend(session, shop, days, uk_48_point=deps.settings.healthbot_uk_48_point)
    if chart.empty:
        tell(f"{shop.shop_name} has no scores in the last {days} days yet, so there is no trend to draw.")
        return None
    return Picture(
        draw=chart.png,
        filename=f"{_safe(shop.shop_code)}-trend-{days}d.png",
        title=chart.title,
        alt_text=builders.chart_alt_text(
            shop.shop_name, days, has_ahr=not chart.points_region and bool(known(chart.ahr))
        ),
        comment=builders.chart_comment(
            user_of(body), shop, days, chart.ahr, chart.sps, points_region=chart.points_region
        ),
        confidential=False,
    )


def _portfolio_picture(deps: Deps, days: int) -> Picture:
    with deps.factory() as session:
        chart = portfolio.portfolio_trend(session, days, uk_48_point=deps.settings.healthbot_uk_48_point)
    return portfolio_picture(chart, user_id="")


def portfolio_picture(chart: PortfolioTrend, *, user_id: str) -> Picture:
    return Picture(
        draw=lambda: portfolio.portfolio_png(chart),
        filename=f"portfolio-trend-{chart.days}d.png",
        title=portfolio.chart_title(chart.days),
        alt_text=builders.portfolio_alt_text(chart),
        comment=builders.portfolio_comment(user_id, chart),
        confidential=True,
    )


def _upload(deps: Deps, body: dict[str, Any], client: WebClient, tell: Tell, chart: Picture) -> None:
    user_id = user_of(body)
    key = f"chart:{delivery_key(body)}"
    if not claims.claim(deps.factory, key, user_id):
        return  # the same click delivered again: the first delivery posts the chart
    png = chart.draw()
    channel, thread_ts = _destination(body)
    if channel is not None and chart.confidential and deps.channels.shared(channel) is not False:
        channel, thread_ts = None, None  # portfolio figures never go where another organisation reads
    try:
        if channel is None:  # a private card or the Home tab: the chart goes to the user's DM
            channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            file=png,
            filename=chart.filename,
            title=chart.title,
            alt_txt=chart.alt_text[:1000],
            initial_comment=chart.comment,
        )
    except SlackApiError as exc:
        claims.release(deps.factory, key)
        error = str(exc.response.get("error") or "unknown_error")
        tell(builders.upload_failed(error))
        return
    except SlackClientError as exc:  # the upload step itself failed (no Web API error to name)
        claims.release(deps.factory, key)
        log.warning("chart upload failed %s: %s", chart.filename, type(exc).__name__)
        tell("I couldn't upload the chart (the file upload failed). Please try again.")
        return
    log.info("chart posted %s by=%s to=%s", chart.filename, user_id, channel)


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
    app.action(matching(ActionId.PORTFOLIO_TREND))(portfolio_trend)
