"""Every seller list a subcommand answers with: the rows with their team state (read now, not with
the cached page), in the asker's time zone, each row able to redraw itself in place."""

from __future__ import annotations

from collections.abc import Callable

from blocks.kit import Reply
from blocks.seller_list import seller_list_card
from bot.commands.spec import Invocation
from bot.domain import Window
from bot.services.followup import with_team_page
from bot.services.records import Page, SellerRow


def list_reply(
    invocation: Invocation,
    title: str,
    page: Page[SellerRow],
    *,
    window: Window,
    empty: str,
    heading: Callable[[SellerRow], str] | None = None,
) -> Reply:
    return seller_list_card(
        title,
        with_team_page(invocation.session, page, invocation.today),
        command=invocation.text,
        window=window,
        empty=empty,
        zone=invocation.zone,
        heading=heading,
    )
