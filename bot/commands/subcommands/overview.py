"""`/health overview [vs 1d|7d]`: warning and critical counts for AHR, SPS and CHR."""

from __future__ import annotations

from blocks.kit import Reply
from blocks.overview import overview_card
from bot.commands.grammar import WINDOWS, CommandError, Words, clip, window_after
from bot.commands.spec import Invocation, Subcommand
from bot.domain import Window
from bot.services.portfolio import overview


def parse_window_only(words: Words, name: str) -> Window:
    """A window given as `vs 1d|7d` or just `1d|7d`, and nothing else."""
    window, rest, i = Window.DAY, words.lower, 0
    while i < len(rest):
        if rest[i] == "vs":
            window, i = window_after(rest, i)
        elif rest[i] in WINDOWS:
            window, i = WINDOWS[rest[i]], i + 1
        else:
            raise CommandError(f"`{name}` does not take `{clip(rest[i])}`; try `{name} vs 7d`")
    return window


def _run(invocation: Invocation, window: Window) -> Reply:
    return overview_card(
        overview(invocation.session, invocation.lens(window)), invocation.text, invocation.zone
    )


SUBCOMMANDS = (
    Subcommand(
        name="overview",
        aliases=("ov", "summary", "status"),
        usage="overview [vs 1d|7d]",
        summary="warning and critical counts for AHR, SPS and CHR, sellers needing action, GMV at risk",
        example="overview vs 7d",
        parse=lambda words: parse_window_only(words, "overview"),
        run=_run,
        shareable=True,
        rank=10,
    ),
)
