"""Messages are turned into dicts without slack_sdk's validation pass (`kit.as_json`); the tests
run that validation on every message they build (`kit.CHECKED`, set in conftest)."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import ActionsBlock, Option, OverflowMenuElement

from blocks import kit
from blocks.ids import ActionId


def test_as_json_gives_what_slack_sdk_gives_for_every_kind_of_piece_the_app_uses() -> None:
    blocks = [
        kit.header("Glow Beauty"),
        kit.section("*AHR* 120", fields=["a", "b"], accessory=kit.button("Open", ActionId.SHARE, "v")),
        kit.section("", fields=["only fields"]),
        kit.context("one", "two", block_id="ctx"),
        kit.divider(),
        ActionsBlock(
            elements=[
                kit.button("Go", ActionId.SHARE, url="https://seller.example/x", style="primary"),
                OverflowMenuElement(  # Option has a to_dict of its own
                    action_id="more", options=[Option(value="a", label="A"), Option(value="b", label="B")]
                ),
            ]
        ),
    ]
    assert [kit.as_json(b) for b in blocks] == [b.to_dict() for b in blocks]
    assert kit.as_json(blocks[2]) == {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": "only fields"}],
    }


def test_in_the_tests_a_message_slack_would_refuse_fails_where_it_is_built() -> None:
    too_long = kit.button("Go", ActionId.SHARE, "x" * 2001)  # a button's value holds at most 2,000
    assert kit.CHECKED
    with pytest.raises(SlackObjectFormationError):
        kit.finish([kit.section("hi", accessory=too_long)])
