"""The Bolt app factory: `create_app(settings)` returns a configured App; no global app exists.

Before Bolt sees a request over HTTP, `HealthApp.dispatch` checks its signature (a check that
cannot raise: any failure is a 401 and nothing is called), answers Slack's retries without
repeating anything, and records the signature so that a replay within the 5-minute window repeats
no side effect either. Then one middleware gives every listener what it needs through Bolt's
context, and one error handler turns any failure into a short apology with a reference (the trace
stays in the log), or a "busy, try again" while a long import holds the database.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.context.respond import Respond
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from blocks.kit import Reply
from blocks.message import apology, apology_modal, busy, members_only
from bot import db
from bot.deps import DEPS, SESSION, Deps, build_deps
from bot.services.replays import first_sight
from bot.settings import Settings
from bot.web.middleware import decode_payload, inject, json_response
from bot.web.verify import verify

log = logging.getLogger(__name__)


class HealthApp(App):
    """Bolt's App, with the request checks above, closing the request's session once answered."""

    deps: Deps  # set by create_app; the web routes, the playground and tests read it
    signing_secret: str | None = None

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        if req.mode == "http" and self.signing_secret:
            refused = self._screen(req)
            if refused is not None:
                return refused
        try:
            return super().dispatch(req)
        finally:
            session = req.context.get(SESSION)
            if isinstance(session, Session):
                db.close_session(session)

    def _screen(self, req: BoltRequest) -> BoltResponse | None:
        assert self.signing_secret is not None
        problem = verify(self.signing_secret, req.raw_body.encode("utf-8"), req.headers)
        if problem is not None:
            log.warning("refused an unverified request: %s", problem)  # never the body: the sender's words
            return BoltResponse(status=401, body="")
        if req.headers.get("x-slack-retry-num"):
            # Slack retries an event it thinks we missed; we never act twice on one.
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        try:
            first = first_sight(self.deps.factory.kw["bind"], signature)
        except OperationalError as exc:
            if not db.is_busy(exc):
                raise
            log.warning("database busy: could not record a request")
            return answer_busy(req.body)
        if not first:
            log.warning("ignored a replayed request")
            return BoltResponse(status=200, body="")
        return None


def answer_busy(body: dict[str, Any]) -> BoltResponse:
    """The friendly "busy, try again" for whichever kind of request could not get the database."""
    if "command" in body:
        return json_response({"response_type": "ephemeral", **busy().as_message()})
    if body.get("type") == "view_submission":
        inputs = list(((body.get("view") or {}).get("state") or {}).get("values") or {}) or ["-"]
        return json_response({"response_action": "errors", "errors": {inputs[0]: busy().text}})
    return BoltResponse(status=200, body="")


def create_app(
    settings: Settings,
    *,
    factory: sessionmaker[Session] | None = None,
    check_schema: bool = True,
) -> HealthApp:
    if factory is None:
        # Requests wait only briefly for the database: a long import gets "busy", not a 30 s hang.
        engine = db.make_engine(settings.database_url, wait_seconds=settings.healthbot_request_db_wait)
        if check_schema:
            db.check_schema(engine)
        factory = db.session_factory(engine)
    deps = build_deps(settings, factory)
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    app = HealthApp(
        client=deps.client,
        signing_secret=signing_secret,
        # The signature is checked in HealthApp.dispatch, by a check that cannot raise.
        request_verification_enabled=False,
        token_verification_enabled=False,
        # Listeners finish before the HTTP response, so a reply rides on the ack itself (1-2 ms
        # overhead instead of a 10 ms ack poll); slow work goes to `Deps.later` after the ack.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        # When auth.test fails (Bolt's check of the token, which also tells whose workspace this is).
        user_facing_authorize_error_message=members_only(None).text,
    )
    app.signing_secret = signing_secret
    app.deps = deps
    app.use(inject(deps))
    app.use(decode_payload)

    from handlers import register_all

    register_all(app)
    app.error(on_error)
    return app


def on_error(
    error: Exception,
    body: dict[str, Any],
    response: BoltResponse | None,
    context: BoltContext,
    respond: Respond | None = None,
) -> BoltResponse | None:
    """One place turns any failure into a short apology with a reference; the trace stays in the log."""
    if db.is_busy(error):
        log.warning("database busy: %s", type(error).__name__)
        reply: Reply = busy()
        if response is not None and ("command" in body or body.get("type") == "view_submission"):
            return answer_busy(body)
    else:
        reference = uuid.uuid4().hex[:8]
        log.error("unhandled error ref=%s type=%s", reference, body.get("type") or "command", exc_info=error)
        reply = apology(reference)
        if "command" in body and response is not None:
            # Not acknowledged yet: the apology is the slash command's own HTTP reply.
            return json_response({"response_type": "ephemeral", **reply.as_message()})
        if body.get("type") == "view_submission" and response is not None:
            # A modal would otherwise close as if it had worked: show the apology in it instead.
            update = {"response_action": "update", "view": apology_modal(reference).to_dict()}
            return BoltResponse(
                status=200, body=json.dumps(update), headers={"content-type": "application/json"}
            )
    deps = context.get(DEPS)
    if respond is not None and isinstance(deps, Deps):  # a verified member's request

        def tell() -> None:
            try:
                respond(
                    text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False
                )
            except Exception:
                log.warning("could not deliver the apology")

        deps.later.run(tell)  # after the answer to Slack
    return BoltResponse(status=200, body="") if response is not None else None
