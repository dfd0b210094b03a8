"""What listeners and jobs need, built once per process: settings, sessions, the Slack client.

The app's middleware puts `Deps`, a session, the asker and the decoded button payload into Bolt's
context; listeners read them back with the accessors below, typed.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.orm import Session, sessionmaker

from blocks.message import apology, busy
from bot.commands.asker import Asker
from bot.db import is_busy
from bot.services.digest_runs import WORKER
from bot.settings import Settings
from bot.slack.channels import Channels
from bot.slack.people import People
from bot.slack.poster import Poster
from bot.slack.workspace import Workspace

P = TypeVar("P")
# The session type, for listeners' annotations (they never import SQLAlchemy themselves).
DbSession: TypeAlias = Session
log = logging.getLogger(__name__)

DEPS, SESSION, ASKER, PAYLOAD = "healthbot_deps", "healthbot_session", "healthbot_asker", "healthbot_payload"


@dataclass
class Deps:
    settings: Settings
    factory: sessionmaker[Session]
    client: WebClient
    workspace: Workspace
    channels: Channels
    poster: Poster
    people: People
    # User-group members per group ID, with when they were read (HEALTHBOT_ADMINS may name groups).
    admin_cache: dict[str, tuple[float, set[str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    later: Later = field(default_factory=lambda: Later())


class Later:
    """Work that runs after the answer to Slack has gone (drawing and uploading a chart, say), on a
    small pool of threads. `wait()` lets the playground and tests see it finish."""

    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="healthbot-later")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def run(self, work: Callable[[], object]) -> None:
        def guarded() -> None:
            try:
                work()
            except Exception:  # the work reports its own failures; this only keeps the pool alive
                log.exception("background work failed")

        future = self._pool.submit(guarded)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far (and what it queued) is done; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            futures.wait(pending, timeout=remaining)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def build_deps(settings: Settings, factory: sessionmaker[Session]) -> Deps:
    client = web_client(settings)
    return Deps(
        settings=settings,
        factory=factory,
        client=client,
        workspace=Workspace(client),
        channels=Channels(client),
        poster=Poster(client, factory, worker=WORKER),
        people=People(client),
    )


def web_client(settings: Settings) -> WebClient:
    """A Web API client that honours SLACK_API_URL and retries 429s, 5xx and dropped connections."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base_url = (
        settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    )
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=settings.healthbot_slack_timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def deps_of(context: BoltContext) -> Deps:
    deps = context[DEPS]
    assert isinstance(deps, Deps)
    return deps


def session_of(context: BoltContext) -> Session:
    """The request's session; the app closes it when the request is done."""
    session = context[SESSION]
    assert isinstance(session, Session)
    return session


def asker_of(context: BoltContext) -> Asker:
    asker = context[ASKER]
    assert isinstance(asker, Asker)
    return asker


def payload_of(context: BoltContext, kind: type[P]) -> P:
    """The button's or modal's typed payload, decoded once by the middleware (a bad one never
    reaches a listener: the clicker is told the button is out of date)."""
    payload: Any = context.get(PAYLOAD)
    if not isinstance(payload, kind):
        raise TypeError(f"expected a {kind.__name__} payload, got {type(payload).__name__}")
    return payload


def after_ack(context: BoltContext, work: Callable[[Session], None]) -> None:
    """Run `work` with a session of its own after the answer to Slack has gone (the request's
    session is closed by then). A failure is told to the person as an apology with a reference,
    or as "busy" while a long import holds the database."""
    deps = deps_of(context)
    respond = context.respond

    def run() -> None:
        try:
            with deps.factory() as session:
                work(session)
        except Exception as exc:
            if is_busy(exc):
                log.warning("database busy after the ack: %s", type(exc).__name__)
                reply = busy()
            else:
                reference = uuid.uuid4().hex[:8]
                log.exception("work after the ack failed ref=%s", reference)
                reply = apology(reference)
            if respond is not None:
                respond(
                    text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False
                )

    deps.later.run(run)
