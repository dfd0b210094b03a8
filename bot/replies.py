"""From `/health` text to a reply: parse, call a service, build blocks.

The Slack handler and `healthbot ask` both call `answer`, so the terminal shows exactly what Slack
would. Digest management needs the asking channel and user, so it receives them in `Asker`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from blocks import cards
from blocks.common import Reply, name
from blocks.security import security_card
from bot import commands, domain, followup, security, services
from bot.charts import shop_trend
from bot.home import own_sellers
from bot.links import security_center_url, seller_center_url
from bot.models import Shop
from bot.settings import Settings

PAGE_SIZE = 10


@dataclass(frozen=True)
class Asker:
    user_id: str = "cli"
    channel_id: str | None = None
    is_admin: bool = True


DigestHandler = Callable[[Session, commands.Digest, Asker, Settings], Reply]


def today_for(settings: Settings) -> dt.date:
    return dt.datetime.now(settings.tz).date()


def answer(
    session: Session,
    text: str,
    *,
    settings: Settings,
    asker: Asker = Asker(),
    offset: int = 0,
    today: dt.date | None = None,
    digest: DigestHandler | None = None,
) -> Reply:
    try:
        command = commands.parse(text)
    except commands.CommandError as exc:
        return cards.help_card(str(exc))
    today = today or today_for(settings)
    command_text = " ".join(text.split())
    match command:
        case commands.Help():
            return cards.help_card()
        case commands.Overview(window):
            return cards.overview_card(services.overview(session, window), command_text)
        case commands.AtRisk(scores, window):
            page = services.at_risk(session, scores=scores, window=window, offset=offset, limit=PAGE_SIZE)
            which = "/".join(s.value.upper() for s in scores)
            return cards.seller_list_card(
                f"Sellers needing action ({which}, {window.label})",
                page,
                command=command_text,
                window=window,
                empty=":white_check_mark: No seller needs action right now.",
            )
        case commands.HealthList(filters):
            page = services.seller_list(session, filters, offset=offset, limit=PAGE_SIZE)
            return cards.seller_list_card(
                "Health list",
                page,
                command=command_text,
                window=filters.window,
                empty=f"No seller matches {filters.describe()}.",
            )
        case commands.Unauthorized():
            page = services.unauthorized(session, offset=offset, limit=PAGE_SIZE)
            return cards.seller_list_card(
                "Sellers without authorization",
                page,
                command=command_text,
                window=services.Window.DAY,
                empty=":white_check_mark: Every seller has authorized the partner.",
            )
        case commands.ShopCard(query):
            return shop_reply(session, query, settings=settings, today=today)
        case commands.Trend(query, days):
            return trend_reply(session, query, days, settings=settings, today=today)
        case commands.Mine():
            page = own_sellers(session, asker.user_id, window=services.Window.DAY, limit=PAGE_SIZE)
            return cards.seller_list_card(
                "Your sellers",
                page,
                command=command_text,
                window=services.Window.DAY,
                empty="You own no sellers yet: `/health assign &lt;shop&gt; me`, or an owner column in the shops CSV.",
            )
        case commands.Security(query):
            found = services.find_shop(session, query)
            if found.shop is None:
                return shop_reply(session, query, settings=settings, today=today)
            return security_card(
                security.summary(session, found.shop, today=today),
                seller_center_url=security_center_url(found.shop, settings),
            )
        case commands.FollowUp():
            return follow_up(session, command, asker=asker, today=today)
        case commands.Notify(enabled):
            followup.set_milestone_dm(session, asker.user_id, enabled)
            session.commit()
            state = "will DM you" if enabled else "will no longer DM you"
            return cards.message(f"OK: I {state} when one of your sellers crosses an AHR milestone.")
        case commands.Digest():
            if digest is None:
                return cards.message(
                    "Digests are managed from a Slack channel: `/health digest subscribe` there."
                )
            return digest(session, command, asker, settings)
    return cards.help_card()  # pragma: no cover - the match is exhaustive


def follow_up(session: Session, command: commands.FollowUp, *, asker: Asker, today: dt.date) -> Reply:
    found = services.find_shop(session, command.query)
    if found.shop is None:
        return cards.message(
            f"Which seller? “{command.query[:60]}” does not name exactly one; try its shop code."
        )
    return apply_follow_up(
        session, command.action, found.shop, user_id=asker.user_id, option=command.option, today=today
    )


def apply_follow_up(
    session: Session, action: str, shop: Shop, *, user_id: str, option: str, today: dt.date
) -> Reply:
    """ack | snooze (option 1d, 7d, change) | unsnooze | assign (option: user ID, me, nobody); commits."""
    shown = name(shop.shop_name)
    if action == "ack":
        followup.acknowledge(session, shop.shop_id, user_id)
        text = f":white_check_mark: <@{user_id}> acknowledged *{shown}*."
    elif action == "snooze":
        mode = followup.SnoozeMode(option)
        followup.snooze(session, shop.shop_id, user_id, mode, today=today)
        text = f":zzz: *{shown}* is snoozed {mode.label}: it leaves the digest until then, or sooner if it gets worse."
    elif action == "unsnooze":
        followup.unsnooze(session, shop.shop_id)
        text = f"*{shown}* is back in the digest."
    else:
        owner = None if option in ("nobody", "none") else user_id if option == "me" else option
        followup.assign_owner(session, shop.shop_id, owner)
        text = f"*{shown}* is now owned by <@{owner}>." if owner else f"*{shown}* has no owner now."
    session.commit()
    return cards.message(text, mrkdwn=True)


def trend_reply(session: Session, query: str, days: int, *, settings: Settings, today: dt.date) -> Reply:
    found = services.find_shop(session, query)
    if found.shop is None:
        return shop_reply(session, query, settings=settings, today=today)
    shop = found.shop
    if not shop.authorized:
        return cards.message(f"{shop.shop_name} has not authorized the partner, so its history stays hidden.")
    trend = shop_trend(session, shop, days, uk_48_point=settings.healthbot_uk_48_point)
    if trend.points_region:  # no AHR for a 48-point shop: its SPS instead
        sps = [v for _, v in trend.sps]
        return cards.trend_card(
            shop.shop_name, shop.shop_code, shop.shop_id, days, sps, "SPS", domain.format_sps
        )
    ahr = [v for _, v in trend.ahr]
    return cards.trend_card(shop.shop_name, shop.shop_code, shop.shop_id, days, ahr, "AHR")


def shop_reply(session: Session, query: str, *, settings: Settings, today: dt.date) -> Reply:
    found = services.find_shop(session, query)
    if found.shop is not None:
        return shop_card_reply(session, found.shop.shop_id, settings=settings, today=today)
    shown = name(query)
    if found.matches:
        rows = [(s.shop_id, s.shop_code, s.shop_name) for s in found.matches]
        return cards.pick_list(query, rows, title=f"Several sellers match *{shown}*; pick one:")
    if found.suggestions:
        rows = [(s.shop_id, s.shop_code, s.shop_name) for s in found.suggestions]
        return cards.pick_list(query, rows, title=f"No seller is called *{shown}*. Closest names:")
    return cards.message(
        f"No seller matches “{query[:60]}”, and nothing comes close. Try a shop code or `@handle`."
    )


def shop_card_reply(session: Session, shop_id: str, *, settings: Settings, today: dt.date) -> Reply:
    detail = services.shop_detail(session, shop_id, today=today)
    if detail is None:
        return cards.message("That seller is no longer in the portfolio.")
    return cards.shop_card(
        detail,
        seller_center_url=seller_center_url(detail.shop, settings),
        command=f"shop {detail.shop.shop_code}",
        uk_48_point=settings.healthbot_uk_48_point,
    )
