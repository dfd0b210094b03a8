"""`/health security <shop>`: Security Center: alert orders, risk refunds, blocked fraud, buyer blocks."""

from __future__ import annotations

from blocks.kit import Reply
from blocks.security import security_card
from bot.commands.grammar import shop_query
from bot.commands.spec import Invocation, Subcommand
from bot.commands.subcommands.shop import not_found_reply
from bot.services.links import security_center_url
from bot.services.lookup import find_shop
from bot.services.security import summary


def _run(invocation: Invocation, query: str) -> Reply:
    found = find_shop(invocation.session, query)
    if found.shop is None:
        return not_found_reply(query, found, uk_48_point=invocation.settings.healthbot_uk_48_point)
    return security_card(
        summary(invocation.session, found.shop, today=invocation.today),
        seller_center_url=security_center_url(found.shop, invocation.settings),
    )


SUBCOMMANDS = (
    Subcommand(
        name="security",
        aliases=("sec",),
        usage="security <shop>",
        summary="Security Center: alert orders, risk refunds, blocked fraud and buyer blocks",
        example="security US00007",
        parse=lambda words: shop_query(words, "`/health security US00042`"),
        run=_run,
        shareable=True,
        seller=lambda query: str(query),
        rank=80,
    ),
)
