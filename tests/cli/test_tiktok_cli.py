"""`healthbot tiktok link` and `healthbot dispatch due`."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import cli
from bot.ingest.tiktok.oauth import read_state
from tests.support.tiktok import FakeTikTok
from tests.support.tiktok_app import TEST_ENCRYPTION_KEY, state_of


@pytest.mark.parametrize(
    ("args", "printed"),
    [
        (["2026-07-02T10:00", "--tz", "America/New_York"], "2026-07-07T21:00:00-04:00"),  # DOMAIN.md:99-100
        (["2026-11-25T12:00", "--tz", "America/New_York"], "2026-11-30T21:00:00-05:00"),  # DOMAIN.md:100-101
        (
            ["2026-11-13T23:50", "--tz", "America/Chicago"],
            "2026-11-17T21:00:00-06:00",
        ),  # Friday night -> Tuesday
        (
            ["2026-03-06T21:30", "--tz", "America/Los_Angeles"],
            "2026-03-10T21:00:00-07:00",
        ),  # 21:30, across DST
        (
            ["2026-11-24T05:30Z", "--tz", "America/Los_Angeles"],
            "2026-11-25T21:00:00-08:00",
        ),  # Monday 21:30 local
        (
            ["2026-11-23T10:00", "--tz", "America/New_York", "--sla", "2026-11-24T18:00Z"],
            "2026-11-24T13:00:00-05:00",
        ),  # TikTok's SLA wins
    ],
)
def test_dispatch_due_prints_iso_8601_with_offset(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], printed: str
) -> None:
    assert cli.main(["dispatch", "due", *args]) == 0
    assert capsys.readouterr().out.strip() == printed


def test_dispatch_due_defaults_to_healthbot_timezone(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.setenv("HEALTHBOT_TIMEZONE", "America/New_York")
    assert cli.main(["dispatch", "due", "2026-11-04T09:00"]) == 0
    assert capsys.readouterr().out.strip() == "2026-11-06T21:00:00-05:00"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["yesterday", "--tz", "America/New_York"], "is not an ISO 8601 time"),
        (["2026-11-04T09:00", "--tz", "Mars/Olympus"], "unknown time zone"),
        (["2026-11-04T09:00", "--sla", "soon"], "--sla 'soon' is not an ISO 8601 time"),
    ],
)
def test_dispatch_due_explains_bad_input(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    assert cli.main(["dispatch", "due", *args]) == 2
    assert said in capsys.readouterr().err


def test_tiktok_link_names_what_is_missing(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.setenv("TIKTOK_APP_KEY", "key")
    assert cli.main(["tiktok", "link"]) == 2
    err = capsys.readouterr().err
    assert "TIKTOK_APP_SECRET" in err and "HEALTHBOT_SERVICE_ID" in err and "HEALTHBOT_ENCRYPTION_KEY" in err
    assert "TIKTOK_APP_KEY" not in err


def test_tiktok_link_prints_a_fresh_signed_link(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {
        "TIKTOK_APP_KEY": FakeTikTok.app_key,
        "TIKTOK_APP_SECRET": FakeTikTok.app_secret,
        "HEALTHBOT_SERVICE_ID": "7001 & co",
        "HEALTHBOT_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
    }.items():
        cli_env.setenv(name, value)
    assert cli.main(["tiktok", "link"]) == 0
    first = capsys.readouterr()
    assert cli.main(["tiktok", "link"]) == 0
    second = capsys.readouterr().out.strip()
    link = first.out.strip()
    assert link.startswith("https://services.tiktokshops.us/open/authorize?service_id=7001%20%26%20co&state=")
    assert link != second  # a fresh state every time
    claims = read_state(FakeTikTok.app_secret, state_of(link), now=dt.datetime.now(dt.UTC))
    assert claims.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(hours=23)
    assert "single use" in first.err and FakeTikTok.app_secret not in first.out + first.err
