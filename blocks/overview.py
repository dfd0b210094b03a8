"""The portfolio overview card: warning and critical counts per score, sellers needing action."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import ActionsBlock, Block

from blocks.ids import ActionId, CommandRef
from blocks.kit import DOT, Reply, button, context, finish, freshness_stamp, header, section, share_button
from blocks.text import money, plural
from bot.domain import Level, Score
from bot.services.records import Overview


def _count(level: Level, value: int) -> str:
    return f"{DOT[level]} {value}"


def overview_card(data: Overview, command: str, zone: dt.tzinfo = dt.UTC) -> Reply:
    labels = {
        Score.AHR: "Account Health (AHR)",
        Score.SPS: "Shop Performance (SPS)",
        Score.CHR: "TikTok accounts (CHR)",
    }
    fields = []
    for score, (warning, critical) in data.counts.items():
        fields.append(
            f"*{labels[score]}*\n{_count(Level.WARNING, warning)} warning · {_count(Level.CRITICAL, critical)} critical"
        )
        if score is Score.AHR and data.points_shops:  # 48-point shops have no AHR band: their points
            warning, critical = data.points
            fields.append(
                f"*Penalty points* (48-point system, {plural(data.points_shops, 'shop')})\n"
                f"{_count(Level.WARNING, warning)} warning · {_count(Level.CRITICAL, critical)} critical"
            )
    authorized = data.total - data.unauthorized
    fields.append(
        f"*Need action* ({data.window.label})\n:rotating_light: {data.needs_action} sellers · {money(data.gmv_at_risk)} GMV at risk"
    )
    blocks: list[Block] = [
        header("Portfolio health overview"),
        section(
            f"{authorized} authorized sellers of {data.total}; *{data.unauthorized}* not authorized (left out of the counts)."
            + (
                f" {data.without_chr_scope} more lack the Data Compass scope (no CHR)."
                if data.without_chr_scope
                else ""
            )
        ),
        section("", fields=fields),
        ActionsBlock(
            elements=[
                button(
                    "Sellers needing action",
                    ActionId.SHOW_MORE,
                    CommandRef(text=f"atrisk vs {data.window.value}").encode(),
                    style="primary",
                ),
                button(
                    "Unauthorized sellers",
                    ActionId.SHOW_MORE,
                    CommandRef(text="unauthorized").encode(),
                    suffix="unauth",
                ),
                share_button(command),
            ]
        ),
        context(freshness_stamp(data.freshness, zone)),
    ]
    text = f"Overview: {data.needs_action} sellers need action, {data.unauthorized} unauthorized"
    return Reply(text, finish(blocks))
