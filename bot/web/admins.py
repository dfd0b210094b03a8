"""Who may change digests, send authorization requests and block buyers: HEALTHBOT_ADMINS, user IDs
or user groups (`S…`, read from Slack and cached for a few minutes)."""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError

from bot.deps import Deps

log = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300


def is_admin(deps: Deps, user_id: str) -> bool:
    admins = deps.settings.healthbot_admins
    if not admins or user_id in admins:
        return True
    return any(user_id in _group_members(deps, group) for group in admins if group.startswith("S"))


def _group_members(deps: Deps, group: str) -> set[str]:
    # Group membership changes rarely; a short cache keeps one lookup per group per few minutes.
    with deps.lock:
        cached = deps.admin_cache.get(group)
    if cached and time.monotonic() - cached[0] < GROUP_CACHE_SECONDS:
        return cached[1]
    try:
        members = set(deps.client.usergroups_users_list(usergroup=group).get("users") or [])
    except SlackApiError as exc:
        log.warning("could not read user group %s: %s", group, exc.response.get("error"))
        return set()
    with deps.lock:
        deps.admin_cache[group] = (time.monotonic(), members)
    return members
