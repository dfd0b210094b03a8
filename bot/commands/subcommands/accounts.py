"""`/health accounts [chr <band>] [action] [vs 1d|7d] [@handle]`: Partner Center's TikTok Account
Health list, one row per TikTok account."""

from __future__ import annotations

from blocks.accounts import accounts_card
from blocks.kit import Reply
from bot.commands.grammar import CHR_BANDS, WINDOWS, CommandError, Words, choice_after, clip, window_after
from bot.commands.spec import PAGE_SIZE, Invocation, Subcommand
from bot.services.accounts import AccountFilter, accounts


def _parse(words: Words) -> AccountFilter:
    values: dict[str, object] = {}
    rest, raw, i = words.lower, words.raw, 0
    while i < len(rest):
        word = rest[i]
        if word == "chr":
            values["chr"], i = choice_after("chr", rest, i, CHR_BANDS)
        elif word in ("action", "drop", "dropped"):
            values["action"], i = True, i + 1
        elif word == "vs":
            values["window"], i = window_after(rest, i)
        elif word in WINDOWS:
            values["window"], i = WINDOWS[word], i + 1
        elif word.startswith("@") and len(word) > 1:
            values["handle"], i = raw[i][1:], i + 1
        else:
            raise CommandError(
                f"`accounts` does not understand `{clip(word)}`; it takes `chr <band>`, `action`, `vs 1d|7d` "
                "and `@handle`"
            )
    return AccountFilter(**values)  # type: ignore[arg-type]


def _run(invocation: Invocation, filters: AccountFilter) -> Reply:
    page = accounts(
        invocation.session, filters, today=invocation.today, offset=invocation.offset, limit=PAGE_SIZE
    )
    empty = "No TikTok account matches" + (f" @{filters.handle}." if filters.handle else " these filters.")
    return accounts_card(
        page, command=invocation.text, window=filters.window, today=invocation.today, empty=empty
    )


SUBCOMMANDS = (
    Subcommand(
        name="accounts",
        aliases=("account", "chr", "handles"),
        usage="accounts [chr <band>] [action] [vs 1d|7d] [@handle]",
        summary="Partner Center's TikTok Account Health list: one row per TikTok account, with CHR, "
        "change, GMV and account violations",
        example="accounts chr critical",
        parse=_parse,
        run=_run,
        shareable=True,
        rank=45,
    ),
)
