"""Tests for the fake Slack Web API, driven by the real slack_sdk clients over HTTP."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from bot.playground.fakeslack import FakeSlack

TOKEN = "xoxb-test"


@pytest.fixture
def plain_client(slack: FakeSlack) -> WebClient:
    """A bare slack_sdk client at the shared `slack` fake: no retry handlers (unlike the shared
    `client`, which retries 429s and 5xx) and no database, so each test sees the fake's raw answers."""
    return WebClient(token=TOKEN, base_url=slack.api_url)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str, value: str = "v", action_id: str = "a") -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "value": value,
        "action_id": action_id,
    }


def test_urls_point_at_the_running_server(slack: FakeSlack) -> None:
    assert slack.api_url.startswith("http://127.0.0.1:")
    assert slack.api_url.endswith("/api/")
    assert slack.api_url == slack.base_url + "api/"
    assert slack.response_url("r1") == slack.base_url + "response/r1"


def test_post_message_is_recorded_with_blocks(slack: FakeSlack, plain_client: WebClient) -> None:
    blocks = [section("*Shop A* is at risk")]
    first = plain_client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)
    second = plain_client.chat_postMessage(channel="C1", text="again")

    assert first["ok"] and first["channel"] == "C1"
    assert re.fullmatch(r"\d{10}\.\d{6}", first["ts"]) and abs(float(first["ts"]) - time.time()) < 60
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == blocks

    [call, _] = slack.calls_to("chat.postMessage")
    assert call.ok and call.status == 200 and call.error is None
    assert call.params["blocks"] == blocks
    assert call.params["text"] == "fallback"
    assert call.token == TOKEN
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert slack.messages[("C1", first["ts"])]["text"] == "fallback"


def test_form_encoded_json_fields_are_decoded(slack: FakeSlack, plain_client: WebClient) -> None:
    blocks = [section("hello")]
    # Form body with the token as a field instead of the Authorization header.
    anonymous = WebClient(base_url=slack.api_url)
    anonymous.api_call(
        "chat.postMessage", params={"token": TOKEN, "channel": "C1", "blocks": json.dumps(blocks)}
    )
    [call] = slack.calls_to("chat.postMessage")
    assert call.params["blocks"] == blocks
    assert call.token == TOKEN
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"


def test_missing_token_and_unknown_method(slack: FakeSlack) -> None:
    anonymous = WebClient(base_url=slack.api_url)
    with pytest.raises(SlackApiError) as exc:
        anonymous.chat_postMessage(channel="C1", text="hi")
    assert exc.value.response["error"] == "not_authed"

    with pytest.raises(SlackApiError) as exc:
        WebClient(token=TOKEN, base_url=slack.api_url).api_call("nope.nothing")
    assert exc.value.response["error"] == "unknown_method"
    assert [(c.method, c.ok, c.error) for c in slack.calls] == [
        ("chat.postMessage", False, "not_authed"),
        ("nope.nothing", False, "unknown_method"),
    ]


def test_fifty_one_blocks_are_rejected(slack: FakeSlack, plain_client: WebClient) -> None:
    plain_client.chat_postMessage(channel="C1", text="ok", blocks=[section("x")] * 50)
    with pytest.raises(SlackApiError) as exc:
        plain_client.chat_postMessage(channel="C1", text="too many", blocks=[section("x")] * 51)
    assert exc.value.response["error"] == "invalid_blocks"
    assert exc.value.response["errors"] == [
        "must provide an array of no more than 50 items [json-pointer:/blocks]"
    ]
    rejected = slack.calls_to("chat.postMessage")[-1]
    assert not rejected.ok and rejected.error == "invalid_blocks"


def test_long_section_text_is_rejected(plain_client: WebClient) -> None:
    plain_client.chat_postMessage(channel="C1", text="ok", blocks=[section("x" * 3000)])
    with pytest.raises(SlackApiError) as exc:
        plain_client.chat_postMessage(channel="C1", text="long", blocks=[section("ok"), section("x" * 3001)])
    assert exc.value.response["error"] == "invalid_blocks"
    assert exc.value.response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/1/text/text]"
    ]


def test_long_button_text_is_rejected(plain_client: WebClient) -> None:
    plain_client.chat_postMessage(
        channel="C1", text="ok", blocks=[{"type": "actions", "elements": [button("b" * 75)]}]
    )
    with pytest.raises(SlackApiError) as exc:
        plain_client.chat_update(
            channel="C1", ts="1.0", text="t", blocks=[{"type": "actions", "elements": [button("b" * 76)]}]
        )
    assert exc.value.response["errors"] == [
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"
    ]


