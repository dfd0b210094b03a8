"""Files handed to the bot in Slack, end to end: signed `message` (file_share) and `file_shared`
events in, the fake Slack's `files.info` and private download URL, the real importer, and the
reply in the message's thread (PRODUCT.md "Data sources", issue 14)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import MetricSnapshot
from bot.ingest.formats import Kind
from bot.playground.fakeslack import Call
from bot.settings import Settings
from tests.ingest.test_importer import dump
from tests.support.data import load, shop
from tests.support.files import HEALTH_LIST_HEADER, csv_bytes, xlsx_bytes
from tests.support.slack import BOT_TOKEN, HOME_TEAM, Env, running_app, text_of

ADMIN = "UADMIN1"
DM = "DUADMIN1"
METRICS = ("date", "shop_id", "ahr", "sps", "gmv_7d")


@pytest.fixture
def env(factory: sessionmaker[Session], settings: Settings) -> Iterator[Env]:
    with running_app(factory, settings, healthbot_admins=[ADMIN], healthbot_upload_max_mb=1) as running:
        load(factory, Kind.SHOPS, [shop("100", "GLOW1", "Glow Beauty"), shop("200", "KITE2", "Kite Goods")])
        yield running


def drop_in_dm(
    env: Env,
    name: str,
    content: bytes,
    *,
    user: str = ADMIN,
    channel: str = DM,
    team: str = HOME_TEAM,
    size: int | None = None,
) -> str:
    """A person drops a file into the bot's DM: Slack stores it, then sends the message event."""
    file = env.slack.share_file(user=user, channel=channel, name=name, content=content, size=size, team=team)
    ts = file["shares"]["private"][channel][0]["ts"]
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": channel,
        "channel_type": "im",
        "user": user,
        "user_team": team,
        "text": "",
        "ts": ts,
        "event_ts": ts,
        "files": [{"id": file["id"], "name": name, "mode": "hosted"}],
    }
    assert env.sender.event(event).status_code == 200
    env.settle()
    return ts


def replies(env: Env, channel: str, thread: str) -> list[str]:
    """The visible text of every message the bot posted in the thread."""
    posts = [c for c in env.slack.calls_to("chat.postMessage") if c.ok]
    return [
        text_of(c.params.get("blocks") or []) or str(c.params.get("text"))
        for c in posts
        if c.params.get("channel") == channel and c.params.get("thread_ts") == thread
    ]


def downloads(env: Env) -> list[Call]:
    return env.slack.calls_to("download")


def data(factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """The database's rows, less the bookkeeping that makes each event act once (the per-file
    claims, the requests seen, the claims on the replies posted)."""
    tables = dump(factory)
    for bookkeeping in ("action_claims", "seen_requests", "post_claims"):
        tables.pop(bookkeeping)
    return tables


def metric_rows(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(MetricSnapshot)) or 0)


GOOD_ROWS = (["2026-11-24", "100", "850", "4.5", "1200"], ["2026-11-24", "200", "40", "2.0", "300"])
GOOD_CSV = csv_bytes(METRICS, *GOOD_ROWS)
FORMATS = ("csv", "xlsx")


def as_file(kind: str, header: Sequence[object], *rows: Sequence[object]) -> bytes:
    return csv_bytes(header, *rows) if kind == "csv" else xlsx_bytes(header, *rows)


@pytest.mark.parametrize("kind", FORMATS)
def test_a_file_dropped_in_the_dm_is_downloaded_with_the_bot_token_imported_and_answered(
    env: Env, kind: str
) -> None:
    ts = drop_in_dm(env, f"metrics.{kind}", as_file(kind, METRICS, *GOOD_ROWS))
    (info,) = env.slack.calls_to("files.info")
    assert info.token == BOT_TOKEN
    (got,) = downloads(env)
    assert got.token == BOT_TOKEN and got.status == 200
    (reply,) = replies(env, DM, ts)
    assert f"metrics.{kind}" in reply and "metrics: 2 rows imported, data date 24 Nov 2026" in reply
    assert metric_rows(env.factory) == 2


