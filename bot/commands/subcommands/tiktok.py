"""`/health tiktok` (admins): the sellers connected through TikTok's authorization, their shops and
the health of their tokens, with a fresh authorization link for the next seller."""

from __future__ import annotations

import datetime as dt

from blocks.kit import Reply
from blocks.tiktok import tiktok_card
from bot.commands.grammar import no_arguments
from bot.commands.spec import Invocation, Subcommand
from bot.ingest.tiktok.connect import NotConfigured, new_authorization_link
from bot.services.tiktok_sellers import seller_statuses


def _run(invocation: Invocation, args: None) -> Reply:
    try:
        link, problem = new_authorization_link(invocation.settings), None
    except NotConfigured as exc:
        link, problem = None, str(exc)
    return tiktok_card(
        seller_statuses(invocation.session),
        link=link,
        problem=problem,
        now=dt.datetime.now(dt.UTC),
        link_hours=invocation.settings.tiktok_link_hours,
        zone=invocation.zone,
    )


SUBCOMMANDS = (
    Subcommand(
        name="tiktok",
        aliases=("sellers-api", "connections"),
        usage="tiktok",
        summary="connected TikTok sellers, their shops and token health, and a fresh authorization link",
        example="tiktok",
        parse=no_arguments("tiktok"),
        run=_run,
        admin_only=True,
        admin_action="see the TikTok connections",
        rank=120,
    ),
)
