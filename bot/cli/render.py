"""Block Kit in the terminal, for `healthbot ask`: Slack's mrkdwn shown as it looks in Slack (bold,
italic, strike, code, links, mentions, emoji names), fields side by side, buttons and overflow
menus as a list of what can be pressed. Rendered with `rich`: styled on a terminal, plain text
when the output is a file or a pipe.
"""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>|<(https?://[^>|]+)>")
_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "bold"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "italic"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "strike"),
)
_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")


def to_markup(mrkdwn: str) -> str:
    """Slack mrkdwn as rich console markup (everything else escaped, so data cannot style itself)."""
    pieces: list[str] = []
    for i, part in enumerate(_CODE.split(mrkdwn)):
        if i % 2:  # inside backticks: literal, shown as code
            pieces.append(f"[cyan]{escape(_unescape(part))}[/cyan]")
            continue
        text = escape(part)
        text = _LINK.sub(lambda m: _link(m.group(1) or m.group(3), m.group(2) or m.group(3)), text)
        text = _MENTION.sub(_mention, text)
        for pattern, style in _STYLES:
            text = pattern.sub(rf"[{style}]\1[/{style}]", text)
        pieces.append(_unescape(text))
    return "".join(pieces)


def _link(url: str, label: str) -> str:
    return f"[link={url}]{label}[/link] ({url})" if label != url else f"[link={url}]{url}[/link]"


def _mention(match: re.Match[str]) -> str:
    kind, target, label = match.group(1), match.group(2), match.group(3)
    if kind == "!":
        return f"@{label or target.split('^')[0]}"
    return f"[bold]{kind}{label or target}[/bold]"


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: dict[str, Any] | None) -> str:
    """A text object as markup: mrkdwn is rendered, plain_text shown as it is."""
    if not obj:
        return ""
    raw = str(obj.get("text", ""))
    return to_markup(raw) if obj.get("type") == "mrkdwn" else escape(raw)


def _element(element: dict[str, Any]) -> list[str]:
    kind = element.get("type")
    if kind == "button":
        label = f"[bold]\\[{_text(element.get('text'))}][/bold]"
        return [label + (f" {escape(element['url'])}" if element.get("url") else "")]
    if kind in ("overflow", "static_select"):
        return [f"[dim]⋯[/dim] {_text(option.get('text'))}" for option in element.get("options", [])]
    return []


def renderables(blocks: list[dict[str, Any]]) -> list[RenderableType]:
    """What to print for each block: lines of text, and a two-column grid for a section's fields."""
    out: list[RenderableType] = []

    def line(markup: str) -> None:
        out.append(Text.from_markup(markup, emoji=True))

    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            line("")
            line(f"[bold underline]{_text(block.get('text'))}[/bold underline]")
        elif kind == "section":
            if block.get("text"):
                line(_text(block["text"]))
            fields = [Text.from_markup(_text(f), emoji=True) for f in block.get("fields", [])]
            if fields:
                grid = Table.grid(padding=(0, 3))
                grid.add_column()
                grid.add_column()
                for left, right in zip(fields[::2], [*fields[1::2], Text("")], strict=False):
                    grid.add_row(left, right)
                out.append(grid)
            for element in _element(block["accessory"]) if block.get("accessory") else []:
                line(f"    {element}")
        elif kind == "context":
            line("[dim]" + "  ".join(_text(e) for e in block.get("elements", [])) + "[/dim]")
        elif kind == "divider":
            line("[dim]" + "─" * 40 + "[/dim]")
        elif kind == "actions":
            for element in block.get("elements", []):
                for markup in _element(element):
                    line(markup)
        elif kind == "image":
            line(f"[image: {escape(str(block.get('alt_text', '')))}]")
    return out


def render(blocks: list[dict[str, Any]], width: int = 100, *, color: bool = False) -> str:
    """The blocks as terminal text (ANSI styles with `color`, else plain)."""
    buffer = io.StringIO()
    out = Console(file=buffer, width=width, highlight=False, force_terminal=color, no_color=not color)
    for renderable in renderables(blocks):
        out.print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().strip("\n").splitlines()) + "\n"
