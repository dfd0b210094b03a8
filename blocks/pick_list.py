"""Several shops match, or none does: a short list to pick from, each with its status (region,
the headline score in its band, GMV) and an Open button, and how many more match."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from slack_sdk.models.blocks import Block

from blocks.ids import ActionId, ShopRef
from blocks.kit import DOT, Reply, button, context, finish, section
from blocks.text import NO_DATA, escape, money, name, plural
from bot import domain
from bot.services.records import HealthScores, ShopInfo


def status(shop: ShopInfo, health: HealthScores | None, *, uk_48_point: bool = False) -> str:
    """What a picker row says about a shop: enough to tell two similar names apart."""
    where = f"`{escape(shop.shop_code)}` · {escape(shop.region)}"
    if not shop.authorized:
        return f"{where} · {DOT[domain.Level.UNKNOWN]} not authorized"
    if health is None:
        return f"{where} · no data yet"
    if domain.uses_penalty_points(shop.region, uk_48_point=uk_48_point):
        score = f"{health.points if health.points is not None else NO_DATA}/{domain.POINTS_BAN} points"
    else:
        band = domain.ahr_band(health.ahr)
        value = f"{health.ahr} {band.value}" if health.ahr is not None and band else NO_DATA
        score = f"{DOT[domain.ahr_level(health.ahr)]} AHR {value}"
    return f"{where} · {score} · GMV 7d {money(health.gmv_7d)}"


def pick_list(
    shops: Sequence[ShopInfo],
    health: Mapping[str, HealthScores],
    *,
    title: str,
    more: int = 0,
    uk_48_point: bool = False,
    hint: str = "Type more of the name, or the shop code, to narrow it down.",
    open_label: Callable[[str], str] = lambda code: "Open",
) -> Reply:
    """Several matches or suggestions, most relevant first, each with an Open button."""
    blocks: list[Block] = [section(title)]
    for i, shop in enumerate(shops):
        blocks.append(
            section(
                f"*{name(shop.shop_name)}*\n{status(shop, health.get(shop.shop_id), uk_48_point=uk_48_point)}",
                accessory=button(
                    open_label(shop.shop_code),
                    ActionId.OPEN_SHOP,
                    ShopRef(shop_id=shop.shop_id).encode(),
                    suffix=str(i),
                ),
            )
        )
    if more:
        blocks.append(context(f"… and {plural(more, 'more match')}. {hint}"))
    return Reply(title.replace("*", ""), finish(blocks))
