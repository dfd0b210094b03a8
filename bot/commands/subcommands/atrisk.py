"""`/health atrisk [ahr|sps|chr] [vs 1d|7d]`: sellers needing action, highest GMV first."""

from __future__ import annotations

from dataclasses import dataclass

from blocks.kit import Reply
from bot.commands.grammar import WINDOWS, CommandError, Words, clip, window_after
from bot.commands.lists import list_reply
from bot.commands.spec import PAGE_SIZE, Invocation, Subcommand
from bot.domain import Score, Window
from bot.services.attention import REASON_WORDS
from bot.services.portfolio import at_risk


@dataclass(frozen=True)
class AtRisk:
    scores: tuple[Score, ...] = tuple(Score)
    window: Window = Window.DAY
    reason: str | None = None  # a word of REASON_WORDS: only sellers with that kind of reason


def _parse(words: Words) -> AtRisk:
    scores: list[Score] = []
    reason: str | None = None
    window, rest, i = Window.DAY, words.lower, 0
    while i < len(rest):
        word = rest[i]
        if word in Score.__members__.values():
            scores.append(Score(word))
            i += 1
        elif word in REASON_WORDS and reason in (None, word):
            reason, i = word, i + 1
        elif word == "vs":
            window, i = window_after(rest, i)
        elif word in WINDOWS:
            window, i = WINDOWS[word], i + 1
        else:
            raise CommandError(
                f"`atrisk` takes `ahr`, `sps`, `chr`, one of `{'`, `'.join(REASON_WORDS)}` and `vs 1d|7d`, "
                f"not `{clip(word)}`"
            )
    if reason and scores:
        raise CommandError(
            f"`atrisk {reason}` lists every seller with that reason: leave out `ahr`, `sps`, `chr`"
        )
    return AtRisk(tuple(dict.fromkeys(scores)) or tuple(Score), window, reason)


def _run(invocation: Invocation, args: AtRisk) -> Reply:
    lens = invocation.lens(args.window)
    page = at_risk(
        invocation.session,
        lens,
        scores=args.scores,
        reason=args.reason,
        offset=invocation.offset,
        limit=PAGE_SIZE,
    )
    which = REASON_WORDS[args.reason][1] if args.reason else "/".join(s.value.upper() for s in args.scores)
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
        usage="atrisk [ahr|sps|chr|appeals|restricted|near|points|access|critical] [vs 1d|7d]",
        summary="sellers needing action, highest GMV first, each with its reasons; or one kind of reason",
        example="atrisk vs 7d",
        parse=_parse,
        run=_run,
        shareable=True,
        rank=20,
    ),
)
