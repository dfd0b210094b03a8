"""Bolt listeners only: module-level functions that ack, call a service, build, respond.

What they need (deps, a session, the asker, the decoded button payload) comes from the app's
middleware through Bolt's context. Each module's `register(app)` wires its listeners; nothing
registers itself on import.
"""

from __future__ import annotations

from slack_bolt import App


def register_all(app: App) -> None:
    from handlers import actions, charts, command, followup, home, outreach, security, uploads

    for module in (command, actions, outreach, followup, security, charts, home, uploads):
        module.register(app)
