"""The `/health` registry: every subcommand declared once, and `answer`, which turns command text
into a reply for Slack and `healthbot ask` alike.

A subcommand is a module in `bot.commands.subcommands` that declares `SUBCOMMANDS`: its name,
aliases, grammar, help line with an example, who may run it, whether its reply may be shared,
and the functions that parse its words and build its reply. The parser, the help card, the
manifest's usage hint and the README's command table all read this one list, so they cannot
drift; adding a subcommand is one new module (and its test).
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from enum import StrEnum
from functools import cache
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from blocks.help import help_card, not_understood
from blocks.kit import Reply
from blocks.message import message
from bot import db
from bot.commands import subcommands
from bot.commands.asker import Asker
from bot.commands.grammar import MAX_COMMAND_CHARS, CommandError, Words, clean, clip
from bot.commands.spec import Invocation, Subcommand
from bot.services.lookup import find_shop
from bot.settings import Settings

ADMINS_ONLY = "Only the bot's admins (HEALTHBOT_ADMINS) may {what}."


@cache
def registry() -> tuple[Subcommand, ...]:
    """Every subcommand, in help order: discovered from the modules of `bot.commands.subcommands`."""
    found: list[Subcommand] = []
    for module_info in sorted(pkgutil.iter_modules(subcommands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{subcommands.__name__}.{module_info.name}")
        found.extend(getattr(module, "SUBCOMMANDS", ()))
    return tuple(sorted(found, key=lambda s: (s.rank, s.name)))


@cache
def _by_word() -> dict[str, Subcommand]:
    words: dict[str, Subcommand] = {}
    for sub in registry():
        for word in (sub.name, *sub.aliases):
            if word in words:
                raise RuntimeError(f"`{word}` names both {words[word].name} and {sub.name}")
            words[word] = sub
    return words


def find(word: str) -> Subcommand | None:
    return _by_word().get(word.lower())


def help_entries() -> list[tuple[str, str, str]]:
    return [(s.usage, s.summary, s.example) for s in registry()]


def usage_hint() -> str:
    """The manifest's usage hint: every subcommand's name, in help order."""
    return " | ".join(s.name for s in registry())


def parse(text: str) -> tuple[Subcommand, Any]:
    """The subcommand and its parsed arguments. Raises CommandError with a friendly message and,
    when one is near, the closest valid form."""
    text = clean(text)
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandError(
            f"that command is {len(text)} characters long; `/health` commands are short", closest="help"
        )
    verb, *rest = text.split(None, 1) or ["help"]
    sub = find(verb)
    if sub is None:
        raise CommandError(f"I don't know `{clip(verb)}`", closest=closest_word(verb))
    remainder = rest[0] if rest else ""
    try:
        return sub, sub.parse(Words(raw=tuple(remainder.split()), rest=remainder))
    except CommandError as exc:
        raise CommandError(str(exc), closest=exc.closest or sub.example) from None


def closest_word(word: str) -> str:
    """The subcommand a mistyped word most likely meant, as an example to try (else `help`)."""
    words = {w: sub for sub in registry() for w in (sub.name, *sub.aliases) if len(w) > 2}
    found = process.extractOne(word.lower(), list(words), scorer=fuzz.WRatio, score_cutoff=70)
    return words[found[0]].example if found else "help"


def help_reply(problem: str | None = None) -> Reply:
    return help_card(help_entries(), problem)


def answer(
    session: Session,
    text: str,
    *,
    settings: Settings,
    asker: Asker | None = None,
    offset: int = 0,
    today: dt.date | None = None,
) -> Reply:
    """The reply to `/health <text>` for this asker: never raises for what a person typed."""
    try:
        sub, args = parse(text)
    except CommandError as exc:
        return not_understood(str(exc), exc.closest)
    asker = asker or Asker()
    if sub.needs_admin(args) and not asker.is_admin:
        return message(ADMINS_ONLY.format(what=sub.admin_action))
    if sub.can_share(args) and not session.in_transaction():
        # A shareable reply reads (`Subcommand.shareable`); the few that also settle what they
        # read (a new order's deadline) begin their transaction there.
        db.reads_first(session)
    invocation = Invocation(
        session=session,
        settings=settings,
        asker=asker,
        text=" ".join(clean(text).split()),
        offset=offset,
        today=today or settings.today(),
        entries=help_entries(),
    )
    return sub.run(invocation, args)


class ShareRefusal(StrEnum):
    NOT_SHAREABLE = "not shareable"  # not a read-only reply (or not understood)
    SHARED_CHANNEL = "shared channel"  # confidential, and the channel is shared with another organisation


def share_refusal(session: Session, text: str, *, channel: str, channel_shared: bool) -> ShareRefusal | None:
    """Why the reply to `/health <text>` may not be shared into `channel`, or None when it may.

    Only read-only replies are shared. Into a channel shared with another organisation, nothing
    confidential goes, except one seller's own view into that seller's mapped channel.
    """
    try:
        sub, args = parse(text)
    except CommandError:
        return ShareRefusal.NOT_SHAREABLE
    if not sub.can_share(args):
        return ShareRefusal.NOT_SHAREABLE
    if not channel_shared or not sub.confidential:
        return None
    query = sub.seller(args) if sub.seller is not None else None
    if query is not None:
        shop = find_shop(session, query).shop
        if shop is not None and shop.slack_channel == channel:
            return None
    return ShareRefusal.SHARED_CHANNEL
