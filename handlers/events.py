"""Events API listeners. App Home is refreshed when a user opens it."""

from __future__ import annotations

from slack_bolt import App

from bot.app import Deps


def register(app: App, deps: Deps) -> None:
    # Acknowledge events we don't act on (yet) so Slack does not retry them.
    @app.event("app_home_opened")
    def app_home_opened() -> None:
        return None