def test_a_partner_center_health_list_xlsx_imports_and_shows_on_the_card(env: Env) -> None:
    rows = [["Glow Beauty", "GLOW1", "100", 850, 4.5, 1200, 1, 4, 2]]
    ts = drop_in_dm(env, "Health List 2026-11-24.xlsx", xlsx_bytes(HEALTH_LIST_HEADER, *rows))
    (reply,) = replies(env, DM, ts)
    assert "Health List (Partner Center): 1 row imported, data date 24 Nov 2026" in reply
    card = env.sender.command("shop GLOW1", user_id=ADMIN)
    shown = text_of(card.json()["blocks"])
    assert "Violations* (Partner Center, 24 Nov)\n7d 1 | 60d 4\nAppealable 2" in shown


@pytest.mark.parametrize("kind", FORMATS)
def test_bad_rows_are_listed_by_line_and_column_and_the_full_list_is_attached(env: Env, kind: str) -> None:
    bad = [["2026-11-24", "100", f"x{i}", "4.5", "1"] for i in range(20)]
    ts = drop_in_dm(env, f"metrics-2026-11-24.{kind}", as_file(kind, METRICS, *bad))
    (reply,) = replies(env, DM, ts)
    assert "rejected, nothing imported (20 bad rows of 20)" in reply
    assert "line 2, column ahr: 'x0' is not a number" in reply
    assert "line 16, column ahr" in reply and "line 17, column" not in reply  # capped
    assert "… and 5 more bad rows: the full list is attached." in reply
    (listed,) = [c for c in env.slack.calls_to("files.completeUploadExternal") if c.ok]
    assert listed.params["channel_id"] == DM and listed.params["thread_ts"] == ts
    full = env.slack.uploads[-1].decode()
    assert full.count("column ahr") == 20 and "line 21, column ahr: 'x19' is not a number" in full
    assert metric_rows(env.factory) == 0


@pytest.mark.parametrize("kind", FORMATS)
def test_a_non_admin_is_refused_before_anything_is_downloaded(env: Env, kind: str) -> None:
    ts = drop_in_dm(env, f"metrics.{kind}", as_file(kind, METRICS, *GOOD_ROWS), user="U2", channel="DU2")
    (reply,) = replies(env, "DU2", ts)
    assert "Only the bot's admins (HEALTHBOT_ADMINS) may import data." in reply
    assert not env.slack.calls_to("files.info") and not downloads(env)
    assert metric_rows(env.factory) == 0


def test_an_outsider_is_refused_before_anything_is_downloaded(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    # Everyone in the workspace is an admin here (HEALTHBOT_ADMINS empty), and still an outsider is not.
    with running_app(factory, settings) as env:
        ts = drop_in_dm(env, "metrics.csv", GOOD_CSV, user="UGUEST", channel="DUGUEST", team="T2OTHER")
        (reply,) = replies(env, "DUGUEST", ts)
        assert reply == "Shop Health Bot answers members of Acme Agency only."
        assert not env.slack.calls_to("files.info") and not downloads(env)


@pytest.mark.parametrize("kind", FORMATS)
def test_oversized_files_are_refused_by_their_size_or_while_downloading(env: Env, kind: str) -> None:
    ts = drop_in_dm(env, f"big.{kind}", as_file(kind, METRICS, *GOOD_ROWS), size=5_000_000)
    (reply,) = replies(env, DM, ts)
    assert f"big.{kind}: 5.0 MB is over the 1 MB limit" in reply
    assert not downloads(env)
    # A file that claims to be small is still cut off at the limit.
    lines = b"".join(b"2026-11-24,100,850,4.5,1200\n" for _ in range(50_000))
    ts = drop_in_dm(env, "liar.csv", b"date,shop_id,ahr,sps,gmv_7d\n" + lines, size=100)
    (reply,) = replies(env, DM, ts)
    assert "liar.csv: the file is larger than 1 MB" in reply
    assert metric_rows(env.factory) == 0


def test_files_that_are_not_csv_or_xlsx_are_refused_with_the_reason(env: Env) -> None:
    ts = drop_in_dm(env, "report.pdf", b"%PDF-1.4")
    (reply,) = replies(env, DM, ts)
    assert "report.pdf: not a .csv or .xlsx file (PDF)" in reply
    assert not downloads(env)
    ts = drop_in_dm(env, "renamed.xlsx", GOOD_CSV)
    (reply,) = replies(env, DM, ts)
    assert "renamed.xlsx is not an Excel workbook" in reply


@pytest.mark.parametrize("kind", FORMATS)
def test_a_re_upload_and_a_retried_event_change_nothing(env: Env, kind: str) -> None:
    upload = as_file(kind, METRICS, *GOOD_ROWS)
    drop_in_dm(env, f"metrics.{kind}", upload)
    before = data(env.factory)
    ts = drop_in_dm(env, f"metrics.{kind}", upload)  # the same file uploaded again
    (reply,) = replies(env, DM, ts)
    assert "2 rows imported" in reply
    assert data(env.factory) == before

    # Slack delivering the same event twice answers once.
    (event_call,) = [c for c in env.slack.calls_to("files.info")][-1:]
    posts = len(env.slack.calls_to("chat.postMessage"))
    file_id = str(event_call.params["file"])
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": DM,
        "channel_type": "im",
        "user": ADMIN,
        "ts": ts,
        "files": [{"id": file_id}],
    }
    assert env.sender.event(event).status_code == 200
    env.settle()
    assert len(env.slack.calls_to("chat.postMessage")) == posts


