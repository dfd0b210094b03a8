"""`/health dispatch [shop]`: open orders due next across the portfolio, or one seller's orders
with its 30-day Late Dispatch Rate (the dispatch watch, DOMAIN.md "Fulfilment")."""

from __future__ import annotations

import datetime as dt

from blocks.dispatch import dispatch_card, dispatch_list
from blocks.kit import Reply
from bot.commands.grammar import Words
from bot.commands.spec import PAGE_SIZE, Invocation, Subcommand
from bot.commands.subcommands.shop import not_found_reply
from bot.services import dispatch
from bot.services.links import seller_center_url
from bot.services.lookup import find_shop

WITHIN_HOURS = 24


def _parse(words: Words) -> str | None:
    return " ".join(words.raw) or None


def _run(invocation: Invocation, query: str | None) -> Reply:
    session, settings = invocation.session, invocation.settings
    now = dt.datetime.now(dt.UTC)
    # Orders imported since the last pass get their deadlines before they are listed.
    if dispatch.settle_deadlines(session, settings.healthbot_timezone):
        session.commit()
    if query is None:
        page, total = dispatch.portfolio_dispatch(
            session,
            now,
            settings.healthbot_timezone,
            within=dt.timedelta(hours=WITHIN_HOURS),
            offset=invocation.offset,
            limit=PAGE_SIZE,
        )
        return dispatch_list(
            page, total, now=now, command=invocation.text, offset=invocation.offset, within_hours=WITHIN_HOURS
        )
    found = find_shop(session, query)
    if found.shop is None:
        return not_found_reply(query, found, uk_48_point=settings.healthbot_uk_48_point)
    view = dispatch.shop_dispatch(session, found.shop.shop_id, now, settings.healthbot_timezone)
    assert view is not None
    return dispatch_card(
        view, seller_center_url=seller_center_url(view.shop, settings), now=now, command=invocation.text
    )


SUBCOMMANDS = (
    Subcommand(
        name="dispatch",
        aliases=("orders", "ship"),
        usage="dispatch [shop]",
        summary="orders due to ship next (deadlines, T-24/12/4 h alerts) and the 30-day Late Dispatch Rate",
        example="dispatch",
        parse=_parse,
        run=_run,
        shareable=True,
        rank=82,
    ),
)
