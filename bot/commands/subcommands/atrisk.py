"""`/health atrisk [ahr|sps|chr] [vs 1d|7d]`: sellers needing action, highest GMV first."""

from __future__ import annotations

from dataclasses import dataclass

from blocks.kit import Reply
from bot.commands.grammar import WINDOWS, CommandError, Words, clip, window_after
from bot.commands.lists import list_reply
from bot.commands.spec import PAGE_SIZE, Invocation, Subcommand
from bot.domain import Score, Window
from bot.services.portfolio import at_risk


@dataclass(frozen=True)
class AtRisk:
    scores: tuple[Score, ...] = tuple(Score)
    window: Window = Window.DAY


def _parse(words: Words) -> AtRisk:
    scores: list[Score] = []
    window, rest, i = Window.DAY, words.lower, 0
    while i < len(rest):
        word = rest[i]
        if word in Score.__members__.values():
            scores.append(Score(word))
            i += 1
        elif word == "vs":
            window, i = window_after(rest, i)
        elif word in WINDOWS:
            window, i = WINDOWS[word], i + 1
        else:
            raise CommandError(f"`atrisk` takes `ahr`, `sps`, `chr` and `vs 1d|7d`, not `{clip(word)}`")
    return AtRisk(tuple(dict.fromkeys(scores)) or tuple(Score), window)


def _run(invocation: Invocation, args: AtRisk) -> Reply:
    page = at_risk(
        invocation.session, scores=args.scores, window=args.window, offset=invocation.offset, limit=PAGE_SIZE
    )
    which = "/".join(s.value.upper() for s in args.scores)
    return list_reply(
        invocation,
        f"Sellers needing action ({which}, {args.window.label})",
        page,
        window=args.window,
        empty=":white_check_mark: No seller needs action right now.",
    )


SUBCOMMANDS = (
    Subcommand(
        name="atrisk",
        aliases=("at-risk", "risk", "action"),
        usage="atrisk [ahr|sps|chr] [vs 1d|7d]",
        summary="sellers needing action (a drop beyond the limits or a critical band), highest GMV first",
        example="atrisk vs 7d",
        parse=_parse,
        run=_run,
        shareable=True,
        rank=20,
    ),
)
