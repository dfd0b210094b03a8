"""Files handed to the bot in Slack: dropped into its DM (the `message` event, subtype
`file_share`, which carries every file of the message), or shared in a channel after `/health
import` (the `file_shared` event; the bot reads no channel messages).

The listener only decides whether the event may be an upload for us; everything else runs after
the ack (`Deps.later`): who is asking (admins only, outsiders never; refused before any download),
`files.info`, the type and size checks, the download with the bot token, the import (all files of a
message together, shops first), and the reply in the message's thread: per file its layout, rows
imported, data date and every bad row (the full list as a text file when long). Each file is
claimed once, so Slack's retries and the second event for the same file change nothing; a file
uploaded again is imported again, which changes nothing either.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks import upload as builders
from blocks.kit import Reply
from bot.commands.asker import Asker
from bot.commands.registry import ADMINS_ONLY
from bot.deps import Deps, asker_of, deps_of, session_of
from bot.ingest.download import DownloadError, download
from bot.ingest.loader import import_paths
from bot.ingest.readers import SUFFIXES
from bot.services import claims, uploads

log = logging.getLogger(__name__)
OUTSIDERS = "Shop Health Bot takes files only from members of this workspace."


@dataclass(frozen=True)
class Drop:
    """Files one person shared in one place, as the event told it."""

    user_id: str
    channel_id: str
    file_ids: tuple[str, ...]
    thread_ts: str | None  # the DM message to reply under; None in a channel (from files.info)
    team_id: str | None  # the workspace the event was delivered for
    user_team: str | None  # the sharer's own team, when the event names it


def file_share_message(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    """A message with files in the bot's DM."""
    user = event.get("user")
    if event.get("bot_id") or not isinstance(user, str) or user == context.bot_user_id:
        return  # the bot's own uploads (the list of bad rows) come back as events too
    channel = str(event.get("channel") or "")
    if event.get("channel_type") != "im" and not channel.startswith("D"):
        return  # channel messages are not read; `file_shared` serves `/health import`
    files = tuple(str(f["id"]) for f in event.get("files") or [] if isinstance(f, dict) and f.get("id"))
    if files:
        thread = str(event.get("thread_ts") or event.get("ts") or "") or None
        _later(context, Drop(user, channel, files, thread, body.get("team_id"), event.get("user_team")))


def file_shared(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    """A file shared where the bot is: imported when its sharer ran `/health import` there."""
    user, channel, file_id = event.get("user_id"), event.get("channel_id"), event.get("file_id")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(file_id, str)):
        return
    if user == context.bot_user_id or channel.startswith("D"):
        return  # in the DM the message event carries every file of the message together
    if not uploads.waiting(session_of(context), user, channel):
        return  # an ordinary file in a channel: none of our business
    _later(context, Drop(user, channel, (file_id,), None, body.get("team_id"), None))


def other_message(event: dict[str, Any]) -> None:
    """Anything else said in the DM: nothing to do (subscribed for the file shares)."""


def _later(context: BoltContext, drop: Drop) -> None:
    deps, asker, client = deps_of(context), asker_of(context), context.client
    assert client is not None
    deps.later.run(lambda: take(deps, client, asker, drop))


