"""One-line replies, and the apology for a failure (as a message and as a modal)."""

from __future__ import annotations

from slack_sdk.models.views import View

from blocks.kit import Reply, finish, section
from blocks.text import escape


def message(text: str, *, mrkdwn: bool = False) -> Reply:
    """A one-line reply. Plain text is escaped; `mrkdwn=True` means the caller escaped its parts."""
    safe = text if mrkdwn else escape(text)
    return Reply(safe, finish([section(safe)]))


def apology(reference: str) -> Reply:
    return message(f"Sorry, something went wrong on our side (reference {reference}). Please try again.")


def apology_modal(reference: str) -> View:
    """Shown in place of a modal whose submission failed, so it does not close as if it had worked."""
    return View(type="modal", title="Sorry", close="Close", blocks=apology(reference).blocks)
