"""`/health mine`: your own sellers, worst first (the list the App Home tab shows)."""

from __future__ import annotations

from typing import Any

from blocks.kit import Reply
from bot.commands.grammar import no_arguments
from bot.commands.lists import list_reply
from bot.commands.spec import PAGE_SIZE, Invocation, Subcommand
from bot.domain import Window
from bot.services.portfolio import own_sellers


def _run(invocation: Invocation, args: Any) -> Reply:
    page = own_sellers(invocation.session, invocation.asker.user_id, invocation.lens(), limit=PAGE_SIZE)
    return list_reply(
        invocation,
        "Your sellers",
        page,
        window=Window.DAY,
        empty="You own no sellers yet: `/health assign &lt;shop&gt; me`, or an owner column in the shops CSV.",
    )


SUBCOMMANDS = (
    Subcommand(
        name="mine",
        aliases=("my", "home"),
        usage="mine",
        summary="your own sellers, worst first (the same list the App Home tab shows)",
        example="mine",
        parse=no_arguments("mine"),
        run=_run,
        shareable=False,  # "your sellers" means the sharer's, not the channel's
        rank=60,
    ),
)
