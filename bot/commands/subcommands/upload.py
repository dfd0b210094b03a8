"""`/health import`: in a channel, the admin's next file shared there is imported (a wait row, so
the file event may reach any replica); in the bot's DM, any file dropped there is imported anyway."""

from __future__ import annotations

from blocks.kit import Reply
from blocks.upload import how_to_import, waiting_for_file
from bot.commands.grammar import CommandError, Words
from bot.commands.spec import Invocation, Subcommand
from bot.services.uploads import WAIT_MINUTES, open_wait


def _parse(words: Words) -> None:
    if words.raw:
        raise CommandError(
            "`import` takes nothing: run `/health import`, then share the file in the same channel"
        )


def _run(invocation: Invocation, _: None) -> Reply:
    channel = invocation.asker.channel_id
    if not channel:  # `healthbot ask`: no channel to wait in
        return how_to_import(in_dm=False)
    if channel.startswith("D"):
        return how_to_import(in_dm=True)
    open_wait(invocation.session, invocation.asker.user_id, channel)
    invocation.session.commit()
    return waiting_for_file(WAIT_MINUTES)


SUBCOMMANDS = (
    Subcommand(
        name="import",
        aliases=("upload",),
        usage="import",
        summary="import data: share a .csv or .xlsx (ours, or Partner Center's export) here next, or drop it in my DM",
        example="import",
        parse=_parse,
        run=_run,
        admin_only=True,
        admin_action="import data",
        rank=96,
    ),
)
