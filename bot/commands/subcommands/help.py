"""`/health help`: what the bot can do, with an example of each subcommand."""

from __future__ import annotations

from typing import Any

from blocks.help import help_card
from blocks.kit import Reply
from bot.commands.grammar import Words
from bot.commands.spec import Invocation, Subcommand


def _parse(words: Words) -> None:
    return None  # `help anything` is still help


def _run(invocation: Invocation, args: Any) -> Reply:
    return help_card(invocation.entries)


SUBCOMMANDS = (
    Subcommand(
        name="help",
        aliases=("?", "h"),
        usage="help",
        summary="what I can do, with examples",
        example="help",
        parse=_parse,
        run=_run,
        shareable=True,
        confidential=False,
        rank=0,
    ),
)
