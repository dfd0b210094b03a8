"""Who is asking, and where: the Slack user, their team, the channel (and whether it is shared
with another organisation), and whether they are an admin. Members of other organisations never
get this far: the app's middleware answers them with one polite line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo


def _everyone() -> bool:
    return True


def _not_shared(channel: str) -> bool:
    return False


def _no_zone() -> tzinfo | None:
    return None


@dataclass(frozen=True)
class Asker:
    user_id: str = "cli"
    team_id: str | None = None
    channel_id: str | None = None
    # Resolved on demand: an admin check may read a user group from Slack, which most replies
    # never need.
    admin_check: Callable[[], bool] = field(default=_everyone, compare=False, repr=False)
    # Whether a channel is shared with another organisation (True too when Slack would not say):
    # read on demand, as it costs a Web API call that few replies need.
    shared: Callable[[str], bool] = field(default=_not_shared, compare=False, repr=False)
    # The person's own time zone (Slack's users.info), read on demand; None: the bot's zone.
    zone: Callable[[], tzinfo | None] = field(default=_no_zone, compare=False, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.admin_check()

    @property
    def in_shared_channel(self) -> bool:
        return bool(self.channel_id) and self.shared(self.channel_id or "")
