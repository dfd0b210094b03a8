"""Settings read from the environment or `.env` (names as in PRODUCT.md). Secrets are SecretStr."""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
SERVICE_ID_HELP = "your partner service ID (TikTok Shop Partner Center > App & Service)"


@dataclass(frozen=True)
class MissingSetting:
    """A setting a feature needs that is not set: named at start-up, by `healthbot doctor`, and in
    the reply of the feature that needed it."""

    setting: str  # e.g. HEALTHBOT_SERVICE_ID
    consequence: str  # what cannot work without it, e.g. "request links cannot be made"
    fix: str  # what to set it to, or what to do instead

    def sentence(self) -> str:
        return f"{self.setting} is not set, so {self.consequence}. {self.fix}."


def _uses(template: str, name: str) -> bool:
    return any(field == name for _, field, _, _ in string.Formatter().parse(template))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # Seconds to wait for a Slack Web API answer; a post that times out is settled from history.
    healthbot_slack_timeout: int = 10

    database_url: str = "sqlite:///healthbot.db"
    # Seconds a Slack request waits for a database another writer (a long import) holds, before
    # the person is told "busy, try again"; Slack wants every answer within 3 s.
    healthbot_request_db_wait: float = 2.0
    port: int = 3000

    tiktok_app_key: str | None = None
    tiktok_app_secret: SecretStr | None = None
    tiktok_api_url: str = "https://open-api.tiktokglobalshop.com"
    tiktok_auth_url: str = "https://auth.tiktok-shops.com"
    # Where a seller authorizes the partner's app; the bot appends a signed, single-use state.
    tiktok_authorize_url: str = "https://services.tiktokshops.us/open/authorize?service_id={service_id}"
    # How long an authorization link stays valid.
    tiktok_link_hours: int = 24
    # The single token of the days before per-seller authorization: moved into the database as one
    # seller on the first sync, then no longer read.
    tiktok_access_token: SecretStr | None = None
    tiktok_refresh_token: SecretStr | None = None
    # Fernet key(s) that encrypt sellers' TikTok tokens at rest; comma-separated to rotate (the
    # first encrypts, every one decrypts).
    healthbot_encryption_key: SecretStr | None = None

    healthbot_timezone: str = "America/Los_Angeles"
    healthbot_admins: Annotated[list[str], NoDecode] = []
    healthbot_seller_center_url: str = "https://seller-{region}.tiktok.com/account/health?shop_id={shop_id}"
    healthbot_auth_request_url: str = (
        "https://partner.tiktokshop.com/seller-management/request-permissions"
        "?shop_id={shop_id}&service_id={service_id}"
    )
    healthbot_security_center_url: str = (
        "https://seller-{region}.tiktok.com/account/security-center/block-list?shop_id={shop_id}"
    )
    healthbot_service_id: str = ""
    # The seeds disagree on whether the UK uses the 48-point system; default to AHR.
    healthbot_uk_48_point: bool = False
    # 48-point shops (DOMAIN.md "Regions"): the seeds give only the ban at 48, so when such a shop
    # is warned, critical (needs action), and how many points gained over the window need action.
    healthbot_points_warning: int = Field(default=24, ge=1, le=47)
    healthbot_points_critical: int = Field(default=36, ge=1, le=47)
    healthbot_points_rise: int = Field(default=6, ge=1, le=48)
    # Folder the scheduled sync imports CSV files from (moved aside after import).
    healthbot_import_dir: str | None = None
    healthbot_sync_minutes: int = 60
    # Largest file an admin may hand the bot in Slack (a Health List of 10,000 shops is about 1 MB).
    healthbot_upload_max_mb: int = 20

    @field_validator("healthbot_admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator(
        "healthbot_seller_center_url", "healthbot_auth_request_url", "healthbot_security_center_url"
    )
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        # A typo in a template would otherwise fail at the first click, not at start-up.
        allowed = {"shop_id", "shop_code", "region", "service_id"}
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        if names - allowed:
            unknown = ", ".join(f"{{{name}}}" for name in sorted(names - allowed))
            raise ValueError(f"unknown placeholder {unknown}; use {sorted(allowed)}")
        return value

    @field_validator("tiktok_authorize_url")
    @classmethod
    def _authorize_placeholders(cls, value: str) -> str:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        if names - {"service_id"}:
            unknown = ", ".join(f"{{{name}}}" for name in sorted(names - {"service_id"}))
            raise ValueError(f"unknown placeholder {unknown}; use ['service_id']")
        return value

    @field_validator("healthbot_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone, with the zone's name in the message
        return value

    @model_validator(mode="after")
    def _points_in_order(self) -> Settings:
        if self.healthbot_points_warning >= self.healthbot_points_critical:
            raise ValueError(
                "HEALTHBOT_POINTS_WARNING must be below HEALTHBOT_POINTS_CRITICAL "
                f"({self.healthbot_points_warning} is not below {self.healthbot_points_critical})"
            )
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.healthbot_timezone)

    def today(self) -> dt.date:
        """Today in HEALTHBOT_TIMEZONE: the day deadlines and digests count from."""
        return dt.datetime.now(self.tz).date()

    def service_id_missing(self, template: str) -> bool:
        """A link template that needs HEALTHBOT_SERVICE_ID while it is not set."""
        return _uses(template, "service_id") and not self.healthbot_service_id.strip()

    def missing_settings(self) -> list[MissingSetting]:
        """Every setting a configured feature needs and does not have (empty: nothing missing)."""
        missing: list[MissingSetting] = []
        needs_service_id = [
            links
            for links, template in (
                ("authorization-request links", self.healthbot_auth_request_url),
                ("Seller Center links", self.healthbot_seller_center_url),
                ("Security Center links", self.healthbot_security_center_url),
            )
            if self.service_id_missing(template)
        ]
        if self.tiktok_app_key and self.service_id_missing(self.tiktok_authorize_url):
            needs_service_id.append("TikTok authorization links")
        if needs_service_id:
            missing.append(
                MissingSetting(
                    "HEALTHBOT_SERVICE_ID",
                    f"{' and '.join(needs_service_id)} cannot be made",
                    f"Set it to {SERVICE_ID_HELP}, or give each shop its own link in the shops CSV",
                )
            )
        has_secret = self.tiktok_app_secret is not None and bool(self.tiktok_app_secret.get_secret_value())
        if self.tiktok_app_key and not has_secret:
            missing.append(
                MissingSetting("TIKTOK_APP_SECRET", "the TikTok Shop sync cannot sign its requests",
                               "Copy your app's App secret from Partner Center > App & Service")
            )  # fmt: skip
        if has_secret and not self.tiktok_app_key:
            missing.append(
                MissingSetting("TIKTOK_APP_KEY", "the TikTok Shop sync cannot run",
                               "Copy your app's App key from Partner Center > App & Service")
            )  # fmt: skip
        if (self.tiktok_app_key or self.tiktok_access_token) and self.healthbot_encryption_key is None:
            missing.append(
                MissingSetting(
                    "HEALTHBOT_ENCRYPTION_KEY", "sellers' TikTok tokens cannot be stored (the bot keeps them only encrypted)",
                    'Make a key with `python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"` and keep it safe',
                )
            )  # fmt: skip
        if (
            self.slack_bot_token is not None
            and self.slack_app_token is None
            and self.slack_signing_secret is None
        ):
            missing.append(
                MissingSetting(
                    "SLACK_APP_TOKEN", "the bot cannot connect to Slack",
                    "For Socket Mode, generate an app-level token with connections:write (Basic Information > "
                    "App-Level Tokens); for HTTP mode, set SLACK_SIGNING_SECRET instead",
                )
            )  # fmt: skip
        if self.slack_bot_token is None and (self.slack_app_token or self.slack_signing_secret):
            missing.append(
                MissingSetting("SLACK_BOT_TOKEN", "the bot cannot answer in Slack",
                               "Copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions")
            )  # fmt: skip
        return missing

    @property
    def has_slack_credentials(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_app_token is not None or self.slack_signing_secret is not None
        )

    def is_admin(self, user_id: str) -> bool:
        return not self.healthbot_admins or user_id in self.healthbot_admins
