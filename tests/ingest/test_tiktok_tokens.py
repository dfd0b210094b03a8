"""Refreshed TikTok tokens are stored, so the next sync (a restart, another replica) uses them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import ApiToken
from bot.settings import Settings
from jobs.sync import TIKTOK_SOURCE, run_sync
from tests.support.tiktok import FakeTikTok


@pytest.fixture
def fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as server:
        server.shops = []
        yield server


def _configured(settings: Settings, fake: FakeTikTok) -> Settings:
    return settings.model_copy(
        update={
            "tiktok_app_key": fake.app_key,
            "tiktok_app_secret": SecretStr(fake.app_secret),
            "tiktok_api_url": fake.api_url,
            "tiktok_auth_url": fake.auth_url,
            "tiktok_access_token": SecretStr(fake.access_token),
            "tiktok_refresh_token": SecretStr(fake.refresh_token),
        }
    )


def test_refreshed_tokens_survive_a_restart(
    factory: sessionmaker[Session], settings: Settings, fake: FakeTikTok
) -> None:
    configured = _configured(settings, fake)
    first_access = fake.access_token
    fake.expire_access_token()
    report = run_sync(configured, factory)
    assert report.errors == {}
    assert fake.refresh_count == 1
    with factory() as session:
        stored = session.get(ApiToken, TIKTOK_SOURCE)
        assert stored is not None
        assert stored.access_token == fake.access_token != first_access
        assert stored.refresh_token == fake.refresh_token
        assert first_access not in repr(stored) and stored.access_token not in repr(stored)
    # A new process still has the old tokens in its environment; the fake has revoked them.
    report = run_sync(configured, factory)
    assert report.errors == {}
    assert fake.refresh_count == 1  # the stored token worked: no second refresh


def test_without_stored_tokens_the_environment_is_used(
    factory: sessionmaker[Session], settings: Settings, fake: FakeTikTok
) -> None:
    report = run_sync(_configured(settings, fake), factory)
    assert report.errors == {}
    assert fake.refresh_count == 0
    with factory() as session:
        assert session.get(ApiToken, TIKTOK_SOURCE) is None
