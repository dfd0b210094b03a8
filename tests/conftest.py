"""Shared fixtures, written once: the databases, the fake Slack, the app, the CLI's environment.

Every test that takes `factory` runs once per backend: a real SQLite file and, when reachable, the
local PostgreSQL. PostgreSQL tests skip, saying why, only when the server cannot be reached (set
HEALTHBOT_TEST_POSTGRES_URL to point elsewhere).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from blocks import kit
from bot import db
from bot.db.models import Base
from bot.deps import web_client
from bot.playground.fakeslack import FakeSlack
from bot.settings import Settings
from tests.support.slack import Env, configure, running_app

POSTGRES_URL = os.environ.get(
    "HEALTHBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TODAY = dt.date(2026, 11, 24)
kit.CHECKED = True  # every message the tests build is validated by slack_sdk too, and must match


def _postgres_problem() -> str | None:
    engine = db.make_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL.split('@')[-1]} is not reachable ({type(exc).__name__})"
    finally:
        engine.dispose()


_PG_PROBLEM: str | None = _postgres_problem()


# Each test session works in its own schema, so parallel runs on one server never collide.
PG_SCHEMA = f"healthbot_test_{os.getpid()}"


def _schema_url(url: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{PG_SCHEMA}"


def _reset_postgres(url: str, *, create: bool = True) -> None:
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        if create:
            conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()


@pytest.fixture(scope="session")
def _migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'healthbot.db'}"
    db.upgrade(sqlite_url)
    engines["sqlite"] = db.make_engine(sqlite_url)
    if _PG_PROBLEM is None:
        _reset_postgres(POSTGRES_URL)
        db.upgrade(_schema_url(POSTGRES_URL))
        engines["postgresql"] = db.make_engine(_schema_url(POSTGRES_URL))
    yield engines
    for engine in engines.values():
        engine.dispose()
    if _PG_PROBLEM is None:
        _reset_postgres(POSTGRES_URL, create=False)


def _truncate(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, _migrated: dict[str, Engine]) -> Iterator[Engine]:
    if request.param == "postgresql" and _PG_PROBLEM is not None:
        pytest.skip(_PG_PROBLEM)
    engine = _migrated[request.param]
    _truncate(engine)
    yield engine


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return db.session_factory(engine)


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


@pytest.fixture
def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]


@pytest.fixture
def write_csv(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a CSV file from a header and rows of strings; returns its path."""

    def write(name: str, header: str, *rows: str) -> Path:
        path = tmp_path / name
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        return path

    return write


# ---- Slack ----


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The local fake Slack Web API on a free port."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(settings: Settings, slack: FakeSlack) -> WebClient:
    """The app's own Web API client (429, 5xx and connection retry handlers) pointed at the fake."""
    return web_client(configure(settings, slack))


@pytest.fixture
def bot(factory: sessionmaker[Session], settings: Settings) -> Iterator[Env]:
    """The app with the fake Slack behind it; signed requests go to `app.dispatch`."""
    with running_app(factory, settings) as env:
        yield env


# ---- the command line ----

CLI_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "HEALTHBOT_IMPORT_DIR",
    "HEALTHBOT_ADMINS",
    "TIKTOK_APP_KEY",
    "TIKTOK_APP_SECRET",
    "TIKTOK_ACCESS_TOKEN",
    "TIKTOK_REFRESH_TOKEN",
    "TIKTOK_API_URL",
    "TIKTOK_AUTH_URL",
    "TIKTOK_AUTHORIZE_URL",
    "HEALTHBOT_ENCRYPTION_KEY",
    "HEALTHBOT_SERVICE_ID",
)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> pytest.MonkeyPatch:
    """`healthbot` run in-process against the test database, in an empty folder (no .env), with no
    Slack or TikTok settings from the machine's environment."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in CLI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch
