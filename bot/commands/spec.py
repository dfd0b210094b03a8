"""What a `/health` subcommand declares (`Subcommand`) and what it is given when it runs
(`Invocation`). Subcommand modules import this; the registry collects them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy.orm import Session

from blocks.kit import Reply
from bot.commands.asker import Asker
from bot.commands.grammar import Words
from bot.domain import Window
from bot.services.attention import Lens, lens_for
from bot.services.portfolio import PAGE_SIZE as PAGE_SIZE  # stored first pages have this size
from bot.settings import Settings


@dataclass(frozen=True)
class Invocation:
    """Everything a subcommand's `run` may use: the data, the settings, who asks, and where."""

    session: Session
    settings: Settings
    asker: Asker
    text: str  # the command as typed, normalised (for Show more and Share)
    offset: int
    today: dt.date
    # (usage, what it does, example) of every subcommand, for the help card.
    entries: Sequence[tuple[str, str, str]] = ()

    def lens(self, window: Window = Window.DAY) -> Lens:
        """What "needs action" means for this question: today, the window, the 48-point settings."""
        return lens_for(self.settings, window, self.today)

    @property
    def zone(self) -> tzinfo:
        """Where times are shown: the asker's own time zone, else HEALTHBOT_TIMEZONE."""
        return self.asker.zone() or self.settings.tz


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str  # the grammar after `/health`, e.g. "overview [vs 1d|7d]"
    summary: str  # what it does, for the help card
    example: str  # a working example after `/health`
    parse: Callable[[Words], Any]
    run: Callable[[Invocation, Any], Reply]
    aliases: tuple[str, ...] = ()
    # Who may run it: False (everyone), True (admins), or a test on the parsed arguments.
    admin_only: bool | Callable[[Any], bool] = False
    admin_action: str = "do that"  # "... may {admin_action}" in the refusal
    # Whether the reply may be re-rendered into a channel by Share (read-only replies only).
    shareable: bool | Callable[[Any], bool] = False
    # Who may see the reply: False for nothing confidential (help); else portfolio-wide, unless
    # `seller` names the one shop it is about (its query, None for a portfolio-wide reply), whose
    # own shared channel may see it.
    confidential: bool = True
    seller: Callable[[Any], str | None] | None = None
    rank: int = 100  # order on the help card

    def needs_admin(self, args: Any) -> bool:
        return self.admin_only(args) if callable(self.admin_only) else self.admin_only

    def can_share(self, args: Any) -> bool:
        return self.shareable(args) if callable(self.shareable) else self.shareable
