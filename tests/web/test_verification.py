"""Every request is verified before anything else, by a check that cannot raise: a malformed,
missing, stale or future timestamp, or a bad signature, is a 401 that calls nothing (not even the
payload's response_url, a URL the sender chose) and logs one line without the body. A signed
request replayed within its 5 minutes, and Slack's retries, repeat no side effect.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from blocks.ids import ActionId, ShopRef
from bot.db.models import Acknowledgement
from bot.ingest.formats import Kind
from bot.settings import Settings
from bot.web.verify import verify
from tests.support.data import load, shop
from tests.support.slack import SIGNING_SECRET, Env, running_app

FORGED_TIMESTAMPS = ["abc", "", "1e9", "NaN", "1700000000.5", " 1700000000", "-1", "99999999999999999999"]


@pytest.fixture
def env(factory: sessionmaker[Session], settings: Settings) -> Iterator[Env]:
    load(factory, Kind.SHOPS, [shop("S1", "US1", "Alpha Goods")])
    with running_app(factory, settings) as running:
        yield running


def acknowledgements(env: Env) -> int:
    with env.factory() as session:
        return int(session.scalar(select(func.count()).select_from(Acknowledgement)) or 0)


@pytest.mark.parametrize("timestamp", FORGED_TIMESTAMPS)
def test_a_malformed_timestamp_is_401_and_calls_nothing(
    env: Env, timestamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = env.sender.action_body(ActionId.ACKNOWLEDGE.value, ShopRef(shop_id="S1").encode(), name="forged")
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
    with caplog.at_level(logging.INFO):
        answer = env.sender.transport(body, {"Content-Type": "application/x-www-form-urlencoded", **headers})
    assert answer.status_code == 401
    assert env.slack.calls == []  # no Web API call and no post to the payload's response_url
    assert acknowledgements(env) == 0
    logged = [r for r in caplog.records if r.name.startswith(("bot", "slack_bolt"))]
    assert [r.levelname for r in logged] == ["WARNING"]
    assert "forged" not in logged[0].getMessage() and "response" not in logged[0].getMessage()


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing timestamp or signature"),
        ({"X-Slack-Signature": "v0=" + "0" * 64}, "missing timestamp or signature"),
        ({"X-Slack-Request-Timestamp": "{now}", "X-Slack-Signature": "v0=" + "0" * 64}, "wrong signature"),
        ({"X-Slack-Request-Timestamp": "{now}", "X-Slack-Signature": "v1=abc"}, "malformed signature"),
        (
            {"X-Slack-Request-Timestamp": "{old}", "X-Slack-Signature": "{signed}"},
            "stale or future timestamp",
        ),
        (
            {"X-Slack-Request-Timestamp": "{future}", "X-Slack-Signature": "{signed}"},
            "stale or future timestamp",
        ),
    ],
)
def test_bad_signatures_and_times_are_refused_with_one_reason(headers: dict[str, str], reason: str) -> None:
    body = b"token=x&text=overview"
    now = 1_800_000_000
    fields = {"now": str(now), "old": str(now - 301), "future": str(now + 301)}
    filled = {k: v.format(**fields, signed="{signed}") for k, v in headers.items()}
    for key, value in filled.items():
        if value == "{signed}":
            stamp = filled["X-Slack-Request-Timestamp"]
            from slack_sdk.signature import SignatureVerifier

            filled[key] = (
                SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body) or ""
            )
    assert verify(SIGNING_SECRET, body, filled, now=lambda: now) == reason


def test_a_good_signature_verifies_and_a_byte_changed_does_not() -> None:
    from slack_sdk.signature import SignatureVerifier

    body, stamp = b"token=x&text=overview", "1800000000"
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body) or ""
    headers = {"x-slack-request-timestamp": [stamp], "x-slack-signature": [signature]}  # Bolt's shape
    assert verify(SIGNING_SECRET, body, headers, now=lambda: 1_800_000_010) is None
    assert verify(SIGNING_SECRET, body + b"x", headers, now=lambda: 1_800_000_010) == "wrong signature"


def test_sixteen_forged_requests_pointing_at_a_dead_port_leave_a_real_command_fast(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    load(factory, Kind.SHOPS, [shop("S1", "US1", "Alpha Goods")])
    with running_app(factory, settings, http=True) as env:
        dead = "http://127.0.0.1:9/never-answers"
        for _ in range(16):
            body = env.sender.command_body("overview").replace("response_url=", f"response_url={dead}&x=")
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": "abc",
            }
            assert env.sender.transport(body, headers).status_code == 401
        assert env.slack.calls == []  # not one outbound call for sixteen forged requests
        started = time.monotonic()
        answer = env.sender.command("overview")
        assert answer.status_code == 200 and time.monotonic() - started < 2


def test_a_replayed_signed_click_acknowledges_once(env: Env) -> None:
    body = env.sender.action_body(ActionId.ACKNOWLEDGE.value, ShopRef(shop_id="S1").encode(), name="first")
    stamp = int(time.time())
    assert env.sender.post(body, timestamp=stamp).status_code == 200
    replayed = env.sender.post(body, timestamp=stamp)  # the same bytes and signature, seconds later
    assert replayed.status_code == 200 and replayed.text == ""
    assert acknowledgements(env) == 1
    assert [name for name, _ in env.slack.responses] == ["first"]


def test_slack_retries_repeat_nothing(env: Env) -> None:
    body = env.sender.action_body(ActionId.ACKNOWLEDGE.value, ShopRef(shop_id="S1").encode())
    answer = env.sender.post(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert answer.status_code == 200 and answer.headers.get("x-slack-no-retry") == "1"
    assert acknowledgements(env) == 0 and env.slack.calls == []


def test_a_newline_in_a_body_cannot_forge_a_log_line(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    from bot.logs import OneLineFormatter

    body = env.sender.command_body("overview\n2026-01-01 ERROR bot: forged")
    env.sender.transport(body, {"X-Slack-Request-Timestamp": "abc\nERROR forged", "X-Slack-Signature": "x"})
    lines = [OneLineFormatter().format(r) for r in caplog.records]
    assert lines and all("\n" not in line for line in lines)
    assert not any("forged" in line for line in lines)


def test_nul_and_control_characters_in_command_text_are_harmless(env: Env) -> None:
    answer = env.sender.command("shop US\x001\x07")
    assert answer.status_code == 200
    assert "Alpha Goods" in answer.text or "No seller" in answer.text