def take(deps: Deps, client: WebClient, asker: Asker, drop: Drop) -> None:
    """Check, download, import and answer (after the ack); every failure is told in the thread."""
    fresh = [f for f in drop.file_ids if claims.claim(deps.factory, f"upload:{f}", drop.user_id)]
    if not fresh:
        return  # a retry, or the other event for the same file
    thread = drop.thread_ts
    try:
        # Outsiders never reach this listener (the middleware answers them); an event naming the
        # sharer's team outside this workspace is refused here as well, before any download.
        foreign = bool(drop.user_team and drop.team_id and drop.user_team != drop.team_id)
        if foreign:
            _post(client, drop.channel_id, thread, builders.refused(OUTSIDERS))
            return
        if not asker.is_admin:
            _post(client, drop.channel_id, thread, builders.refused(ADMINS_ONLY.format(what="import data")))
            return
        files = [client.files_info(file=file_id)["file"] for file_id in fresh]
        if thread is None:  # a channel: only the message that takes the wait is imported
            share = _share(files[0], drop.channel_id)
            if share is None or not uploads.take_wait(deps.factory, drop.user_id, drop.channel_id, share[0]):
                return
            thread = share[1]
            if any(f.get("user_team") not in (None, drop.team_id) for f in files):  # a file from elsewhere
                _post(client, drop.channel_id, thread, builders.refused(OUTSIDERS))
                return
        _import(deps, client, drop, files, thread)
    except Exception:
        reference = uuid.uuid4().hex[:8]
        log.exception("upload failed ref=%s user=%s channel=%s", reference, drop.user_id, drop.channel_id)
        try:
            _post(
                client,
                drop.channel_id,
                thread,
                builders.refused(
                    f"Sorry, the import failed on our side (reference {reference}). Please try again."
                ),
            )
        except Exception:
            log.warning("could not tell the uploader about ref=%s", reference)


def _import(
    deps: Deps, client: WebClient, drop: Drop, files: list[dict[str, Any]], thread: str | None
) -> None:
    settings = deps.settings
    max_bytes = settings.healthbot_upload_max_mb * 1_000_000
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    refused: list[str] = []
    with tempfile.TemporaryDirectory(prefix="healthbot-upload-") as folder:
        taken: list[tuple[Path, str]] = []
        for index, file in enumerate(files):
            name = str(file.get("name") or file.get("title") or file.get("id"))
            suffix = Path(name).suffix.lower()
            url = file.get("url_private_download") or file.get("url_private")
            if suffix not in SUFFIXES:
                refused.append(
                    builders.file_refused(
                        name, f"not a .csv or .xlsx file ({file.get('pretty_type') or 'unknown type'})"
                    )
                )
            elif int(file.get("size") or 0) > max_bytes:
                refused.append(
                    builders.file_refused(
                        name,
                        f"{int(file['size']) / 1e6:.1f} MB is over the {settings.healthbot_upload_max_mb} MB limit",
                    )
                )
            elif not isinstance(url, str) or file.get("is_external"):
                refused.append(
                    builders.file_refused(name, "a link to a file stored elsewhere: upload the file itself")
                )
            else:
                target = Path(folder) / f"{index}{suffix}"
                try:
                    download(url, token, target, max_bytes=max_bytes, api_url=settings.slack_api_url)
                except DownloadError as exc:
                    refused.append(builders.file_refused(name, str(exc)))
                    continue
                taken.append((target, name))
        if refused:
            _post(client, drop.channel_id, thread, builders.files_refused(refused))
        if not taken:
            return
        results = import_paths(deps.factory, taken, settings=deps.settings)
    log.info(
        "upload imported by=%s channel=%s files=%s committed=%s",
        drop.user_id,
        drop.channel_id,
        len(results),
        sum(r.committed for r in results),
    )
    _post(client, drop.channel_id, thread, builders.import_report(results))
    if builders.needs_full_list(results):
        client.files_upload_v2(
            channel=drop.channel_id,
            thread_ts=thread,
            content=builders.errors_text(results),
            filename="import-problems.txt",
            title="Every bad row",
        )


def _share(file: dict[str, Any], channel: str) -> tuple[str, str] | None:
    """(the sharing message's ts, the thread to answer in) of the file's share in the channel."""
    shares = file.get("shares") or {}
    for where in ("public", "private"):
        found = (shares.get(where) or {}).get(channel) or []
        if found:
            ts = str(found[0].get("ts") or "")
            return (ts, str(found[0].get("thread_ts") or ts)) if ts else None
    return None


def _post(client: WebClient, channel: str, thread: str | None, reply: Reply) -> None:
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread, text=reply.text, blocks=reply.blocks)
    except SlackApiError as exc:
        log.warning("could not answer an upload in %s: %s", channel, exc.response.get("error"))


def register(app: App) -> None:
    app.event({"type": "message", "subtype": "file_share"})(file_share_message)
    app.event("file_shared")(file_shared)
    app.event("message")(other_message)
