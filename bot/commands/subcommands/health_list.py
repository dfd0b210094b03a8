"""`/health list ...`: Partner Center's Health List, any combination of filters, sorted."""

from __future__ import annotations

from blocks.kit import Reply
from bot.commands.grammar import (
    AHR_BANDS,
    CHR_BANDS,
    SCORES,
    SPS_BANDS,
    CommandError,
    Words,
    choice_after,
    clip,
    window_after,
)
from bot.commands.lists import list_reply
from bot.commands.spec import PAGE_SIZE, Invocation, Subcommand
from bot.domain import Score, SortKey
from bot.services.portfolio import seller_list
from bot.services.records import ListFilter

USAGE = "list [ahr <band>] [sps <band>] [chr <band>] [action ahr|sps|chr] [vs 1d|7d] [sort gmv|ahr|sps|chr] [asc|desc]"


def _parse(words: Words) -> ListFilter:
    values: dict[str, object] = {}
    actions: list[Score] = []
    rest, i = words.lower, 0
    while i < len(rest):
        word = rest[i]
        if word == "ahr":
            values["ahr"], i = choice_after("ahr", rest, i, AHR_BANDS)
        elif word == "sps":
            values["sps"], i = choice_after("sps", rest, i, SPS_BANDS)
        elif word == "chr":
            values["chr"], i = choice_after("chr", rest, i, CHR_BANDS)
        elif word == "action":
            score, i = choice_after("action", rest, i, SCORES)
            actions.append(Score(score))
        elif word == "vs":
            values["window"], i = window_after(rest, i)
        elif word == "sort":
            key, i = choice_after("sort", rest, i, {k.value: k.value for k in SortKey})
            values["sort"] = SortKey(key)
        elif word in ("asc", "desc"):
            values["descending"], i = word == "desc", i + 1
        else:
            raise CommandError(
                f"`list` does not understand `{clip(word)}`; it takes `ahr <band>`, `sps <band>`, "
                "`chr <band>`, `action ahr|sps|chr`, `vs 1d|7d`, `sort gmv|ahr|sps|chr`, `asc|desc`"
            )
    if actions:
        values["action"] = tuple(dict.fromkeys(actions))
    if "descending" not in values and values.get("sort", SortKey.GMV) is not SortKey.GMV:
        values["descending"] = False  # a score sort starts with the worst; GMV with the most at stake
    return ListFilter(**values)  # type: ignore[arg-type]


def _run(invocation: Invocation, filters: ListFilter) -> Reply:
    page = seller_list(
        invocation.session, filters, invocation.lens(), offset=invocation.offset, limit=PAGE_SIZE
    )
    return list_reply(
        invocation,
        "Health list",
        page,
        window=filters.window,
        empty=f"No seller matches {filters.describe()}.",
    )


SUBCOMMANDS = (
    Subcommand(
        name="list",
        aliases=("ls", "health"),
        usage=USAGE,
        summary="the Health List, filtered and sorted. Bands: AHR excellent, fair, poor, deactivated; "
        "SPS 0-2.5, 2.5-3.5, 3.5-4.5, 4.5-5, unscored; CHR healthy, careful, critical, suspended",
        example="list ahr fair sort ahr asc",
        parse=_parse,
        run=_run,
        shareable=True,
        rank=40,
    ),
)
