"""One-line replies, and the apology for a failure (as a message and as a modal)."""

from __future__ import annotations

from typing import Any

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


def members_only(workspace: str | None) -> Reply:
    """The one line an outsider gets, everywhere (or, when the workspace cannot be read, the same
    refusal without its name)."""
    if workspace is None:
        return message(
            "Shop Health Bot could not check your workspace just now; please try again in a minute."
        )
    return message(f"Shop Health Bot answers members of {workspace} only.")


def members_only_modal(workspace: str | None) -> View:
    return View(type="modal", title="Shop Health Bot", close="Close", blocks=members_only(workspace).blocks)


def members_only_home(workspace: str | None) -> dict[str, Any]:
    return {"type": "home", "blocks": members_only(workspace).blocks}


def busy() -> Reply:
    """The request path waits only briefly for the database (a long import may hold it)."""
    return message("Shop Health Bot is busy writing a large import; please try again in a minute.")
