"""The pieces every message is built from, on `slack_sdk` models, and the one place Slack's limits
are guarded: text lengths, the 10 fields of a section, and the 50 blocks of a message."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks.ids import ActionId, CommandRef
from blocks.text import plural, truncate, when
from bot.domain import Level
from bot.services.records import Freshness

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_FIELD_CHARS = 2000
MAX_HEADER_CHARS = 150
MAX_BUTTON_CHARS = 75
MAX_CONTEXT_ELEMENT_CHARS = 2000

DOT = {Level.GOOD: "🟢", Level.WARNING: "🟡", Level.CRITICAL: "🔴", Level.UNKNOWN: "⚪"}
SPARK = "▁▂▃▄▅▆▇█"


@dataclass
class Reply:
    """A message: notification text plus blocks (dicts, ready for the Web API)."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_message(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=truncate(text, MAX_HEADER_CHARS))


def section(
    text: str, *, fields: list[str] | None = None, accessory: Any = None, block_id: str | None = None
) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=truncate(text, MAX_SECTION_CHARS)) if text else None,
        fields=[MarkdownTextObject(text=truncate(f, MAX_FIELD_CHARS)) for f in fields[:10]]
        if fields
        else None,
        accessory=accessory,
        block_id=block_id,
    )


def context(*texts: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text=truncate(t, MAX_CONTEXT_ELEMENT_CHARS)) for t in texts[:10]],
        block_id=block_id,
    )


def button(
    text: str,
    action_id: ActionId,
    value: str | None = None,
    *,
    url: str | None = None,
    style: str | None = None,
    suffix: str = "",
) -> ButtonElement:
    # Each action_id must be unique within a message; the suffix keeps repeated row buttons apart.
    return ButtonElement(
        text=truncate(text, MAX_BUTTON_CHARS),
        action_id=f"{action_id.value}{':' + suffix if suffix else ''}",
        value=value,
        url=url,
        style=style,
    )


def divider() -> DividerBlock:
    return DividerBlock()


def freshness_stamp(fresh: Freshness, zone: dt.tzinfo = dt.UTC) -> str:
    if fresh.refreshed_at is None:
        return ":hourglass: No data imported yet: `healthbot import` or `healthbot demo`"
    text = f":clock3: Data as of {fresh.data_date:%b %-d, %Y}" if fresh.data_date else ":clock3: Data"
    text += f" · updated {when(fresh.refreshed_at, zone)}"
    if fresh.stale_sources:
        text += f" · :warning: stale: {', '.join(fresh.stale_sources)}"
    if fresh.failing_sources:
        text += f" · :warning: last sync failed: {', '.join(fresh.failing_sources)}"
    return text


def share_button(command: str, offset: int = 0) -> ButtonElement:
    return button("Share to channel", ActionId.SHARE, CommandRef(text=command, offset=offset).encode())


def sparkline(values: Sequence[int | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    if low == high:  # a flat line is drawn level at mid height, not as "all at the minimum"
        return "".join(" " if v is None else SPARK[len(SPARK) // 2 - 1] for v in values)
    span = high - low
    return "".join(" " if v is None else SPARK[round((v - low) / span * (len(SPARK) - 1))] for v in values)


def finish(blocks: Sequence[Block], *, footer: Sequence[Block] | None = None) -> list[dict[str, Any]]:
    """Cap to Slack's 50 blocks, keeping the footer (buttons, freshness) and noting what was cut."""
    footer = footer or []
    room = MAX_BLOCKS - len(footer)
    if len(blocks) > room:
        blocks = [*blocks[: room - 1], context(f"… {plural(len(blocks) - room + 1, 'more block')} not shown")]
    chosen = [*blocks, *footer]
    out = [as_json(b) for b in chosen]
    if CHECKED and out != (checked := [b.to_dict() for b in chosen]):
        raise AssertionError(f"as_json differs from slack_sdk's to_dict: {out} != {checked}")
    return out


# The tests set this: every message is then also built by slack_sdk's `to_dict`, which validates
# it, and must come out the same.
CHECKED = False


def as_json(value: Any) -> Any:
    """What slack_sdk's `to_dict` gives (keys sorted, empty values left out), without its
    validation pass, which cost as much again on every reply: the helpers above already keep to
    Slack's limits, and the tests run the validation on every message (`CHECKED`). A class with a
    `to_dict` of its own (Option, ConfirmObject, rich text) goes through it. How a type is turned
    into JSON is worked out once per type (slack_sdk builds a class's attribute names anew, as a
    set, on every access, and `isinstance` on its abstract base class is slow)."""
    how = _HOW.get(type(value))
    if how is None:
        how = _HOW[type(value)] = _how(value)
    if how is _AS_IS:
        return value
    if how is _EACH:
        return [as_json(v) for v in value]
    if how is _OWN:
        return {k: as_json(v) for k, v in value.to_dict().items()}
    out = {}
    for key in how:  # a plain JsonObject's attribute names, sorted
        item = getattr(value, key, None)
        if item is not None and not (hasattr(item, "__len__") and len(item) == 0):
            out[key] = as_json(item)
    return out


_AS_IS, _EACH, _OWN = ("as is",), ("each",), ("own",)
_HOW: dict[type, tuple[str, ...]] = {}


def _how(value: Any) -> tuple[str, ...]:
    cls = type(value)
    if issubclass(cls, list | tuple):
        return _EACH
    if issubclass(cls, JsonObject) and _plain(cls):
        return tuple(sorted(value.attributes))
    if callable(getattr(value, "to_dict", None)):
        return _OWN
    return _AS_IS


@functools.cache
def _plain(cls: type[JsonObject]) -> bool:
    """The class serialises as JsonObject does (its own `to_dict` or rich text's empty lists do not)."""
    return (
        cls.to_dict is JsonObject.to_dict
        and cls.get_non_null_attributes is JsonObject.get_non_null_attributes
        and cls.get_object_attribute is JsonObject.get_object_attribute
        and not str(getattr(cls, "type", "") or "").startswith("rich_text")
    )
