"""`/health trend <shop> [30d|90d|180d]`: a sparkline, and buttons that post the chart."""

from __future__ import annotations

import re
from dataclasses import dataclass

from blocks.kit import Reply
from blocks.message import message
from blocks.trend import trend_card
from bot import domain
from bot.commands.grammar import CommandError, Words
from bot.commands.spec import Invocation, Subcommand
from bot.commands.subcommands.shop import not_found_reply
from bot.services.lookup import find_shop
from bot.services.trend import shop_trend


@dataclass(frozen=True)
class Trend:
    query: str
    days: int = 30


def _parse(words: Words) -> Trend:
    raw = list(words.raw)
    days = 30
    if raw and re.fullmatch(r"(30|90|180)d?", raw[-1].lower()):
        days = int(raw.pop().lower().rstrip("d"))
    if not raw:
        raise CommandError("which shop? e.g. `/health trend US00042 90d` (30d, 90d or 180d)")
    return Trend(" ".join(raw), days)


def _run(invocation: Invocation, args: Trend) -> Reply:
    found = find_shop(invocation.session, args.query)
    shop = found.shop
    if shop is None:
        return not_found_reply(args.query, found)
    if not shop.authorized:
        return message(f"{shop.shop_name} has not authorized the partner, so its history stays hidden.")
    settings = invocation.settings
    trend = shop_trend(invocation.session, shop, args.days, uk_48_point=settings.healthbot_uk_48_point)
    if trend.points_region:  # no AHR for a 48-point shop: its SPS instead
        sps = [v for _, v in trend.sps]
        return trend_card(
            shop.shop_name, shop.shop_code, shop.shop_id, args.days, sps, "SPS", domain.format_sps
        )
    ahr = [v for _, v in trend.ahr]
    return trend_card(shop.shop_name, shop.shop_code, shop.shop_id, args.days, ahr, "AHR")


SUBCOMMANDS = (
    Subcommand(
        name="trend",
        aliases=("chart",),
        usage="trend <shop> [30d|90d|180d]",
        summary="a seller's AHR trend as a sparkline, with buttons that post the PNG chart",
        example="trend US00003 90d",
        parse=_parse,
        run=_run,
        shareable=True,
        seller=lambda args: str(args.query),
        rank=70,
    ),
)
