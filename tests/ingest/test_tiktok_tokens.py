"""Sellers' tokens: stored encrypted, refreshed per seller (and the refresh survives a restart), a
failing seller shown rather than dropped, and the single token of before moved into one seller."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import ApiToken, TikTokSeller
from bot.services.tiktok_sellers import LEGACY_OPEN_ID, seller_statuses
from bot.services.vault import TokenVault, VaultError
from bot.settings import Settings
from jobs.sync import TIKTOK_SOURCE, run_sync
from tests.support.tiktok import SHOPS_PATH, FakeTikTok
from tests.support.tiktok_app import TEST_ENCRYPTION_KEY, connect_seller, quick_http, tiktok_settings

TODAY = dt.date(2026, 11, 24)
OTHER_KEY = "Q" * 43 + "="  # a valid Fernet key that is not the one the tokens were stored with


def shop(n: int) -> dict[str, str]:
    return {"id": f"90{n}", "code": f"TT{n}", "name": f"TikTok Shop {n}", "region": "US", "cipher": f"c-{n}"}


@pytest.fixture
def fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as server:
        server.shops = [shop(1)]
        yield server


@pytest.fixture
def api(settings: Settings, fake: FakeTikTok) -> Settings:
    return tiktok_settings(settings, fake)


def sync(api: Settings, factory: sessionmaker[Session]) -> dict[str, str]:
    with quick_http(api) as http:
        return run_sync(api, factory, today=TODAY, http=http).errors


def stored(factory: sessionmaker[Session]) -> list[TikTokSeller]:
    with factory() as session:
        return list(session.scalars(select(TikTokSeller).order_by(TikTokSeller.id)))


def test_refreshed_tokens_survive_a_restart(
    factory: sessionmaker[Session], api: Settings, fake: FakeTikTok
) -> None:
    assert connect_seller(api, factory, fake.seller).status == 200
    issued = fake.access_token
    fake.expire_access_token()
    assert sync(api, factory) == {}
    assert fake.refresh_count == 1 and fake.access_token != issued
    vault = TokenVault(TEST_ENCRYPTION_KEY)
    (seller,) = stored(factory)
    assert vault.decrypt(seller.access_token) == fake.access_token
    assert vault.decrypt(seller.refresh_token) == fake.refresh_token
    assert fake.access_token not in repr(seller)
    # A new process reads the stored tokens; the fake has revoked the ones issued first.
    assert sync(api, factory) == {}
    assert fake.refresh_count == 1  # the stored token worked: no second refresh


def test_a_token_expiring_within_a_day_is_refreshed_before_the_sync_uses_it(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    with FakeTikTok(token_lifetime=3600) as fake:
        fake.shops = [shop(1)]
        api = tiktok_settings(settings, fake)
        connect_seller(api, factory, fake.seller)
        fake.requests.clear()
        assert sync(api, factory) == {}
        paths = [r.path for r in fake.requests]
    assert paths.index("/auth/api/v2/token/refresh") < paths.index(SHOPS_PATH)
    assert fake.refresh_count == 1


def test_tokens_are_unreadable_in_the_database(
    factory: sessionmaker[Session], engine: Engine, api: Settings, fake: FakeTikTok, database_url: str
) -> None:
    second = fake.add_seller("Second Seller", [shop(2)])
    connect_seller(api, factory, fake.seller)
    connect_seller(api, factory, second)
    secrets = [fake.access_token, fake.refresh_token, second.access_token, second.refresh_token]
    with engine.connect() as conn:
        raw = [
            tuple(row) for row in conn.execute(text("SELECT access_token, refresh_token FROM tiktok_sellers"))
        ]
    assert len(raw) == 2
    for value in (v for row in raw for v in row):
        assert value.startswith("gAAAAA")  # a Fernet token
        assert all(secret not in value for secret in secrets)
    if engine.dialect.name == "sqlite":
        path = Path(database_url.removeprefix("sqlite:///"))
        files = [path, path.with_name(path.name + "-wal")]
        content = b"".join(f.read_bytes() for f in files if f.exists())
        assert b"TikTok Shop 2" in content  # the file is readable, the tokens in it are not
        for secret in secrets:
            assert secret.encode() not in content


def test_another_key_cannot_read_the_tokens(
    factory: sessionmaker[Session], api: Settings, fake: FakeTikTok
) -> None:
    connect_seller(api, factory, fake.seller)
    other = api.model_copy(update={"healthbot_encryption_key": SecretStr(OTHER_KEY)})
    errors = sync(other, factory)
    assert "cannot be decrypted" in errors[TIKTOK_SOURCE]
    (seller,) = stored(factory)
    with pytest.raises(VaultError) as info:
        TokenVault(OTHER_KEY).decrypt(seller.access_token)
    assert "cannot be decrypted" in str(info.value) and fake.access_token not in str(info.value)
    with pytest.raises(VaultError, match="not a Fernet key"):
        TokenVault("not-a-key")
    # Rotation: a new key first, the old one after it, still reads what the old one wrote.
    rotated = TokenVault(f"{OTHER_KEY},{TEST_ENCRYPTION_KEY}")
    assert rotated.decrypt(seller.access_token) == fake.access_token


def test_a_seller_whose_refresh_fails_is_kept_and_shown(
    factory: sessionmaker[Session], api: Settings, fake: FakeTikTok
) -> None:
    healthy = fake.add_seller("Healthy Seller", [shop(2)])
    connect_seller(api, factory, fake.seller)
    connect_seller(api, factory, healthy)
    fake.seller.refusing_refresh = True
    fake.expire_access_token(fake.seller)
    errors = sync(api, factory)
    assert "1 of 2 sellers failing: Fake Partner" in errors[TIKTOK_SOURCE]
    assert "refresh" in errors[TIKTOK_SOURCE] and fake.refresh_token not in errors[TIKTOK_SOURCE]
    with factory() as session:
        statuses = seller_statuses(session)
    assert [s.seller_name for s in statuses] == ["Fake Partner", "Healthy Seller"]  # failing first
    failing, ok = statuses
    assert failing.failed_at is not None and failing.last_error and "re-authorize" in failing.last_error
    assert failing.shops == (("TT1", "TikTok Shop 1", True),)  # its shop is not dropped
    assert ok.failed_at is None and ok.synced_at is not None


@pytest.mark.parametrize("where", ["api_tokens row", "settings"])
def test_the_single_token_of_before_becomes_one_seller(
    factory: sessionmaker[Session], api: Settings, fake: FakeTikTok, where: str
) -> None:
    legacy = api
    if where == "settings":
        legacy = api.model_copy(
            update={
                "tiktok_access_token": SecretStr(fake.access_token),
                "tiktok_refresh_token": SecretStr(fake.refresh_token),
            }
        )
    else:
        with factory() as session, session.begin():
            session.add(
                ApiToken(
                    source="tiktok",
                    access_token=fake.access_token,
                    refresh_token=fake.refresh_token,
                    expires_at=None,
                    updated_at=dt.datetime.now(dt.UTC),
                )
            )
    assert sync(legacy, factory) == {}
    (seller,) = stored(factory)
    assert seller.open_id == LEGACY_OPEN_ID
    assert TokenVault(TEST_ENCRYPTION_KEY).decrypt(seller.access_token) == fake.access_token
    with factory() as session:
        assert session.get(ApiToken, "tiktok") is None  # the plaintext copy is gone
        (status,) = seller_statuses(session)
    assert status.shops == (("TT1", "TikTok Shop 1", True),)
    # Once moved, the settings are not read again: a second sync keeps one seller.
    assert sync(legacy, factory) == {}
    assert len(stored(factory)) == 1
