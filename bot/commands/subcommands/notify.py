"""`/health notify milestones on|off`: a DM when one of my sellers crosses an AHR milestone."""

from __future__ import annotations

from blocks.followup import milestone_dm_choice
from blocks.kit import Reply
from bot.commands.grammar import CommandError, Words
from bot.commands.spec import Invocation, Subcommand
from bot.services import followup


def _parse(words: Words) -> bool:
    rest = words.lower
    if len(rest) == 2 and rest[0] == "milestones" and rest[1] in ("on", "off"):
        return rest[1] == "on"
    raise CommandError("`notify` takes `milestones on` or `milestones off`")


def _run(invocation: Invocation, enabled: bool) -> Reply:
    followup.set_milestone_dm(invocation.session, invocation.asker.user_id, enabled)
    invocation.session.commit()
    return milestone_dm_choice(enabled)


SUBCOMMANDS = (
    Subcommand(
        name="notify",
        usage="notify milestones on|off",
        summary="a DM when one of your sellers crosses an AHR milestone",
        example="notify milestones on",
        parse=_parse,
        run=_run,
        rank=95,
    ),
)
