"""The bot's side of the fake TikTok: settings pointed at it, and sellers connected through a
fresh authorization link and the callback (called in process)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.tiktok.connect import Connected, complete_authorization, new_authorization_link
from bot.ingest.tiktok.transport import TikTokHttp
from bot.settings import Settings
from jobs.tiktok_sync import app_http
from tests.support.tiktok import FakeSeller, FakeTikTok

# ---- the bot's settings and its connected sellers, against a running fake ----

#: A fixed Fernet key for tests (never used anywhere else).
TEST_ENCRYPTION_KEY = "kN0wv1y9wz3l5Q2mHqzv3b0Xr8s7t6u5v4w3x2y1z0A="


def tiktok_settings(settings: Settings, fake: FakeTikTok, **extra: object) -> Settings:
    """`settings` pointed at the fake, with an encryption key and a service ID."""
    values: dict[str, object] = {
        "tiktok_app_key": fake.app_key,
        "tiktok_app_secret": SecretStr(fake.app_secret),
        "tiktok_api_url": fake.api_url,
        "tiktok_auth_url": fake.auth_url,
        "healthbot_encryption_key": SecretStr(TEST_ENCRYPTION_KEY),
        "healthbot_service_id": "7001",
    }
    values.update(extra)
    return settings.model_copy(update=values)


def state_of(link: str) -> str:
    """The ``state`` parameter of an authorization link."""
    return dict(parse_qsl(urlsplit(link).query))["state"]


def connect_seller(settings: Settings, factory: sessionmaker[Session], seller: FakeSeller) -> Connected:
    """The seller authorizes through a fresh link and the callback (called in process)."""
    link = new_authorization_link(settings)
    return complete_authorization(settings, factory, code=seller.auth_code, state=state_of(link))


def quick_http(settings: Settings) -> TikTokHttp:
    """The app's HTTP side without real waits between retries."""
    return app_http(settings, sleep=lambda seconds: None)
