"""The Bolt app factory: `create_app(settings)` returns a configured App; no global app exists."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.orm import Session, sessionmaker

from blocks import cards
from bot import db
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Deps:
    """What listeners need, handed to each package's `register(app, deps)`."""

    settings: Settings
    factory: sessionmaker[Session]
    client: WebClient
    admin_cache: dict[str, Any] = field(default_factory=dict)


def web_client(settings: Settings) -> WebClient:
    """A Web API client that honours SLACK_API_URL and retries 429s, 5xx and dropped connections."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base_url = (
        settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    )
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(
    settings: Settings,
    *,
    factory: sessionmaker[Session] | None = None,
    check_schema: bool = True,
) -> App:
    if factory is None:
        engine = db.make_engine(settings.database_url)
        if check_schema:
            db.check_schema(engine)
        factory = db.session_factory(engine)
    client = web_client(settings)
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    app = App(
        client=client,
        signing_secret=signing_secret,
        # Socket Mode has no signatures to check; HTTP mode always checks them.
        request_verification_enabled=signing_secret is not None,
        token_verification_enabled=False,
        # Listeners finish before the HTTP response, so a reply rides on the ack itself (1-2 ms
        # overhead instead of a 10 ms ack poll), and nothing runs after the response is sent.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    deps = Deps(settings=settings, factory=factory, client=client)

    from handlers import actions, charts, commands, followup, home, security

    commands.register(app, deps)
    actions.register(app, deps)
    followup.register(app, deps)
    security.register(app, deps)
    charts.register(app, deps)
    home.register(app, deps)

    @app.error
    def on_error(
        error: Exception, body: dict[str, Any], response: BoltResponse | None, respond: Respond | None = None
    ) -> BoltResponse | None:
        # One place turns any failure into a short apology with a reference; the trace stays in the log.
        reference = uuid.uuid4().hex[:8]
        log.error("unhandled error ref=%s type=%s", reference, body.get("type") or "command", exc_info=error)
        reply = cards.message(
            f"Sorry, something went wrong on our side (reference {reference}). Please try again."
        )
        if "command" in body and response is not None:
            # Not acknowledged yet: the apology is the slash command's own HTTP reply.
            message = {"response_type": "ephemeral", **reply.as_message()}
            return BoltResponse(
                status=200, body=json.dumps(message), headers={"content-type": "application/json"}
            )
        if body.get("type") == "view_submission" and response is not None:
            # A modal would otherwise close as if it had worked: show the apology in it instead.
            view = {
                "type": "modal",
                "title": {"type": "plain_text", "text": "Sorry"},
                "close": {"type": "plain_text", "text": "Close"},
                "blocks": reply.blocks,
            }
            update = {"response_action": "update", "view": view}
            return BoltResponse(
                status=200, body=json.dumps(update), headers={"content-type": "application/json"}
            )
        if respond is not None:
            try:
                respond(
                    text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False
                )
            except Exception:
                log.warning("could not deliver the apology ref=%s", reference)
        return BoltResponse(status=200, body="") if response is not None else None

    app.deps = deps  # type: ignore[attr-defined]  # for tests and the server's readiness check
    return app
