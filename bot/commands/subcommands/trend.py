"""`/health trend <shop> [30d|90d|180d]`: a seller's sparkline, and buttons that post the chart;
`/health trend portfolio [7d..180d]`: sellers per AHR band and GMV at risk over time."""

from __future__ import annotations

import re
from dataclasses import dataclass

from blocks.kit import Reply
from blocks.message import message
from blocks.trend import portfolio_card, trend_card
from bot import domain
from bot.commands.grammar import CommandError, Words
from bot.commands.spec import Invocation, Subcommand
from bot.commands.subcommands.shop import not_found_reply
from bot.services import portfolio_trend
from bot.services.lookup import find_shop
from bot.services.trend import shop_trend

PORTFOLIO = "portfolio"


@dataclass(frozen=True)
class Trend:
    query: str
    days: int = 30

    @property
    def portfolio(self) -> bool:
        return self.query.lower() == PORTFOLIO


def _parse(words: Words) -> Trend:
    raw = list(words.raw)
    portfolio = bool(raw) and raw[0].lower() == PORTFOLIO
    days = portfolio_trend.DEFAULT_DAYS if portfolio else 30
    if raw and re.fullmatch(r"\d{1,3}d?", raw[-1].lower()):
        days = int(raw.pop().lower().rstrip("d"))
        if not portfolio and days not in (30, 90, 180):
            raise CommandError("a seller's trend covers 30d, 90d or 180d, e.g. `/health trend US00042 90d`")
        if portfolio and not portfolio_trend.MIN_DAYS <= days <= portfolio_trend.MAX_DAYS:
            raise CommandError("the portfolio trend covers 7d to 180d, e.g. `/health trend portfolio 90d`")
    if not raw:
        raise CommandError("which shop? e.g. `/health trend US00042 90d`, or `/health trend portfolio`")
    return Trend(" ".join(raw), days)


def _run(invocation: Invocation, args: Trend) -> Reply:
    if args.portfolio:
        uk_48_point = invocation.settings.healthbot_uk_48_point
        return portfolio_card(
            portfolio_trend.portfolio_trend(invocation.session, args.days, uk_48_point=uk_48_point)
        )
    found = find_shop(invocation.session, args.query)
    shop = found.shop
    if shop is None:
        return not_found_reply(args.query, found, uk_48_point=invocation.settings.healthbot_uk_48_point)
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
        usage="trend <shop>|portfolio [30d|90d|180d]",
        summary="a seller's AHR trend, or the portfolio's bands and GMV at risk over time, with buttons that post the chart",
        example="trend portfolio 90d",
        parse=_parse,
        run=_run,
        shareable=True,
        seller=lambda args: None if args.portfolio else str(args.query),
        rank=70,
    ),
)
