"""The bench's floor (bench.floor): an ack-only Bolt app that checks signatures as the bot does."""

from __future__ import annotations

import json

from bench.floor import create_floor
from bench.load import SECRET, action_request, command_request, percentiles
from bot import cli
from bot.playground.fakeslack import FakeSlack


def test_the_floor_acks_a_signed_command_with_blocks_and_refuses_a_bad_signature() -> None:
    with FakeSlack() as slack:
        client = create_floor(SECRET, slack.api_url).test_client()
        body, headers = command_request("overview", slack.response_url("floor"))
        reply = client.post("/slack/events", data=body, headers=headers)
        assert reply.status_code == 200 and "blocks" in json.loads(reply.data)
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
        assert client.post("/slack/events", data=body, headers=headers).status_code == 401
        assert client.get("/readyz").status_code == 200


def test_the_floor_acks_a_click_and_no_two_bench_requests_are_alike() -> None:
    with FakeSlack() as slack:
        client = create_floor(SECRET, slack.api_url).test_client()
        body, headers = action_request("share_to_channel", '{"text":"overview"}', slack.response_url("floor"))
        assert client.post("/slack/events", data=body, headers=headers).status_code == 200
    # the bot refuses a signed body it has seen (a replay): every bench request is its own
    assert command_request("overview", "u")[0] != command_request("overview", "u")[0]
    assert action_request("a", "v", "u")[0] != action_request("a", "v", "u")[0]


def test_percentiles() -> None:
    assert percentiles([float(n) for n in range(1, 101)]) == {"p50": 50.5, "p95": 95.0}


def test_xl_is_for_postgresql_only(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # the bench writes under ./bench-results
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli.main(["bench", "--size", "XL"]) == 2
    assert "PostgreSQL" in capsys.readouterr().out
    assert not (tmp_path / "bench-results").exists()