@pytest.mark.parametrize(
    ("block", "pointer"),
    [
        ({"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}, "/blocks/0/text/text"),
        ({"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}, "/blocks/0/fields/0/text"),
        ({**section("s"), "accessory": button("b", value="v" * 2001)}, "/blocks/0/accessory/value"),
        (
            {"type": "actions", "elements": [button("b", action_id="a" * 256)]},
            "/blocks/0/elements/0/action_id",
        ),
    ],
)
def test_other_block_limits(plain_client: WebClient, block: dict[str, Any], pointer: str) -> None:
    with pytest.raises(SlackApiError) as exc:
        plain_client.chat_postEphemeral(channel="C1", user="U1", text="t", blocks=[block])
    assert exc.value.response["error"] == "invalid_blocks"
    assert pointer in exc.value.response["errors"][0]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_message_argument_errors(plain_client: WebClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"channel": "", "text": "t"}, "channel_not_found"),
        ({"channel": "C1"}, "no_text"),
        ({"channel": "C1", "text": "x" * 40001}, "msg_too_long"),
    ]
    for kwargs, error in cases:
        with pytest.raises(SlackApiError) as exc:
            plain_client.chat_postMessage(**kwargs)
        assert exc.value.response["error"] == error


def test_views_allow_100_blocks_and_reject_101(slack: FakeSlack, plain_client: WebClient) -> None:
    view = {"type": "home", "blocks": [section("x")] * 100}
    assert plain_client.views_publish(user_id="U1", view=view)["view"]["id"].startswith("V")
    with pytest.raises(SlackApiError) as exc:
        plain_client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("x")] * 101})
    assert exc.value.response["errors"] == [
        "must provide an array of no more than 100 items [json-pointer:/view/blocks]"
    ]


def test_lookup_methods(slack: FakeSlack, plain_client: WebClient) -> None:
    slack.usergroups = {"S1": ["U1", "U2"]}
    auth = plain_client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"], auth["team"]) == (
        "UBOT",
        "BBOT",
        "T1",
        "Acme Agency",
    )
    assert plain_client.conversations_open(users="U123")["channel"]["id"] == "DU123"
    user = plain_client.users_info(user="U9")["user"]
    assert (user["id"], user["tz"], user["is_admin"]) == ("U9", "America/Los_Angeles", False)
    assert plain_client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError):
        plain_client.usergroups_users_list(usergroup="S404")


def test_rate_limited_call_is_retried_after_retry_after(slack: FakeSlack) -> None:
    client = WebClient(
        token=TOKEN, base_url=slack.api_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)]
    )
    slack.rate_limit_next("chat.postMessage", retry_after=1)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]

    limited, accepted = slack.calls_to("chat.postMessage")
    assert (limited.status, limited.ok, limited.error) == (429, False, "ratelimited")
    assert accepted.ok
    assert accepted.at - limited.at >= 1.0  # slack_sdk honoured Retry-After


def test_server_error_once_then_success(slack: FakeSlack) -> None:
    retry = ServerErrorRetryHandler(
        max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
    )
    client = WebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[retry])
    slack.fail_next("chat.update")
    assert client.chat_update(channel="C1", ts="1.0", text="new")["ok"]
    assert [(c.status, c.error) for c in slack.calls_to("chat.update")] == [
        (500, "internal_error"),
        (200, None),
    ]


def test_server_error_without_retry_raises(slack: FakeSlack, plain_client: WebClient) -> None:
    slack.fail_next("auth.test", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc:
            plain_client.auth_test()
        assert exc.value.response.status_code == 500
    assert plain_client.auth_test()["ok"]


def test_per_channel_rate_limit(slack: FakeSlack, plain_client: WebClient) -> None:
    slack.per_channel_rate = 20.0  # a 50 ms window keeps the test fast
    plain_client.chat_postMessage(channel="C1", text="one")
    with pytest.raises(SlackApiError) as exc:
        plain_client.chat_postMessage(channel="C1", text="two")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "1"
    plain_client.chat_postMessage(channel="C2", text="other channel is not limited")

    time.sleep(0.06)
    plain_client.chat_postMessage(channel="C1", text="two, later")
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [200, 429, 200, 200]


def test_response_url_posts_are_recorded(slack: FakeSlack) -> None:
    webhook = WebhookClient(slack.response_url("r1"))
    reply = webhook.send(text="done", blocks=[section("done")], replace_original=True)
    assert (reply.status_code, reply.body) == (200, "ok")
    assert slack.responses == [
        ("r1", {"text": "done", "blocks": [section("done")], "replace_original": True}),
    ]

    too_many = webhook.send(text="t", blocks=[section("x")] * 51)
    assert (too_many.status_code, too_many.body) == (400, "invalid_blocks")
    assert len(slack.responses) == 1
    assert [c.ok for c in slack.calls_to("response_url")] == [True, False]


def test_files_upload_v2_end_to_end(slack: FakeSlack, plain_client: WebClient) -> None:
    content = b"week,score\n1,97\n" * 100
    result = plain_client.files_upload_v2(
        channel="C1", content=content, filename="health.csv", title="Health"
    )
    assert result["file"]["title"] == "Health"
    assert slack.uploads == [content]
    [upload] = slack.calls_to("upload")
    assert upload.params["size"] == len(content)
    assert upload.params["head"] == content[:64]
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


def test_wait_for_and_reset(slack: FakeSlack, plain_client: WebClient) -> None:
    timer = threading.Timer(0.05, lambda: plain_client.chat_postMessage(channel="C1", text="later"))
    timer.start()
    [call] = slack.wait_for("chat.postMessage", timeout=2.0)
    timer.join()
    assert call.params["text"] == "later"

    with pytest.raises(AssertionError, match=r"chat\.delete"):
        slack.wait_for("chat.delete", timeout=0.05)

    slack.fail_next("chat.postMessage")
    slack.reset()
    assert slack.calls == [] and slack.messages == {}
    assert plain_client.chat_postMessage(channel="C1", text="after reset")["ok"]
