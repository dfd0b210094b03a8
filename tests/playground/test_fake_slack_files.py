"""The fake Slack's shared files: `files.info` and the private download URL, token checked as Slack
does (a sign-in page, not an error, without one)."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.playground.fakeslack import FakeSlack


def test_a_shared_file_is_described_by_files_info_and_downloaded_with_the_token(slack: FakeSlack) -> None:
    shared = slack.share_file(user="U1", channel="D0BOT", name="health list.csv", content=b"a,b\n1,2\n")
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    file = client.files_info(file=shared["id"])["file"]
    assert (file["name"], file["filetype"], file["size"], file["user"]) == ("health list.csv", "csv", 8, "U1")
    assert file["shares"]["private"]["D0BOT"][0]["ts"] == shared["shares"]["private"]["D0BOT"][0]["ts"]
    url = file["url_private_download"]

    with httpx.Client() as http:
        got = http.get(url, headers={"Authorization": "Bearer xoxb-test"})
        assert got.status_code == 200 and got.content == b"a,b\n1,2\n"
        assert got.headers["content-type"] == "text/csv"
        anonymous = http.get(url)
        assert anonymous.status_code == 200 and "Sign in to Slack" in anonymous.text
        assert anonymous.headers["content-type"].startswith("text/html")
        assert http.get(url.replace(shared["id"], "F99999999")).status_code == 404

    downloads = slack.calls_to("download")
    assert [c.token for c in downloads[:2]] == ["xoxb-test", None]
    with pytest.raises(SlackApiError) as missing:
        client.files_info(file="F404")
    assert missing.value.response["error"] == "file_not_found"


def test_a_channel_share_is_public_and_a_size_may_be_claimed(slack: FakeSlack) -> None:
    shared = slack.share_file(user="U1", channel="C1", name="big.xlsx", content=b"PK", size=50_000_000)
    assert shared["size"] == 50_000_000 and shared["filetype"] == "xlsx"
    assert list(shared["shares"]["public"]) == ["C1"] and shared["channels"] == ["C1"]
