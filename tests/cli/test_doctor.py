"""`healthbot doctor`: settings, database, Slack token and scopes, connection mode, TikTok and time
zone, in plain words, with a non-zero exit when something must be fixed. Slack is the local fake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session, sessionmaker

from bot import cli
from bot.cli.doctor import MANIFEST_SCOPES
from bot.ingest.demo import DemoSize, load_demo
from bot.playground.fakeslack import FakeSlack
from bot.services.tiktok_sellers import record_failure, store_seller
from bot.services.vault import TokenVault
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[2]


def doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["doctor"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out


@pytest.fixture
def ready(
    cli_env: pytest.MonkeyPatch, factory: sessionmaker[Session], slack: FakeSlack
) -> pytest.MonkeyPatch:
    """Everything in place: Socket Mode tokens with every scope, a service ID, admins, a zone, data."""
    load_demo(factory, DemoSize(shops=12, days=3), TODAY)
    slack.scopes = list(MANIFEST_SCOPES)
    slack.socket_mode_url = "wss://fake.example/socket"
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-doctor",
        "SLACK_APP_TOKEN": "xapp-doctor",
        "SLACK_API_URL": slack.api_url,
        "HEALTHBOT_SERVICE_ID": "7001",
        "HEALTHBOT_ADMINS": "U1",
        "HEALTHBOT_TIMEZONE": "Europe/Berlin",
    }.items():
        cli_env.setenv(name, value)
    return cli_env


def test_all_in_place_exits_0(
    ready: pytest.MonkeyPatch, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = doctor(capsys)
    assert code == 0, out
    assert "FIX" not in out
    assert "ok    Slack: the bot token works: @bot in Acme Agency (T1)" in out
    assert "ok    Slack scopes: every scope app.yaml asks for" in out
    assert "ok    Slack connection: Socket Mode" in out
    assert "ok    Database: " in out and "schema up to date" in out and "12 shops" in out
    assert "ok    Time zone: Europe/Berlin" in out
    assert "Everything the bot needs is in place" in out
    assert [c.method for c in slack.calls] == ["auth.test", "apps.connections.open"]  # it only asks


def test_a_missing_scope_is_named_with_how_to_add_it(
    ready: pytest.MonkeyPatch, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.scopes = [s for s in MANIFEST_SCOPES if s not in ("files:read", "im:history")]
    code, out = doctor(capsys)
    assert code == 1
    assert "FIX   The bot token lacks scopes app.yaml asks for: files:read, im:history" in out
    assert "reinstall it to the workspace" in out
    assert "1 thing to fix" in out


def test_missing_settings_are_named_in_plain_words(
    ready: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("HEALTHBOT_SERVICE_ID", "SLACK_APP_TOKEN", "HEALTHBOT_ADMINS", "HEALTHBOT_TIMEZONE"):
        ready.delenv(name)
    ready.setenv("TIKTOK_APP_KEY", "app-key")
    code, out = doctor(capsys)
    assert code == 1
    assert (
        "FIX   HEALTHBOT_SERVICE_ID is not set, so authorization-request links and TikTok authorization links "
        "cannot be made. Set it to your partner service ID (TikTok Shop Partner Center > App & Service)"
    ) in out
    assert "FIX   TIKTOK_APP_SECRET is not set, so the TikTok Shop sync cannot sign its requests" in out
    assert "FIX   HEALTHBOT_ENCRYPTION_KEY is not set" in out and "Fernet.generate_key()" in out
    assert "FIX   SLACK_APP_TOKEN is not set, so the bot cannot connect to Slack" in out
    assert "SLACK_SIGNING_SECRET" in out
    assert "note  HEALTHBOT_ADMINS is empty, so everyone in the workspace may" in out
    assert "note  Time zone: America/Los_Angeles, the default" in out
    assert "4 things to fix" in out


def test_http_mode_with_a_signing_secret(
    ready: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ready.delenv("SLACK_APP_TOKEN")
    ready.setenv("SLACK_SIGNING_SECRET", "s3cret-value")
    code, out = doctor(capsys)
    assert code == 0, out
    assert "ok    Slack connection: HTTP mode on port 3000" in out and "/slack/events" in out
    assert "s3cret-value" not in out and "xoxb-doctor" not in out


def test_wrong_kinds_of_token(ready: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    ready.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token")
    code, out = doctor(capsys)
    assert code == 1
    assert "FIX   SLACK_BOT_TOKEN is not a bot token (those start with xoxb-)" in out
    assert "xoxp-a-user-token" not in out


def test_slack_refusing_the_token(
    ready: pytest.MonkeyPatch, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.socket_mode_url = None  # the fake's apps.connections.open then answers invalid_auth
    code, out = doctor(capsys)
    assert code == 1
    assert "FIX   Slack refused SLACK_APP_TOKEN for Socket Mode (invalid_auth)" in out


def test_no_slack_at_all_and_no_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import CLI_VARIABLES

    monkeypatch.chdir(tmp_path)
    for name in CLI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///fresh.db")
    code, out = doctor(capsys)
    assert code == 1
    assert (
        "FIX   Database: no database at sqlite:///fresh.db; run `healthbot db upgrade` then `healthbot demo`"
        in out
    )
    assert "FIX   SLACK_BOT_TOKEN is not set, so `healthbot serve` runs the local playground" in out
    assert "note  TikTok Shop API: not set up" in out
    assert not (tmp_path / "fresh.db").exists()


def test_a_tiktok_seller_whose_token_fails_is_named(
    ready: pytest.MonkeyPatch, factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    key = Fernet.generate_key().decode()
    ready.setenv("TIKTOK_APP_KEY", "app-key")
    ready.setenv("TIKTOK_APP_SECRET", "app-secret")
    ready.setenv("HEALTHBOT_ENCRYPTION_KEY", key)
    now = dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)
    with factory() as session, session.begin():
        vault = TokenVault(key)
        kept = {
            "access_token": "a",
            "refresh_token": "r",
            "access_expires_at": None,
            "refresh_expires_at": None,
        }
        store_seller(session, vault, open_id="o1", seller_name="Glow Labs", now=now, **kept)  # type: ignore[arg-type]
        failing = store_seller(session, vault, open_id="o2", seller_name="Nordic Home", now=now, **kept)  # type: ignore[arg-type]
        record_failure(session, failing, "refresh token expired", now)
    code, out = doctor(capsys)
    assert code == 1
    assert "FIX   TikTok: 1 of 2 connected sellers cannot refresh their token (Nordic Home)" in out
    # A key that cannot read the stored tokens is named too.
    ready.setenv("HEALTHBOT_ENCRYPTION_KEY", Fernet.generate_key().decode())
    _, out = doctor(capsys)
    assert "FIX   TikTok: a stored TikTok token cannot be decrypted with HEALTHBOT_ENCRYPTION_KEY" in out


def test_the_scopes_checked_are_the_ones_app_yaml_asks_for() -> None:
    manifest = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    assert list(MANIFEST_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]
