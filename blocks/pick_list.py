"""Several shops match, or none does: a short list to pick from, each with an Open button."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import Block

from blocks.ids import ActionId, ShopRef
from blocks.kit import Reply, button, finish, section
from blocks.text import escape, name


def pick_list(
    query: str,
    shops: Sequence[tuple[str, str, str]],
    *,
    title: str,
    open_label: Callable[[str], str] = lambda code: "Open",
) -> Reply:
    """Several matches or suggestions: (shop_id, code, name) rows with an Open button each."""
    blocks: list[Block] = [section(title)]
    for i, (shop_id, code, shop_name) in enumerate(shops):
        blocks.append(
            section(
                f"*{name(shop_name)}* `{escape(code)}`",
                accessory=button(
                    open_label(code), ActionId.OPEN_SHOP, ShopRef(shop_id=shop_id).encode(), suffix=str(i)
                ),
            )
        )
    return Reply(title.replace("*", ""), finish(blocks))
