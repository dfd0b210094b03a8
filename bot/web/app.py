"""The Bolt app factory: `create_app(settings)` returns a configured App; no global app exists.

One middleware gives every listener what it needs through Bolt's context (deps, a session, the
asker, the decoded button payload); one error handler turns any failure into a short apology with
a reference, the trace staying in the log.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.context.respond import Respond
from sqlalchemy.orm import Session, sessionmaker

from blocks.message import apology, apology_modal
from bot import db
from bot.deps import SESSION, Deps, web_client
from bot.settings import Settings
from bot.web.middleware import decode_payload, inject

log = logging.getLogger(__name__)


class HealthApp(App):
    """Bolt's App, closing the request's session once the request is answered."""

    deps: Deps  # set by create_app; the web routes, the playground and tests read it

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        try:
            return super().dispatch(req)
        finally:
            session = req.context.get(SESSION)
            if isinstance(session, Session):
                session.close()


def create_app(
    settings: Settings,
    *,
    factory: sessionmaker[Session] | None = None,
    check_schema: bool = True,
) -> HealthApp:
    if factory is None:
        engine = db.make_engine(settings.database_url)
        if check_schema:
            db.check_schema(engine)
        factory = db.session_factory(engine)
    client = web_client(settings)
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    app = HealthApp(
        client=client,
        signing_secret=signing_secret,
        # Socket Mode has no signatures to check; HTTP mode always checks them.
        request_verification_enabled=signing_secret is not None,
        token_verification_enabled=False,
        # Listeners finish before the HTTP response, so a reply rides on the ack itself (1-2 ms
        # overhead instead of a 10 ms ack poll); slow work goes to `Deps.later` after the ack.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    deps = Deps(settings=settings, factory=factory, client=client)
    app.use(inject(deps))
    app.use(decode_payload)

    from handlers import register_all

    register_all(app)
    app.error(on_error)
    app.deps = deps
    return app


def on_error(
    error: Exception,
    body: dict[str, Any],
    response: BoltResponse | None,
    context: BoltContext,
    respond: Respond | None = None,
) -> BoltResponse | None:
    """One place turns any failure into a short apology with a reference; the trace stays in the log."""
    reference = uuid.uuid4().hex[:8]
    log.error("unhandled error ref=%s type=%s", reference, body.get("type") or "command", exc_info=error)
    reply = apology(reference)
    if "command" in body and response is not None:
        # Not acknowledged yet: the apology is the slash command's own HTTP reply.
        payload = {"response_type": "ephemeral", **reply.as_message()}
        return BoltResponse(
            status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
        )
    if body.get("type") == "view_submission" and response is not None:
        # A modal would otherwise close as if it had worked: show the apology in it instead.
        update = {"response_action": "update", "view": apology_modal(reference).to_dict()}
        return BoltResponse(status=200, body=json.dumps(update), headers={"content-type": "application/json"})
    if respond is not None:
        try:
            respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)
        except Exception:
            log.warning("could not deliver the apology ref=%s", reference)
    return BoltResponse(status=200, body="") if response is not None else None
