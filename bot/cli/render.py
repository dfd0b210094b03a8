"""Render Block Kit as readable terminal text, for `healthbot ask`."""

from __future__ import annotations

import re
from typing import Any

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_USER = re.compile(r"<@([A-Z0-9]+)>")


def _plain(text: str) -> str:
    text = _LINK.sub(r"\2 (\1)", text)
    text = _USER.sub(r"@\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: dict[str, Any] | None) -> str:
    return _plain(obj.get("text", "")) if obj else ""


def render(blocks: list[dict[str, Any]], width: int = 100) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"))
            lines += ["", title, "=" * min(len(title) + 2, width)]
        elif kind == "section":
            if block.get("text"):
                lines += [_text(block["text"])]
            fields = [_text(f) for f in block.get("fields", [])]
            for left, right in zip(fields[::2], [*fields[1::2], ""], strict=False):
                left_lines, right_lines = left.split("\n"), right.split("\n")
                for i in range(max(len(left_lines), len(right_lines))):
                    a = left_lines[i] if i < len(left_lines) else ""
                    b = right_lines[i] if i < len(right_lines) else ""
                    lines.append(f"{a:<48} {b}".rstrip())
            accessory = block.get("accessory")
            if accessory and accessory.get("type") == "button":
                lines.append(f"    [{_text(accessory.get('text'))}]")
        elif kind == "context":
            lines.append("  " + "  ".join(_text(e) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("-" * min(width, 60))
        elif kind == "actions":
            buttons = []
            for element in block.get("elements", []):
                label = f"[{_text(element.get('text'))}]"
                if element.get("url"):
                    label += f" ({element['url']})"
                buttons.append(label)
            lines.append(" ".join(buttons))
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
    return "\n".join(lines).strip("\n") + "\n"
