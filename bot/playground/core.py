"""The playground server: database (migrated, demo-seeded), fake Slack, the real Bolt app, the page.

Nothing is short-circuited: the page's requests become the form bodies Slack would send, signed
with a per-run signing secret and POSTed over real HTTP to the app's own `/slack/events`, so the
same listeners run as in production. What the bot sends to the Web API and to `response_url`s
lands in an in-process FakeSlack, which the page reads as a feed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import threading
import time
import urllib.parse
import uuid
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.ingest.demo import DemoSize, load_demo
from bot.playground import feed, payloads
from bot.playground.fakeslack import RESPONSE_URL_METHOD, UPLOAD_METHOD, FakeSlack
from bot.playground.payloads import PLAYGROUND_TEAM, PLAYGROUND_USER, AppFailed, BadRequest
from bot.settings import Settings
from bot.web.app import HealthApp, create_app
from bot.web.routes import create_web_app
from bot.web.server import LocalServer

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
BOT_TOKEN = "xoxb-playground"
DEMO_SERVICE_ID = "demo"
# How long a request waits for the work the app does after answering (a chart upload, say).
LATER_WAIT_SECONDS = 10.0


class Playground:
    """``start()`` serves in a background thread (tests use ``port=0``); ``stop()`` shuts it down."""

    def __init__(
        self,
        settings: Settings,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        demo_size: DemoSize | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.settings = settings
        self.host = host
        self.requested_port = port
        self.demo_size = demo_size or DemoSize()
        self.today = today
        self.demo_loaded = False
        self.fake = FakeSlack()
        self._secret = secrets.token_hex(32)
        self._verifier = SignatureVerifier(self._secret)
        self._server: LocalServer | None = None
        self._app: HealthApp | None = None
        self._http: httpx.Client | None = None
        self._engine: Engine | None = None
        self._counter = 0
        self._counter_lock = threading.Lock()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Migrate and seed the database, start the fake Slack and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("the playground is already running")
        factory = self._prepare_database()
        self.fake.team_id, self.fake.team_name = PLAYGROUND_TEAM, "the playground"
        # Its channels and people, as conversations.info and users.info tell them.
        self.fake.channels.update({cid: {"name": name} for cid, name in payloads.CHANNELS.items()})
        self.fake.users.update({uid: _person(name) for uid, name in payloads.PEOPLE.items()})
        self.fake.start()
        try:
            configured = self.settings.model_copy(
                update={
                    "slack_bot_token": SecretStr(BOT_TOKEN),
                    "slack_signing_secret": SecretStr(self._secret),
                    "slack_app_token": None,
                    "slack_api_url": self.fake.api_url,
                    # The one playground user may press every button.
                    "healthbot_admins": [],
                    # Demo sellers get demo request links; a real bot names the missing setting.
                    "healthbot_service_id": self.settings.healthbot_service_id or DEMO_SERVICE_ID,
                }
            )
            from bot.playground.routes import blueprint

            self._app = create_app(configured, factory=factory)
            web = create_web_app(self._app, self._app.deps, blueprint(self))
            self._server = LocalServer(web, host=self.host, port=self.requested_port)
            self._http = httpx.Client(timeout=30)
            self._server.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and release the ports; safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        if self._app is not None:
            self._app.deps.later.shutdown()
            self._app = None
        if self._http is not None:
            self._http.close()
            self._http = None
        self.fake.stop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def serve_forever(self) -> None:
        """Block while the server runs (until Ctrl-C)."""
        while self._server is not None:
            time.sleep(0.5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the playground is not running; call start()")
        return self._server.port

    @property
    def url(self) -> str:
        """The page's address, e.g. ``http://127.0.0.1:3000/``."""
        return f"http://127.0.0.1:{self.port}/"

    def _prepare_database(self) -> sessionmaker[Session]:
        from bot.db.models import Shop

        db.upgrade(self.settings.database_url)
        self._engine = db.make_engine(self.settings.database_url)
        factory = db.session_factory(self._engine)
        with factory() as session:
            empty = session.query(Shop.shop_id).first() is None
        if empty:
            size = self.demo_size
            today = self.today or self.settings.today()
            log.info("empty database: loading the demo portfolio (%s shops, %s days)", size.shops, size.days)
            load_demo(factory, size, today)
            self.demo_loaded = True
        return factory

    # ----------------------------------------------------------------- talking to the app

    def _next(self, prefix: str) -> str:
        with self._counter_lock:
            self._counter += 1
            return f"{prefix}{self._counter}-{uuid.uuid4().hex[:8]}"

    def _trigger_id(self) -> str:
        return f"{int(time.time())}.{secrets.randbelow(10**9)}.{uuid.uuid4().hex[:16]}"

    def _post_to_app(
        self, body: str, content_type: str = "application/x-www-form-urlencoded"
    ) -> httpx.Response:
        """POST a body to the app's /slack/events, signed as Slack signs it, and wait for the work
        the app does after answering."""
        assert self._http is not None and self._server is not None and self._app is not None
        timestamp = str(int(time.time()))
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body) or ""
        reply = self._http.post(
            f"http://127.0.0.1:{self._server.port}/slack/events",
            content=body.encode(),
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature,
            },
        )
        self._app.deps.later.wait(LATER_WAIT_SECONDS)
        return reply

    def command(self, data: JsonDict) -> JsonDict:
        """Run a `/health` command as Slack would send it; return the reply and what followed."""
        text = payloads.text_field(data.get("text"), "text").strip()
        if text.startswith("/"):
            name, _, rest = text.partition(" ")
            if name != "/health":
                raise BadRequest(f"{name} is not a command here; try /health help.")
            text = rest.strip()
        # Typed #channel and @person become Slack's <#C…|name> and <@U…>, as Slack makes them.
        text = payloads.escape_mentions(text, self.channel_names(), self.people_names())
        user = payloads.slack_id(data.get("user_id"), PLAYGROUND_USER)
        response_name = payloads.response_name(data.get("response_name")) or self._next("cmd")
        mark = len(self.fake.calls)
        body = payloads.command_body(
            text, user=user, response_url=self.fake.response_url(response_name), trigger_id=self._trigger_id()
        )
        reply = self._post_to_app(body)
        _check_status(reply, "/health")
        events, next_index = self.events(since=mark)
        return {
            "response_name": response_name,
            "message": feed.ack_message(reply),
            "events": events,
            "next": next_index,
        }

    def action(self, data: JsonDict) -> JsonDict:
        """Click a button (or pick an overflow/select option) as Slack would send it."""
        user = payloads.slack_id(data.get("user_id"), PLAYGROUND_USER)
        response_name = payloads.response_name(data.get("response_name")) or self._next("act")
        payload = payloads.action_payload(
            data, user=user, response_url=self.fake.response_url(response_name), trigger_id=self._trigger_id()
        )
        mark = len(self.fake.calls)
        reply = self._post_to_app(urllib.parse.urlencode({"payload": json.dumps(payload)}))
        _check_status(reply, "The button")
        events, next_index = self.events(since=mark)
        return {"response_name": response_name, "events": events, "next": next_index}

    def submit_view(self, data: JsonDict) -> JsonDict:
        """Submit a modal: a view_submission with the inputs' state, as Slack sends it."""
        view = data.get("view")
        if not isinstance(view, dict):
            raise BadRequest("view is required")
        user = payloads.slack_id(data.get("user_id"), PLAYGROUND_USER)
        payload = payloads.view_submission(view, data.get("values"), user=user, trigger_id=self._trigger_id())
        mark = len(self.fake.calls)
        reply = self._post_to_app(urllib.parse.urlencode({"payload": json.dumps(payload)}))
        _check_status(reply, "The form")
        ack: JsonDict = {}
        if reply.content.strip():
            try:
                parsed = reply.json()
                ack = parsed if isinstance(parsed, dict) else {}
            except ValueError:
                ack = {}
        events, next_index = self.events(since=mark)
        return {"ack": ack, "events": events, "next": next_index}

    def upload(self, data: JsonDict) -> JsonDict:
        """Drop files into the bot's DM, as Slack tells the app: the files are stored in the fake
        Slack (files.info, download URL) and one `message` event (file_share) names them all."""
        files = payloads.uploaded_files(data.get("files"))
        user = payloads.slack_id(data.get("user_id"), PLAYGROUND_USER)
        channel = "D" + user
        mark = len(self.fake.calls)
        shared = [
            self.fake.share_file(user=user, channel=channel, name=name, content=content, team=PLAYGROUND_TEAM)
            for name, content in files
        ]
        ts = shared[0]["shares"]["private"][channel][0]["ts"]
        event = payloads.file_share_message(user, channel, ts, [(f["id"], f["name"]) for f in shared])
        reply = self._post_to_app(json.dumps(event), "application/json")
        _check_status(reply, "The upload")
        events, next_index = self.events(since=mark)
        return {"channel": channel, "ts": ts, "events": events, "next": next_index}

    def open_home(self, data: JsonDict) -> JsonDict:
        """Open the app's Home tab: the `app_home_opened` event Slack sends, as JSON."""
        user = payloads.slack_id(data.get("user_id"), PLAYGROUND_USER)
        mark = len(self.fake.calls)
        reply = self._post_to_app(json.dumps(payloads.home_opened(user)), "application/json")
        _check_status(reply, "App Home")
        events, next_index = self.events(since=mark)
        return {"events": events, "next": next_index}

    def run_digests(self, data: JsonDict) -> JsonDict:
        """ "Run due digests now": one round of the real digest job against the fake Slack."""
        from bot.playground.digests import run_due_digests

        assert self._app is not None
        mark = len(self.fake.calls)
        lines = run_due_digests(
            self._app.deps.factory,
            self._app.deps.client,
            self.channel_names(),
            uk_48_point=self.settings.healthbot_uk_48_point,
        )
        events, next_index = self.events(since=mark)
        return {"summary": lines, "events": events, "next": next_index}

    def channel_names(self) -> dict[str, str]:
        """The playground's channels, ID -> name, as its fake Slack knows them."""
        return {cid: str(info["name"]) for cid, info in self.fake.channels.items() if info.get("name")}

    def people_names(self) -> dict[str, str]:
        """The playground's people, ID -> name, as its fake Slack knows them."""
        return {uid: str(info["name"]) for uid, info in self.fake.users.items() if info.get("name")}

    def workspace(self) -> JsonDict:
        return {"channels": self.channel_names(), "people": self.people_names()}

    # ----------------------------------------------------------------- what the bot sent

    def events(self, since: int = 0) -> tuple[list[JsonDict], int]:
        """What the bot sent to Slack since event index ``since``, and the next index.

        An event's index is its position in the fake's call log, so it never changes.
        """
        calls = self.fake.calls
        # Taken after the calls: every accepted response_url call in `calls` has its entry here.
        responses = self.fake.responses
        events: list[JsonDict] = []
        answered = 0
        for index, call in enumerate(calls):
            if call.method == RESPONSE_URL_METHOD:
                if not call.ok:
                    continue
                name, body = responses[answered] if answered < len(responses) else ("", call.params)
                answered += 1
                if index >= since:
                    events.append(feed.response_event(index, name, body))
                continue
            if index < since or not call.ok:
                continue
            event = feed.api_event(index, call)
            if event is not None:
                events.append(event)
        return events, len(calls)

    def file(self, file_id: str) -> bytes | None:
        """The bytes of a file the bot uploaded, by Slack file ID."""
        uploads = self.fake.uploads
        stored = 0
        for call in self.fake.calls:
            if not call.ok or call.method not in (UPLOAD_METHOD, "files.upload"):
                continue
            if stored >= len(uploads):
                break
            data = uploads[stored]
            stored += 1
            if call.method == UPLOAD_METHOD:
                found = call.params.get("file_id")
            else:
                file = call.response.get("file")
                found = file.get("id") if isinstance(file, dict) else None
            if found == file_id:
                return data
        return None


def _person(name: str) -> JsonDict:
    return {
        "name": name,
        "real_name": name.title(),
        "team_id": PLAYGROUND_TEAM,
        "profile": {"display_name": name, "real_name": name.title()},
    }


def _check_status(reply: httpx.Response, what: str) -> None:
    if reply.status_code != 200:
        # What Slack itself shows when an app answers with an error status.
        raise AppFailed(f'{what} failed with the error "http_status_{reply.status_code}"')


def serve_playground(settings: Settings, *, port: int) -> int:
    """`healthbot serve` without Slack credentials (or with --playground): serve until Ctrl-C."""
    playground = Playground(settings, port=port)
    if not settings.has_slack_credentials:
        print("No Slack credentials set: starting the local playground instead.")
    try:
        playground.start()
    except OSError as exc:
        print(f"healthbot: cannot serve the playground on port {port}: {exc.strerror or exc}")
        return 2
    try:
        if playground.demo_loaded:
            print("Loaded the demo portfolio into the empty database.")
        print(f"Playground: {playground.url} (demo data; no Slack needed)", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        playground.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        playground.stop()
    return 0
