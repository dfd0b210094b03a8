"""`/health unauthorized`: sellers who have not authorized the partner, with request links."""

from __future__ import annotations

from typing import Any

from blocks.kit import Reply
from blocks.seller_list import access_heading
from bot.commands.grammar import no_arguments
from bot.commands.lists import list_reply
from bot.commands.spec import PAGE_SIZE, Invocation, Subcommand
from bot.domain import Window
from bot.services.portfolio import access_gaps, unauthorized


def _run(invocation: Invocation, args: Any) -> Reply:
    page = unauthorized(invocation.session, offset=invocation.offset, limit=PAGE_SIZE)
    no_access, no_chr = access_gaps(invocation.session)
    return list_reply(
        invocation,
        "Sellers without authorization",
        page,
        window=Window.DAY,
        empty=":white_check_mark: Every seller has authorized the partner.",
        heading=lambda row: access_heading(row, no_access=no_access, no_chr=no_chr),
    )


SUBCOMMANDS = (
    Subcommand(
        name="unauthorized",
        aliases=("unauthorised", "unauth", "auth"),
        usage="unauthorized",
        summary="sellers the partner cannot fully see, grouped by what is missing, each with Send request link",
        example="unauthorized",
        parse=no_arguments("unauthorized"),
        run=_run,
        shareable=True,
        rank=50,
    ),
)
