"""Authorization-request links: the message the seller gets, the copy for the clicker to forward,
the 24-hour confirmation, and what the clicker is told."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import ActionsBlock

from blocks.ids import ActionId, ConfirmSendRef, ShopRef
from blocks.kit import Reply, button, finish, section
from blocks.message import message
from blocks.text import channel_mention, name, plural


def _api_line(api_link: str | None) -> str:
    """The partner app's own authorization link (TikTok Open API), when the bot can make one."""
    if not api_link:
        return ""
    return f"\nTo let us warn you before dispatch deadlines, also authorize our app (single use): {api_link}"


def request_for_seller(shop_name: str, link: str, api_link: str | None = None) -> str:
    """Posted in the seller's own (Slack Connect) channel."""
    return (
        f"Hello from your TikTok Shop Partner: to let us watch *{name(shop_name)}*'s account health "
        f"and help you avoid restrictions, please grant access here: {link}" + _api_line(api_link)
    )


def request_to_forward(shop_name: str, link: str, api_link: str | None = None) -> str:
    """Posted in the clicker's DM, ready to forward."""
    return f"Here is *{name(shop_name)}*'s authorization-request link, ready to forward:\n{link}" + _api_line(
        api_link
    )


def _where(channel: str) -> str:
    return "a DM" if channel.startswith(("DM:", "D")) else channel_mention(channel)


def confirm_resend(
    shop_id: str, shop_name: str, *, previous_id: int, sent_by: str, channel: str, sent_at: dt.datetime
) -> Reply:
    ago = max(1, int((dt.datetime.now(dt.UTC) - sent_at).total_seconds() // 60))
    again = ConfirmSendRef(shop_id=shop_id, previous_id=previous_id).encode()
    blocks = [
        section(
            f"<@{sent_by}> already sent *{name(shop_name)}* a request link "
            f"{plural(ago, 'minute')} ago (to {_where(channel)}). Send it again?"
        ),
        ActionsBlock(
            elements=[
                button("Send again", ActionId.CONFIRM_REQUEST_AUTHORIZATION, again, style="danger"),
                button("Cancel", ActionId.CANCEL, ShopRef(shop_id=shop_id).encode()),
            ]
        ),
    ]
    return Reply("Request link already sent recently. Send again?", finish(blocks))


def request_sent(shop_name: str, channel: str | None) -> Reply:
    where = channel_mention(channel) if channel else "your DMs, ready to forward"
    return message(f"Request link for {name(shop_name)} sent to {where}.", mrkdwn=True)


def request_failed(error: str) -> Reply:
    return message(f"I couldn't send the request link ({error}). Nothing was sent; try again.")


ADMINS_ONLY = "Only the bot's admins (HEALTHBOT_ADMINS) may send authorization requests."


def request_unconfirmed(shop_name: str) -> Reply:
    return message(
        f"Slack did not confirm the request link for {name(shop_name)}. It will not be sent twice: "
        "look for it, and press the button again in a few minutes if it is not there.",
        mrkdwn=True,
    )
