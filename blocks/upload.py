"""Replies to files handed to the bot (a DM upload, `/health import`, the playground): per file its
layout, rows imported, data date and every bad row by line and column, capped, with the full list
as a text file when it is long."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from blocks.kit import Reply, context, finish, section
from blocks.text import escape, plural, truncate
from bot.ingest.formats import ImportResult

MAX_ERRORS_SHOWN = 15  # bad rows listed in the message; the rest go into the attached list
MAX_FILES_SHOWN = 10
HOW = (
    "I import `.csv` and `.xlsx` files: our own layouts, or Partner Center's Health List and "
    "TikTok Account Health exports as they are (put the data date in the file name, e.g. "
    "`health-list-2026-11-24.xlsx`)."
)


def _title(result: ImportResult) -> str:
    return f"*{escape(truncate(result.source, 120))}*"


def _outcome(result: ImportResult) -> str:
    what = escape(result.layout) if result.layout else ""
    dated = f", data date {result.data_date:%-d %b %Y}" if result.data_date else ""
    if result.committed and not result.errors:
        return f":white_check_mark: {what}: {plural(result.imported, 'row')} imported{dated}"
    if result.committed:
        return (
            f":warning: {what}: {plural(result.imported, 'row')} imported{dated}, "
            f"{plural(result.bad_rows, 'bad row')} skipped"
        )
    if not result.layout:  # the file itself could not be read
        return ":x: not imported"
    return f":x: {what}: rejected, nothing imported ({plural(result.bad_rows, 'bad row')} of {result.rows:,}){dated}"


def import_report(results: Sequence[ImportResult], *, max_errors: int = MAX_ERRORS_SHOWN) -> Reply:
    """What was imported from each file, and the first bad rows (the caller attaches the rest)."""
    blocks: list[Block] = []
    shown = 0
    total_errors = sum(len(r.errors) for r in results)
    for result in results[:MAX_FILES_SHOWN]:
        lines = [f"{_title(result)}\n{_outcome(result)}"]
        lines += [f":information_source: {escape(note)}" for note in result.notes]
        for error in result.errors:
            if shown >= max_errors:
                break
            where = f"line {error.line}, column {escape(error.column)}: " if error.column != "-" else ""
            lines.append(f"• {where}{escape(truncate(error.reason, 300))}")
            shown += 1
        blocks.append(section("\n".join(lines)))
    if len(results) > MAX_FILES_SHOWN:
        blocks.append(context(f"… and {plural(len(results) - MAX_FILES_SHOWN, 'more file')}"))
    if total_errors > shown:
        blocks.append(
            context(f"… and {plural(total_errors - shown, 'more bad row')}: the full list is attached.")
        )
    if any(not r.committed for r in results):
        blocks.append(
            context("Fix the rows above and upload the file again; nothing from a rejected file was kept.")
        )
    imported = sum(r.imported for r in results if r.committed)
    text = f"Imported {plural(imported, 'row')} from {plural(len(results), 'file')}"
    if total_errors:
        text += f"; {plural(total_errors, 'problem')}"
    return Reply(text, finish(blocks))


def needs_full_list(results: Sequence[ImportResult], *, max_errors: int = MAX_ERRORS_SHOWN) -> bool:
    return sum(len(r.errors) for r in results) > max_errors


def errors_text(results: Sequence[ImportResult]) -> str:
    """Every bad row of every file, one per line, for the attached list (plain text, not mrkdwn)."""
    lines = []
    for result in results:
        if result.errors:
            lines.append(f"{result.source}: {plural(len(result.errors), 'problem')}")
            lines += [f"  {error}" for error in result.errors]
    return "\n".join(lines) + "\n"


def refused(reason: str) -> Reply:
    """A file not taken, and why (reason escaped here)."""
    text = escape(reason)
    return Reply(text, finish([section(f":no_entry: {text}")]))


def file_refused(name: str, reason: str) -> str:
    return f"{escape(truncate(name, 120))}: {escape(reason)}"


def files_refused(lines: Sequence[str]) -> Reply:
    """Files that were not downloaded (wrong type, too large), each with the reason; lines escaped."""
    body = "\n".join(f"• {line}" for line in lines)
    return Reply(
        "Some files were not imported", finish([section(f":no_entry: Not imported:\n{body}"), context(HOW)])
    )


def waiting_for_file(minutes: int) -> Reply:
    text = (
        f":inbox_tray: Share the file here in the next {minutes} minutes and I will import it "
        "(`.csv` or `.xlsx`; files of one message all count). To import a shops file with its data "
        "in one go, drop them together into my DM."
    )
    return Reply("Share the file to import here", finish([section(text), context(HOW)]))


def how_to_import(in_dm: bool) -> Reply:
    where = (
        "Drop the file into this conversation and I will import it."
        if in_dm
        else "Run `/health import` in a channel and share the file there, or drop it into my DM. "
        "From a terminal: `healthbot import FILE…`."
    )
    return Reply("How to import", finish([section(f":inbox_tray: {where}"), context(HOW)]))
