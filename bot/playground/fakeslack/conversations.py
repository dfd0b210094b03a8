"""The fake's workspace and channels: `auth.test` (which team the bot belongs to),
`conversations.info` (is a channel shared with another organisation?), and the history and thread
replies the bot reads to settle whether a post it could not confirm was made."""

from __future__ import annotations

from bot.playground.fakeslack.blockkit import JsonDict
from bot.playground.fakeslack.wire import Reply, api_error, api_ok, as_str

HISTORY_LIMIT = 1000


class ConversationMethods:
    """A mixin of FakeSlack. Configure `team_id`, `team_name`, `enterprise_id`, and `channels`
    (channel ID -> fields merged into conversations.info, e.g. {"is_ext_shared": True}, or
    {"missing": True} for a channel the bot cannot see)."""

    team_id: str = "T1"
    team_name: str = "Acme Agency"
    enterprise_id: str | None = None
    # The bot token's scopes, sent by auth.test in the `x-oauth-scopes` header as Slack does (None:
    # no header).
    scopes: list[str] | None = None
    channels: dict[str, JsonDict]
    _messages: dict[tuple[str, str], JsonDict]

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    def _auth_test(self, params: JsonDict, now: float) -> Reply:
        fields: JsonDict = {
            "user_id": "UBOT",
            "bot_id": "BBOT",
            "team_id": self.team_id,
            "team": self.team_name,
        }
        if self.enterprise_id:
            fields["enterprise_id"] = self.enterprise_id
        reply = api_ok(user="bot", url=self.base_url, **fields)
        if self.scopes is not None:
            reply.headers["x-oauth-scopes"] = ",".join(self.scopes)
        return reply

    def _conversations_info(self, params: JsonDict, now: float) -> Reply:
        channel = as_str(params.get("channel"))
        configured = self.channels.get(channel, {})
        if not channel or configured.get("missing"):
            return api_error("channel_not_found")
        info: JsonDict = {
            "id": channel,
            "name": channel.lower(),
            "is_channel": not channel.startswith("D"),
            "is_im": channel.startswith("D"),
            "is_private": channel.startswith("G"),
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
        }
        info.update({k: v for k, v in configured.items() if k != "missing"})
        return api_ok(channel=info)

    def _visible(self, message: JsonDict, include_metadata: bool) -> JsonDict:
        shown = dict(message)
        if not include_metadata:
            shown.pop("metadata", None)
        return shown

    def _conversations_history(self, params: JsonDict, now: float) -> Reply:
        """Top-level messages of a channel, newest first, after `oldest` (exclusive)."""
        channel = as_str(params.get("channel"))
        if not channel or self.channels.get(channel, {}).get("missing"):
            return api_error("channel_not_found")
        oldest = float(as_str(params.get("oldest")) or 0)
        include = as_str(params.get("include_all_metadata")).lower() in ("1", "true")
        limit = min(int(as_str(params.get("limit")) or 100), HISTORY_LIMIT)
        found = [
            self._visible(m, include)
            for (c, ts), m in self._messages.items()
            if c == channel and float(ts) > oldest and m.get("thread_ts", ts) == ts
        ]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        return api_ok(messages=found[:limit], has_more=len(found) > limit)

    def _conversations_replies(self, params: JsonDict, now: float) -> Reply:
        """A thread: its parent, then its replies, oldest first (after `oldest`, exclusive)."""
        channel, parent = as_str(params.get("channel")), as_str(params.get("ts"))
        if not channel or (channel, parent) not in self._messages:
            return api_error("thread_not_found")
        oldest = float(as_str(params.get("oldest")) or 0)
        include = as_str(params.get("include_all_metadata")).lower() in ("1", "true")
        found = [
            self._visible(m, include)
            for (c, ts), m in self._messages.items()
            if c == channel and (ts == parent or (m.get("thread_ts") == parent and float(ts) > oldest))
        ]
        found.sort(key=lambda m: float(m["ts"]))
        return api_ok(messages=found, has_more=False)


CONVERSATION_METHODS = {
    "auth.test": ConversationMethods._auth_test,
    "conversations.info": ConversationMethods._conversations_info,
    "conversations.history": ConversationMethods._conversations_history,
    "conversations.replies": ConversationMethods._conversations_replies,
}
