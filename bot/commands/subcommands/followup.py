"""`/health ack|snooze|unsnooze <shop>` and `/health assign <shop> @person|me|nobody`: team follow-up,
the same as the card's buttons."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from blocks import followup as builders
from blocks.kit import Reply
from blocks.message import message
from bot.commands.grammar import USER_MENTION, CommandError, Words, clip
from bot.commands.spec import Invocation, Subcommand
from bot.services import followup
from bot.services.lookup import find_shop
from bot.services.records import ShopInfo
from bot.settings import Settings

SNOOZE_OPTIONS = {
    "1d": "1d",
    "day": "1d",
    "7d": "7d",
    "week": "7d",
    "change": "change",
    "until-change": "change",
}


@dataclass(frozen=True)
class FollowUp:
    action: str  # ack | snooze | unsnooze | assign
    query: str
    option: str = ""  # snooze: 1d, 7d, change; assign: a user ID, me or nobody


def _parse(action: str, words: Words) -> FollowUp:
    raw = list(words.raw)
    option = ""
    if action == "snooze":
        option = "1d"
        if raw and raw[-1].lower() in SNOOZE_OPTIONS:
            option = SNOOZE_OPTIONS[raw.pop().lower()]
        elif raw and re.fullmatch(r"\d+[a-z]*", raw[-1].lower()):
            raise CommandError(
                f"`snooze` lasts `1d`, `7d` or until the scores `change`, not `{clip(raw[-1])}`"
            )
    elif action == "assign":
        if len(raw) < 2:
            raise CommandError(
                "`assign` takes a shop and a person, e.g. `assign US00042 @maria` (or `me`, `nobody`)"
            )
        last = raw.pop()
        match = USER_MENTION.match(last)
        if match:
            option = match.group(1)
        elif last.lower() in ("me", "nobody", "none"):
            option = last.lower()
        else:
            raise CommandError(
                f"`{clip(last)}` is not a person; mention them with @ (or say `me` or `nobody`)"
            )
    query = " ".join(raw)
    if not query:
        raise CommandError(f"which shop? e.g. `/health {action} US00042`")
    return FollowUp(action, query, option)


def apply_follow_up(
    session: Session,
    action: str,
    shop: ShopInfo,
    *,
    user_id: str,
    option: str,
    today: dt.date,
    settings: Settings,
) -> Reply:
    """ack | snooze (option 1d, 7d, change) | unsnooze | assign (option: user ID, me, nobody); commits."""
    if action == "ack":
        followup.acknowledge(session, shop.shop_id, user_id)
        reply = builders.acknowledged(user_id, shop.shop_name)
    elif action == "snooze":
        mode = followup.SnoozeMode(option)
        followup.snooze(session, shop.shop_id, user_id, mode, today=today)
        reply = builders.snoozed(shop.shop_name, mode.label)
    elif action == "unsnooze":
        followup.unsnooze(session, shop.shop_id)
        reply = builders.unsnoozed(shop.shop_name)
    else:
        owner = None if option in ("nobody", "none") else user_id if option == "me" else option
        followup.assign_owner(session, shop.shop_id, owner, settings)
        reply = builders.assigned(shop.shop_name, owner)
    session.commit()
    return reply


def _run(invocation: Invocation, args: FollowUp) -> Reply:
    found = find_shop(invocation.session, args.query)
    if found.shop is None:
        return message(f"Which seller? “{args.query[:60]}” does not name exactly one; try its shop code.")
    return apply_follow_up(
        invocation.session,
        args.action,
        found.shop,
        user_id=invocation.asker.user_id,
        option=args.option,
        today=invocation.today,
        settings=invocation.settings,
    )


def _subcommand(
    action: str, aliases: tuple[str, ...], usage: str, summary: str, example: str, rank: int
) -> Subcommand:
    return Subcommand(
        name=action,
        aliases=aliases,
        usage=usage,
        summary=summary,
        example=example,
        parse=lambda words: _parse(action, words),
        run=_run,
        rank=rank,
    )


SUBCOMMANDS = (
    _subcommand("ack", ("acknowledge",), "ack <shop>", "acknowledge a seller: you are on it", "ack US00003", 90),
    _subcommand(
        "snooze", (), "snooze <shop> [1d|7d|change]",
        "keep a seller out of the digest for a day, a week, or until its scores change", "snooze US00003 7d", 91,
    ),
    _subcommand("unsnooze", (), "unsnooze <shop>", "put a snoozed seller back in the digest", "unsnooze US00003", 92),
    _subcommand(
        "assign", ("owner",), "assign <shop> @person|me|nobody", "set a seller's owner", "assign US00003 me", 93
    ),
)  # fmt: skip
