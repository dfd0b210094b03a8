"""Who is asking: the Slack user, their team, the channel, and whether they are an admin or an
outsider (a member of another organisation in a shared channel)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


def _everyone() -> bool:
    return True


@dataclass(frozen=True)
class Asker:
    user_id: str = "cli"
    team_id: str | None = None
    channel_id: str | None = None
    # Resolved on demand: an admin check may read a user group from Slack, which most replies
    # never need.
    admin_check: Callable[[], bool] = field(default=_everyone, compare=False, repr=False)
    outsider: bool = False

    @property
    def is_admin(self) -> bool:
        return not self.outsider and self.admin_check()
