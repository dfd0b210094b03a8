"""The help card, from the `/health` registry's entries (usage, what it does, an example)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from blocks.ids import ActionId, CommandRef
from blocks.kit import MAX_SECTION_CHARS, Reply, button, finish, header, section
from blocks.text import escape


def help_card(entries: Sequence[tuple[str, str, str]], problem: str | None = None) -> Reply:
    """`entries`: (usage, what it does, example) per subcommand, in the registry's order."""
    blocks: list[Block] = []
    if problem:
        blocks.append(section(f":thinking_face: Sorry, {escape(problem)}."))
    blocks.append(header("Shop Health Bot"))
    blocks.append(
        section(
            "I watch your signed sellers' Account Health (AHR), Shop Performance (SPS) and "
            "TikTok account health (CHR). Try:"
        )
    )
    chunk = ""
    for usage, what, example in entries:
        line = f"• `/health {escape(usage)}`: {escape(what)}, e.g. `/health {escape(example)}`"
        if len(chunk) + len(line) + 1 > MAX_SECTION_CHARS:
            blocks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    blocks.append(section(chunk))
    first = ", ".join(usage.split()[0] for usage, _, _ in entries[:4])
    text = f"Sorry, {problem}. Try /health help" if problem else f"Shop Health Bot: /health {first}"
    return Reply(escape(text), finish(blocks))


def not_understood(problem: str, closest: str | None) -> Reply:
    """One line saying what was not understood and the closest valid form, and a Help button (not
    the whole help)."""
    line = f":thinking_face: Sorry, {escape(problem)}."
    if closest and closest != "help":
        line += f" Try `/health {escape(closest)}`."
    blocks: list[Block] = [
        section(
            line,
            accessory=button("Help", ActionId.SHOW_MORE, CommandRef(text="help").encode(), suffix="help"),
        )
    ]
    tried = f" Try /health {closest}." if closest and closest != "help" else " Try /health help."
    return Reply(escape(f"Sorry, {problem}.{tried}"), finish(blocks))
