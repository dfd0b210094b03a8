"""Slack's documented Block Kit limits (https://api.slack.com/reference/block-kit), checked the way
real Slack checks them: a message or view that breaks one gets `invalid_blocks`."""

from __future__ import annotations

from typing import Any

JsonDict = dict[str, Any]

# Slack's documented Block Kit limits (https://api.slack.com/reference/block-kit).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELD = 2000
MAX_SECTION_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_OPTIONS = 100
MAX_OVERFLOW_OPTIONS = 5
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_VIEW_TITLE = 24
MAX_MESSAGE_TEXT = 40000


def message_error(params: JsonDict, *, require_content: bool) -> JsonDict | None:
    """The Slack error body for an invalid message payload, or None if Slack would accept it."""
    text = params.get("text")
    blocks = params.get("blocks")
    if require_content and not text and not blocks and not params.get("attachments"):
        return {"ok": False, "error": "no_text"}
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return {"ok": False, "error": "msg_too_long"}
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        return {"ok": False, "error": "invalid_blocks_format"}
    errors = block_errors(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    if errors:
        return {"ok": False, "error": "invalid_blocks", "errors": errors}
    return None


def view_errors(view: JsonDict) -> list[str]:
    errors: list[str] = []
    if view.get("type") not in ("modal", "home"):
        errors.append("must be one of modal, home [json-pointer:/view/type]")
    for key in ("title", "submit", "close"):
        check_text(errors, view.get(key), MAX_VIEW_TITLE, f"/view/{key}")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        errors.append("must provide an array [json-pointer:/view/blocks]")
    else:
        errors.extend(block_errors(blocks, "/view/blocks", MAX_VIEW_BLOCKS))
    return errors


def block_errors(blocks: list[Any], pointer: str, max_blocks: int) -> list[str]:
    errors: list[str] = []
    check_count(errors, blocks, max_blocks, pointer)
    for i, block in enumerate(blocks):
        here = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type [json-pointer:{here}/type]")
            continue
        check_len(errors, block.get("block_id"), MAX_BLOCK_ID, f"{here}/block_id")
        kind = block["type"]
        if kind == "section":
            section_errors(errors, block, here)
        elif kind == "header":
            check_text(errors, block.get("text"), MAX_HEADER_TEXT, f"{here}/text", required=True)
        elif kind in ("actions", "context"):
            limit = MAX_ACTIONS_ELEMENTS if kind == "actions" else MAX_CONTEXT_ELEMENTS
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                errors.append(f"must provide a non-empty array [json-pointer:{here}/elements]")
                continue
            check_count(errors, elements, limit, f"{here}/elements")
            for j, element in enumerate(elements):
                element_errors(errors, element, f"{here}/elements/{j}")
        elif kind == "input":
            element_errors(errors, block.get("element"), f"{here}/element")
    return errors


def section_errors(errors: list[str], block: JsonDict, here: str) -> None:
    text, fields = block.get("text"), block.get("fields")
    if text is None and not fields:
        errors.append(f"must provide either text or fields [json-pointer:{here}]")
    if text is not None:
        check_text(errors, text, MAX_SECTION_TEXT, f"{here}/text", required=True)
    if isinstance(fields, list):
        check_count(errors, fields, MAX_SECTION_FIELDS, f"{here}/fields")
        for j, item in enumerate(fields):
            check_text(errors, item, MAX_SECTION_FIELD, f"{here}/fields/{j}", required=True)
    if "accessory" in block:
        element_errors(errors, block["accessory"], f"{here}/accessory")


def element_errors(errors: list[str], element: Any, here: str) -> None:
    if not isinstance(element, dict):
        return
    check_len(errors, element.get("action_id"), MAX_ACTION_ID, f"{here}/action_id")
    if element.get("type") == "button":
        check_text(errors, element.get("text"), MAX_BUTTON_TEXT, f"{here}/text", required=True)
        check_len(errors, element.get("value"), MAX_BUTTON_VALUE, f"{here}/value")
        check_len(errors, element.get("url"), MAX_URL, f"{here}/url")
    options = element.get("options")
    if isinstance(options, list):
        limit = MAX_OVERFLOW_OPTIONS if element.get("type") == "overflow" else MAX_OPTIONS
        check_count(errors, options, limit, f"{here}/options")
        for j, option in enumerate(options):
            if isinstance(option, dict):
                check_text(errors, option.get("text"), MAX_OPTION_TEXT, f"{here}/options/{j}/text")
                check_len(errors, option.get("value"), MAX_OPTION_VALUE, f"{here}/options/{j}/value")


def check_text(errors: list[str], obj: Any, limit: int, here: str, *, required: bool = False) -> None:
    """Check a text object's ``text`` (``{"type": ..., "text": ...}``) against ``limit`` chars."""
    if obj is None:
        if required:
            errors.append(f"missing required field: text [json-pointer:{here}]")
        return
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        errors.append(f"must be a text object [json-pointer:{here}]")
        return
    if required and not obj["text"]:
        errors.append(f"must be more than 0 characters [json-pointer:{here}/text]")
    check_len(errors, obj["text"], limit, f"{here}/text")


def check_count(errors: list[str], items: list[Any], limit: int, here: str) -> None:
    if len(items) > limit:
        errors.append(f"must provide an array of no more than {limit} items [json-pointer:{here}]")


def check_len(errors: list[str], value: Any, limit: int, here: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.append(f"must be less than {limit + 1} characters [json-pointer:{here}]")
