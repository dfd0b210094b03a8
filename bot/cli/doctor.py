"""`healthbot doctor`: is everything the bot needs in place? Settings, the database and its schema,
the Slack token and its scopes, how the bot connects to Slack, the TikTok Shop connection and the
time zone, each said in plain words with what to do. The exit code is 1 when something must be
fixed, so a deployment script can run it first.

It changes nothing: it creates no database file, stores nothing and posts nothing (`auth.test` and
`apps.connections.open` only ask Slack about the tokens).
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from slack_sdk.errors import SlackApiError, SlackClientError

from blocks.text import plural
from bot import db
from bot.settings import Settings

# The bot scopes app.yaml asks for (tests/cli/test_doctor.py keeps the two in step).
MANIFEST_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "usergroups:read",
    "users:read",
    "files:write",
    "files:read",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
)
REINSTALL = (
    "update the app from app.yaml (or add them under OAuth & Permissions > Scopes), reinstall it to "
    "the workspace, and copy the new Bot User OAuth Token into SLACK_BOT_TOKEN"
)


class Verdict(StrEnum):
    OK = "ok"
    NOTE = "note"
    FIX = "FIX"


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    text: str


def _ok(text: str) -> Finding:
    return Finding(Verdict.OK, text)


def _note(text: str) -> Finding:
    return Finding(Verdict.NOTE, text)


def _fix(text: str) -> Finding:
    return Finding(Verdict.FIX, text)


def check_settings(settings: Settings) -> Iterator[Finding]:
    missing = settings.missing_settings()
    if not missing:
        yield _ok("Settings: every setting the configured features need is set")
    for item in missing:
        yield _fix(item.sentence())
    if not settings.healthbot_admins:
        yield _note(
            "HEALTHBOT_ADMINS is empty, so everyone in the workspace may change digests, send request "
            "links, block buyers and import files. To limit that, set it to their user IDs (or a user group)"
        )


def check_database(settings: Settings) -> Iterator[Finding]:
    from sqlalchemy import func, select

    from bot.db.models import Shop

    engine = db.make_engine(settings.database_url, wait_seconds=5)
    try:
        db.check_schema(engine)
        with db.session_factory(engine)() as session:
            shops = int(session.scalar(select(func.count()).select_from(Shop)) or 0)
    except db.SchemaOutdated as problem:  # no database, unreachable, or behind the code
        yield _fix(f"Database: {problem}")
        return
    finally:
        engine.dispose()
    yield _ok(
        f"Database: {db.shown_url(engine)}, schema up to date ({db.head_revision()}), {plural(shops, 'shop')}"
    )
    if not shops:
        yield _note(
            "The database holds no sellers yet: `healthbot import FILE…` your exports, or `healthbot demo`"
        )


def check_slack(settings: Settings) -> Iterator[Finding]:
    from bot.deps import web_client

    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token:
        yield _fix(
            "SLACK_BOT_TOKEN is not set, so `healthbot serve` runs the local playground instead of the bot. "
            "Create the Slack app from app.yaml (README: Connecting to Slack), install it, and copy the "
            "Bot User OAuth Token (xoxb-…)"
        )
        return
    if not token.startswith("xoxb-"):
        yield _fix(
            "SLACK_BOT_TOKEN is not a bot token (those start with xoxb-): copy the Bot User OAuth Token "
            "from OAuth & Permissions"
        )
        return
    client = web_client(settings.model_copy(update={"healthbot_slack_timeout": 10}))
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        yield _fix(
            f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')}): copy the Bot User OAuth Token "
            "again from OAuth & Permissions (reinstalling the app gives a new one)"
        )
        return
    except (SlackClientError, OSError) as exc:
        yield _fix(
            f"Slack could not be reached at {settings.slack_api_url} ({type(exc).__name__}): check the network"
        )
        return
    yield _ok(
        f"Slack: the bot token works: @{answer.get('user')} in {answer.get('team')} ({answer.get('team_id')})"
    )
    headers = {key.lower(): value for key, value in (answer.headers or {}).items()}
    raw = headers.get("x-oauth-scopes")
    if raw is None:
        yield _note("Slack did not say which scopes the token has, so they were not checked")
    else:
        granted = {scope.strip() for scope in str(raw).split(",") if scope.strip()}
        lacking = [scope for scope in MANIFEST_SCOPES if scope not in granted]
        if lacking:
            yield _fix(
                f"The bot token lacks scopes app.yaml asks for: {', '.join(lacking)}. To add them, {REINSTALL}"
            )
        else:
            yield _ok("Slack scopes: every scope app.yaml asks for")
    yield from _connection_mode(settings)


def _connection_mode(settings: Settings) -> Iterator[Finding]:
    from slack_sdk import WebClient

    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    if app_token:
        if not app_token.startswith("xapp-"):
            yield _fix(
                "SLACK_APP_TOKEN is not an app-level token (those start with xapp-): generate one under "
                "Basic Information > App-Level Tokens, with the connections:write scope"
            )
            return
        client = WebClient(token=app_token, base_url=settings.slack_api_url, timeout=10)
        try:
            client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            yield _fix(
                f"Slack refused SLACK_APP_TOKEN for Socket Mode ({exc.response.get('error')}): generate an "
                "app-level token with connections:write, and turn Socket Mode on in the app's settings"
            )
            return
        except (SlackClientError, OSError) as exc:
            yield _fix(f"Socket Mode could not be checked: Slack did not answer ({type(exc).__name__})")
            return
        yield _ok("Slack connection: Socket Mode (SLACK_APP_TOKEN works; no public URL needed)")
    elif settings.slack_signing_secret is not None and settings.slack_signing_secret.get_secret_value():
        yield _ok(
            f"Slack connection: HTTP mode on port {settings.port}: point the app's request URLs at "
            "https://<your public URL>/slack/events (SLACK_SIGNING_SECRET is set)"
        )
    # Neither: named by check_settings (SLACK_APP_TOKEN is not set, ...).


def check_tiktok(settings: Settings, *, database_ok: bool) -> Iterator[Finding]:
    if not (settings.tiktok_app_key or settings.tiktok_access_token):
        yield _note(
            "TikTok Shop API: not set up, so data comes from imports only (Partner Center exports, "
            "`healthbot import`, files dropped in Slack). See README: Connecting the TikTok Shop app"
        )
        return
    if not database_ok:
        return
    from sqlalchemy import select

    from bot.db.models import DataRefresh
    from bot.services.tiktok_sellers import credentials, seller_statuses
    from bot.services.vault import VaultError, vault_from_settings
    from jobs.sync import TIKTOK_SOURCE

    engine = db.make_engine(settings.database_url, wait_seconds=5)
    try:
        with db.session_factory(engine)() as session:
            sellers = seller_statuses(session)
            refresh = session.scalar(select(DataRefresh).where(DataRefresh.source == TIKTOK_SOURCE))
            try:
                if sellers and settings.healthbot_encryption_key is not None:
                    credentials(session, vault_from_settings(settings))
            except VaultError as exc:
                yield _fix(f"TikTok: {exc}")
    finally:
        engine.dispose()
    failing = [s for s in sellers if s.failed_at is not None]
    if not sellers:
        yield _note("TikTok: no seller has authorized the app yet: send one `healthbot tiktok link`")
    elif failing:
        names = ", ".join(s.seller_name or s.open_id for s in failing[:5])
        yield _fix(
            f"TikTok: {len(failing)} of {plural(len(sellers), 'connected seller')} cannot refresh their "
            f"token ({names}): send each a new authorization link (`/health tiktok` shows one)"
        )
    else:
        yield _ok(f"TikTok: {plural(len(sellers), 'connected seller')}, every token refreshes")
    if refresh is not None and refresh.last_error:
        yield _fix(f"TikTok: the last sync failed: {refresh.last_error[:300]}")


def check_timezone(settings: Settings, *, now: dt.datetime | None = None) -> Iterator[Finding]:
    local = (now or dt.datetime.now(dt.UTC)).astimezone(settings.tz)
    zone = settings.healthbot_timezone
    said = (
        f'it is {local:%a %b %-d, %H:%M} there now; "today", deadlines and digests without a zone count in it'
    )
    if "healthbot_timezone" in settings.model_fields_set:
        yield _ok(f"Time zone: {zone} ({said})")
    else:
        yield _note(
            f"Time zone: {zone}, the default ({said}). Set HEALTHBOT_TIMEZONE if your team works in another zone"
        )


def findings(settings: Settings) -> list[Finding]:
    found = list(check_settings(settings))
    database = list(check_database(settings))
    found += database
    found += check_slack(settings)
    found += check_tiktok(settings, database_ok=all(f.verdict is not Verdict.FIX for f in database))
    found += check_timezone(settings)
    return found


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    found = findings(settings)
    width = max(len(v.value) for v in Verdict)
    for finding in found:
        print(f"  {finding.verdict.value:<{width}}  {finding.text.rstrip('.')}")
    to_fix = sum(1 for f in found if f.verdict is Verdict.FIX)
    if to_fix:
        print(f"{plural(to_fix, 'thing')} to fix (FIX above); then run `healthbot doctor` again.")
        return 1
    print("Everything the bot needs is in place: `healthbot serve`.")
    return 0
