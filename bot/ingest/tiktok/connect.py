"""A seller connects: a fresh authorization link, and the callback that checks the state, exchanges
the code at `/api/v2/token/get`, stores the seller's tokens encrypted, and lists the seller's shops
so they show at once (the next sync does the rest).

`complete_authorization` never raises for what arrives in the URL: it returns a `Connected` with a
status and a friendly sentence for the page the seller sees. Nothing secret is in either.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.ingest.tiktok import tokens
from bot.ingest.tiktok.client import TikTokClient
from bot.ingest.tiktok.errors import TikTokError
from bot.ingest.tiktok.oauth import StateError, authorization_link, issue_state, read_state
from bot.ingest.tiktok.transport import TikTokHttp
from bot.services import tiktok_sellers
from bot.services.records import ListedShop
from bot.services.vault import TokenVault, VaultError, vault_from_settings
from bot.settings import Settings

log = logging.getLogger(__name__)


class NotConfigured(RuntimeError):
    """A setting the authorization flow needs is missing; the message names it."""


@dataclass(frozen=True)
class Connected:
    status: int  # the HTTP status of the page
    title: str
    message: str
    seller_name: str = ""
    shops: tuple[str, ...] = ()


def _app_secret(settings: Settings) -> str:
    secret = settings.tiktok_app_secret.get_secret_value() if settings.tiktok_app_secret else ""
    missing = [
        name
        for name, value in (("TIKTOK_APP_KEY", settings.tiktok_app_key), ("TIKTOK_APP_SECRET", secret))
        if not value
    ]
    if missing:
        raise NotConfigured(f"the TikTok app is not configured: set {', '.join(missing)}")
    return secret


def missing_for_link(settings: Settings) -> list[str]:
    """The settings an authorization link needs that are not set (empty: it can be made)."""
    missing = []
    if not settings.tiktok_app_key:
        missing.append("TIKTOK_APP_KEY")
    if settings.tiktok_app_secret is None or not settings.tiktok_app_secret.get_secret_value():
        missing.append("TIKTOK_APP_SECRET")
    if "{service_id}" in settings.tiktok_authorize_url and not settings.healthbot_service_id:
        missing.append("HEALTHBOT_SERVICE_ID")
    if settings.healthbot_encryption_key is None:
        missing.append("HEALTHBOT_ENCRYPTION_KEY")
    return missing


def new_authorization_link(settings: Settings, *, now: dt.datetime | None = None) -> str:
    """A fresh link with a signed, single-use state; NotConfigured names what is missing."""
    missing = missing_for_link(settings)
    if missing:
        raise NotConfigured(f"cannot make a TikTok authorization link: set {', '.join(missing)}")
    state = issue_state(
        _app_secret(settings),
        now=now or dt.datetime.now(dt.UTC),
        lifetime=dt.timedelta(hours=settings.tiktok_link_hours),
    )
    return authorization_link(
        settings.tiktok_authorize_url, service_id=settings.healthbot_service_id, state=state
    )


def optional_authorization_link(settings: Settings) -> str | None:
    """A fresh link when the TikTok app is fully set up, else None (the Request authorization flow
    then sends Partner Center's link alone)."""
    try:
        return new_authorization_link(settings)
    except NotConfigured:
        return None


def complete_authorization(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    code: str,
    state: str,
    now: dt.datetime | None = None,
    http: TikTokHttp | None = None,
) -> Connected:
    """Handle TikTok's redirect: check the state, exchange the code, store the seller."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        secret = _app_secret(settings)
        vault = vault_from_settings(settings)
    except (NotConfigured, VaultError) as exc:
        log.error("TikTok authorization callback refused: %s", exc)
        return Connected(
            503,
            "Not set up yet",
            "The bot is not ready to connect sellers yet. Please tell your account manager; nothing was changed.",
        )
    if not code or not state:
        return Connected(
            400,
            "Link incomplete",
            "This page needs the code and state that TikTok adds. Please open the authorization link again from the start.",
        )
    try:
        claims = read_state(secret, state, now=now)
    except StateError as exc:
        log.warning("TikTok authorization callback: %s", exc)
        return Connected(
            400,
            "Link not valid",
            f"Sorry, {exc}. Please ask your account manager for a fresh link; nothing was changed.",
        )
    if not tiktok_sellers.use_state_nonce(factory, claims.nonce, claims.expires_at, now):
        log.warning("TikTok authorization callback: a state was used twice")
        return Connected(
            400,
            "Link already used",
            "Sorry, this authorization link was already used. Please ask your account manager for a fresh link; nothing was changed.",
        )
    owned = http is None
    http = http or TikTokHttp(
        app_key=str(settings.tiktok_app_key),
        app_secret=secret,
        api_url=settings.tiktok_api_url,
        auth_url=settings.tiktok_auth_url,
        max_retries=2,
    )
    try:
        return _connect(factory, vault, http, code, now, settings)
    finally:
        if owned:
            http.close()


def _connect(
    factory: sessionmaker[Session],
    vault: TokenVault,
    http: TikTokHttp,
    code: str,
    now: dt.datetime,
    settings: Settings,
) -> Connected:
    try:
        grant = tokens.exchange_code(http, code)
    except TikTokError as exc:
        log.warning("TikTok authorization callback: the code exchange failed: %s", exc)
        return Connected(
            502,
            "TikTok did not confirm",
            "TikTok did not confirm the authorization. Please try the link again in a few minutes, or ask your account manager for a fresh one.",
        )
    open_id = grant.open_id or f"seller:{grant.seller_name}"
    with transaction(factory) as session:
        seller_id = tiktok_sellers.store_seller(
            session,
            vault,
            open_id=open_id,
            seller_name=grant.seller_name,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            access_expires_at=grant.access_expires_at,
            refresh_expires_at=grant.refresh_expires_at,
            now=now,
        )
    shops: list[ListedShop] = []
    try:
        client = TikTokClient(http=http, access_token=grant.access_token, refresh_token=grant.refresh_token)
        shops = [ListedShop(s.shop_id, s.code, s.name, s.region, s.cipher) for s in client.authorized_shops()]
        with transaction(factory) as session:
            tiktok_sellers.apply_listed_shops(session, {seller_id: shops}, now, settings)
    except TikTokError as exc:  # the seller is stored; the next sync lists the shops
        log.warning("TikTok authorization callback: listing the new seller's shops failed: %s", exc)
    log.info("TikTok seller connected: open_id=%s shops=%d", open_id, len(shops))
    name = grant.seller_name or "your shop"
    return Connected(
        200,
        "Connected",
        f"Thank you: {name} is now connected to your partner's Shop Health Bot. You can close this page.",
        seller_name=grant.seller_name,
        shops=tuple(s.name or s.shop_id for s in shops),
    )
