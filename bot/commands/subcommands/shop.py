"""`/health shop <code | ID | name | @handle>`: one seller's card, or a short list to pick from."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from blocks.dispatch import card_blocks
from blocks.kit import Reply
from blocks.message import message
from blocks.pick_list import pick_list
from blocks.shop_card import shop_card
from blocks.text import name
from bot.commands.grammar import shop_query
from bot.commands.spec import Invocation, Subcommand
from bot.services.attention import lens_for
from bot.services.links import seller_center_url
from bot.services.lookup import find_shop
from bot.services.records import Lookup
from bot.services.shop_card import shop_detail
from bot.settings import Settings


def shop_card_reply(
    session: Session, shop_id: str, *, settings: Settings, today: dt.date, zone: dt.tzinfo | None = None
) -> Reply:
    """One seller's card by shop ID (the Open card button, or a lookup that found one shop); times
    in `zone` (the viewer's), else HEALTHBOT_TIMEZONE."""
    lens = lens_for(settings, today=today)
    now = dt.datetime.now(dt.UTC)
    detail = shop_detail(
        session, shop_id, today=today, lens=lens, default_zone=settings.healthbot_timezone, now=now
    )
    if detail is None:
        return message("That seller is no longer in the portfolio.")
    assert detail.sources is not None  # read, given the zone
    return shop_card(
        detail,
        seller_center_url=seller_center_url(detail.shop, settings),
        command=f"shop {detail.shop.shop_code}",
        findings=detail.findings,
        uk_48_point=settings.healthbot_uk_48_point,
        rules=lens.rules,
        dispatch=card_blocks(detail.late_dispatch, detail.sources),
        zone=zone or settings.tz,
        team=detail.team,
        now=now,
    )


def not_found_reply(query: str, found: Lookup, *, uk_48_point: bool) -> Reply:
    """No single shop: the several that match, the closest names, or a clear message."""
    shown = name(query)
    if found.matches:
        title = f"Several sellers match *{shown}*; pick one:"
        return pick_list(found.matches, found.health, title=title, more=found.more, uk_48_point=uk_48_point)
    if found.suggestions:
        title = f"No seller is called *{shown}*. Closest names:"
        return pick_list(found.suggestions, found.health, title=title, uk_48_point=uk_48_point)
    return message(
        f"No seller matches “{query[:60]}”, and nothing comes close. Try a shop code or `@handle`."
    )


def shop_reply(
    session: Session, query: str, *, settings: Settings, today: dt.date, zone: dt.tzinfo | None = None
) -> Reply:
    found = find_shop(session, query)
    if found.shop is not None:
        return shop_card_reply(session, found.shop.shop_id, settings=settings, today=today, zone=zone)
    return not_found_reply(query, found, uk_48_point=settings.healthbot_uk_48_point)


def _run(invocation: Invocation, query: str) -> Reply:
    return shop_reply(
        invocation.session, query, settings=invocation.settings, today=invocation.today, zone=invocation.zone
    )


SUBCOMMANDS = (
    Subcommand(
        name="shop",
        aliases=("seller", "s", "card"),
        usage="shop <code | ID | name | @handle>",
        summary="one seller's card: bands, changes, milestone, outlook, violations, appeal deadlines",
        example="shop US00003",
        parse=lambda words: shop_query(words, "`/health shop US00042`, a name, a shop ID or `@handle`"),
        run=_run,
        shareable=True,
        seller=lambda query: str(query),
        rank=30,
    ),
)
