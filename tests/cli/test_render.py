"""`healthbot ask` renders Slack's mrkdwn in the terminal (bot/cli/render.py): bold, italic,
strike, code, links, mentions and emoji names, and buttons and overflow menus as a list."""

from __future__ import annotations

from blocks.ids import ActionId
from blocks.kit import button, context, section
from bot.cli.render import render, to_markup


def test_mrkdwn_is_rendered_not_printed_raw() -> None:
    blocks = [
        section(
            ":warning: *Glow* fell, _see the card_ ~old~ `US1` <https://x.example/a|the page> <@U1> <#C1>"
        ).to_dict()
    ]
    out = render(blocks)
    assert out == "⚠ Glow fell, see the card old US1 the page (https://x.example/a) @U1 #C1\n"
    styled = render(blocks, color=True)
    assert "\x1b[1m" in styled  # bold on a terminal


def test_data_cannot_style_itself_or_hide_as_markup() -> None:
    out = render([section("&lt;!channel&gt; [bold]x[/bold] &amp; *_nested_*").to_dict()])
    assert out == "<!channel> [bold]x[/bold] & nested\n"
    assert to_markup("[red]") == "\\[red]"


def test_buttons_and_overflow_options_are_listed() -> None:
    from slack_sdk.models.blocks import ActionsBlock, Option, OverflowMenuElement

    menu = OverflowMenuElement(
        action_id="m", options=[Option(text="Snooze 1 day", value="a"), Option(text="Assign", value="b")]
    )
    blocks = [
        ActionsBlock(elements=[button("Open card", ActionId.OPEN_SHOP, "v"), menu]).to_dict(),
        context("_done_").to_dict(),
    ]
    assert render(blocks) == "[Open card]\n⋯ Snooze 1 day\n⋯ Assign\ndone\n"
