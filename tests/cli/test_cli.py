"""The `healthbot` command line: ask, demo, db upgrade, and the schema check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot import cli, db
from bot.ingest.demo import DemoSize, load_demo
from bot.settings import Settings


@pytest.fixture
def demo(factory: sessionmaker[Session], cli_env: pytest.MonkeyPatch) -> sessionmaker[Session]:
    today = Settings(_env_file=None).today()  # type: ignore[call-arg]  # the CLI's today
    load_demo(factory, DemoSize(shops=60, days=10), today)
    return factory


def ask(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["ask", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_atrisk_prints_sellers(demo: sessionmaker[Session], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = ask(capsys, "/health atrisk")
    assert code == 0, err
    assert "Sellers needing action (AHR/SPS/CHR, vs yesterday)" in out
    assert "1-10 of " in out and "[Open card]" in out and "[Show more (" in out
    code, out, err = ask(capsys, "/health atrisk restricted")
    assert code == 0 and "US00001" in out  # the poor, falling archetype, with every reason in words
    assert "AHR 70 → 35: reached 50: restricted until" in out and "SPS 2.2 is critical" in out
    assert "Traceback" not in out + err


def test_ask_overview(demo: sessionmaker[Session], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = ask(capsys, "/health overview vs 7d")
    assert code == 0
    assert "Portfolio health overview" in out
    assert "authorized sellers of 60" in out
    assert "vs 7 days ago" in out
    assert "Data as of" in out


def test_ask_shop_card(demo: sessionmaker[Session], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = ask(capsys, "/health shop us00003")
    assert code == 0
    assert "US00003" in out
    assert "155" in out and "150 in 5 points" in out
    assert "[Visit Seller Center]" in out


def test_ask_list_and_unauthorized(demo: sessionmaker[Session], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = ask(capsys, "/health list ahr poor sort ahr asc")
    assert code == 0
    assert "Health list" in out and "US00000" not in out  # deactivated is not poor
    assert "US00001" in out
    code, out, _ = ask(capsys, "/health unauthorized")
    assert code == 0
    assert "Sellers without authorization" in out and "[Send request link]" in out
    assert "No shop access" in out  # grouped by what is missing


def test_ask_json_prints_the_payload(demo: sessionmaker[Session], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = ask(capsys, "/health atrisk vs 7d", "--json")
    assert code == 0
    payload = json.loads(out)
    assert isinstance(payload["blocks"], list) and payload["blocks"]
    assert payload["blocks"][0]["type"] == "header"
    assert payload["text"].startswith("Sellers needing action")


def test_ask_unknown_shop_is_friendly(
    demo: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = ask(capsys, "/health shop zzqxvqq")
    assert code == 0
    assert "No seller matches" in out
    assert not err


def test_ask_not_understood_says_so_in_one_line_with_a_help_button(
    demo: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = ask(capsys, "/health bogus")
    assert code == 0
    assert "Sorry, I don't know bogus" in out  # mrkdwn rendered: the code span is styled, not backticked
    assert "[Help]" in out and "Shop Health Bot" not in out  # one line, not the whole help
    code, out, _ = ask(capsys, "/health")
    assert code == 0 and "Shop Health Bot" in out and "Sorry" not in out


def test_ask_manages_digests_too(demo: sessionmaker[Session], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = ask(capsys, "/health digest list")
    assert code == 0 and "No channel is subscribed yet" in out
    code, out, _ = ask(capsys, "/health digest subscribe at 08:00")
    assert code == 0 and "which channel?" in out  # no --channel: nothing to subscribe
    assert cli.main(["ask", "/health digest subscribe at 08:00", "--channel", "C0DIGEST"]) == 0
    code, out, _ = ask(capsys, "/health digest list")
    assert "C0DIGEST" in out and "08:00" in out


def test_ask_other_slash_command_exits_2(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = ask(capsys, "/foo")
    assert code == 2
    assert "only /health commands exist" in err
    assert not out


def test_demo_command(
    factory: sessionmaker[Session], cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["demo", "--shops", "20", "--days", "8", "--end-date", "2026-11-24"]
    assert cli.main(args) == 0
    assert "Demo portfolio loaded (20 shops" in capsys.readouterr().out
    assert cli.main([*args, "--if-empty"]) == 0
    assert "Data already present" in capsys.readouterr().out


def test_db_upgrade_on_an_empty_sqlite_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "fresh.db"
    path.touch()
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli.main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    head = db.head_revision()
    assert head and f"revision {head}" in out
    engine = db.make_engine(url)
    try:
        assert db.current_revision(engine) == head
        db.check_schema(engine)
    finally:
        engine.dispose()
    # twice is harmless, and the app now answers
    assert cli.main(["db", "upgrade"]) == 0
    code, out, err = ask(capsys, "/health overview")
    assert code == 0, err
    assert "0 authorized sellers of 0" in out
    assert "No data imported yet" in out


@pytest.mark.parametrize(
    "command", [["ask", "/health overview"], ["import", "x.csv"], ["demo", "--shops", "1"]]
)
def test_commands_refuse_a_database_that_was_not_upgraded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli.main(command) == 2
    out, err = capsys.readouterr()
    assert f"no database at {url}; run `healthbot db upgrade` then `healthbot demo`" in err
    assert "schema is at" not in err and "Traceback" not in out + err
    assert not (tmp_path / "new.db").exists(), "asking must not leave an empty database behind"


def test_an_empty_database_file_is_no_database_either(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.db").touch()
    monkeypatch.setenv("DATABASE_URL", "sqlite:///empty.db")
    assert cli.main(["ask", "/health atrisk"]) == 2
    assert "no database at sqlite:///empty.db; run `healthbot db upgrade`" in capsys.readouterr().err


def test_an_older_schema_names_both_revisions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, "0001")
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli.main(["ask", "/health atrisk"]) == 2
    err = capsys.readouterr().err
    assert f"schema is at 0001, the code needs {db.head_revision()}" in err and "healthbot db upgrade" in err


def test_a_missing_postgresql_database_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import _PG_PROBLEM, POSTGRES_URL

    if _PG_PROBLEM is not None:
        pytest.skip(_PG_PROBLEM)
    server = POSTGRES_URL.rsplit("/", 1)[0].replace("postgres@", "postgres:hunter2@")
    monkeypatch.setenv("DATABASE_URL", f"{server}/healthbot_no_such_database")
    assert cli.main(["ask", "/health atrisk"]) == 2
    err = capsys.readouterr().err
    assert "no database at postgresql+psycopg://postgres:***@" in err and "create it, then run" in err
    assert "hunter2" not in err


def test_invalid_settings_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTHBOT_TIMEZONE", "Mars/Olympus_Mons")
    assert cli.main(["ask", "/health"]) == 2
    assert "invalid settings" in capsys.readouterr().err