def file_shared_event(env: Env, file: dict[str, Any], channel: str, user: str = ADMIN) -> None:
    event = {
        "type": "file_shared",
        "channel_id": channel,
        "file_id": file["id"],
        "user_id": user,
        "file": {"id": file["id"]},
        "event_ts": "1700000000.000001",
    }
    assert env.sender.event(event).status_code == 200
    env.settle()


def test_health_import_in_a_channel_takes_the_admins_next_file_there(env: Env) -> None:
    answer = env.sender.command("import", user_id=ADMIN, channel_id="C1").json()
    assert "Share the file here in the next 10 minutes" in text_of(answer["blocks"])

    elsewhere = env.slack.share_file(user=ADMIN, channel="C2", name="metrics.csv", content=GOOD_CSV)
    file_shared_event(env, elsewhere, "C2")  # another channel: not for us
    someone = env.slack.share_file(user="U2", channel="C1", name="metrics.csv", content=GOOD_CSV)
    file_shared_event(env, someone, "C1", user="U2")  # someone else's file in the channel
    assert not env.slack.calls_to("files.info")

    first = env.slack.share_file(user=ADMIN, channel="C1", name="metrics.csv", content=GOOD_CSV)
    file_shared_event(env, first, "C1")
    ts = first["shares"]["public"]["C1"][0]["ts"]
    (reply,) = replies(env, "C1", ts)
    assert "metrics: 2 rows imported" in reply
    assert metric_rows(env.factory) == 2

    later = env.slack.share_file(user=ADMIN, channel="C1", name="metrics.csv", content=GOOD_CSV)
    file_shared_event(env, later, "C1")  # the wait was for the next file only
    assert replies(env, "C1", later["shares"]["public"]["C1"][0]["ts"]) == []


def test_health_import_is_for_admins_and_explains_itself_in_the_dm(env: Env) -> None:
    refused = env.sender.command("import", user_id="U2", channel_id="C1").json()
    assert "Only the bot's admins (HEALTHBOT_ADMINS) may import data." in text_of(refused["blocks"])
    in_dm = env.sender.command("import", user_id=ADMIN, channel_id=DM).json()
    assert "Drop the file into this conversation" in text_of(in_dm["blocks"])


def test_the_bots_own_files_and_plain_dm_messages_are_left_alone(env: Env) -> None:
    own = env.slack.share_file(user="UBOT", channel="C1", name="import-problems.txt", content=b"x")
    file_shared_event(env, own, "C1", user="UBOT")
    said = {"type": "message", "channel": DM, "channel_type": "im", "user": ADMIN, "text": "hi", "ts": "1.1"}
    assert env.sender.event(said).status_code == 200
    bot_file = {
        **said,
        "subtype": "file_share",
        "bot_id": "BBOT",
        "user": "UBOT",
        "files": [{"id": own["id"]}],
    }
    assert env.sender.event(bot_file).status_code == 200
    env.settle()
    assert not env.slack.calls_to("files.info") and not env.slack.calls_to("chat.postMessage")
