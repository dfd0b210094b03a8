"""The TikTok Shop part of the sync: every connected seller, each with its own token.

For each seller (in parallel): refresh the token when it expires within a day, list the shops it
authorized, then per shop read the last-7-days GMV and the orders changed since the last sync
(`/order/202309/orders/search`). A seller whose refresh or calls fail is recorded and shown
(`/health tiktok`, the card, the freshness line); its shops are left as they were, and no other
seller's answer can take them away.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.db.models import MetricSnapshot, ShopHealth, TikTokShopLink
from bot.ingest.tiktok.client import TikTokClient
from bot.ingest.tiktok.errors import TikTokConfigError, TikTokError
from bot.ingest.tiktok.tokens import TokenGrant
from bot.ingest.tiktok.transport import TikTokHttp
from bot.services import dispatch, portfolio_trend, tiktok_sellers
from bot.services.health import aware
from bot.services.portfolio import data_changed
from bot.services.records import ListedShop, OrderFacts, SellerCredentials
from bot.services.vault import TokenVault, vault_from_settings
from bot.settings import Settings

log = logging.getLogger(__name__)

#: Refresh a seller's access token when it expires within this long (the sync runs hourly).
REFRESH_AHEAD = dt.timedelta(days=1)
#: First sync of a shop reads this far back; later ones from the last sync, with an overlap.
FIRST_ORDERS_WINDOW = dt.timedelta(days=35)
ORDERS_OVERLAP = dt.timedelta(minutes=15)
WORKERS = 8


@dataclass
class TikTokSyncResult:
    sellers: int = 0
    shops_authorized: int = 0
    shops_deauthorized: int = 0
    gmv_updated: int = 0
    orders: int = 0
    failed_sellers: dict[str, str] = field(default_factory=dict)  # seller name -> error
    migrated_single_token: bool = False


@dataclass
class _ShopPull:
    shop_id: str
    gmv: float | None = None
    orders: list[OrderFacts] | None = None  # None: the order search failed


def app_http(settings: Settings, *, sleep: Callable[[float], None] | None = None) -> TikTokHttp:
    """One pooled HTTP side for the app (TikTokConfigError names missing settings)."""
    secret = settings.tiktok_app_secret.get_secret_value() if settings.tiktok_app_secret else ""
    missing = [
        n for n, v in (("TIKTOK_APP_KEY", settings.tiktok_app_key), ("TIKTOK_APP_SECRET", secret)) if not v
    ]
    if missing:
        raise TikTokConfigError(
            "TikTok Shop API is not configured: set " + ", ".join(missing) + " (environment or .env)"
        )
    return TikTokHttp(
        app_key=str(settings.tiktok_app_key),
        app_secret=secret,
        api_url=settings.tiktok_api_url,
        auth_url=settings.tiktok_auth_url,
        max_connections=WORKERS * 2,
        sleep=sleep or time.sleep,
    )


def seller_client(
    http: TikTokHttp, factory: sessionmaker[Session], vault: TokenVault, seller: SellerCredentials
) -> TikTokClient:
    """A client on this seller's tokens that stores every refreshed pair, encrypted, at once."""

    def save(grant: TokenGrant) -> None:
        with transaction(factory) as session:
            tiktok_sellers.save_refreshed_tokens(
                session,
                vault,
                seller.seller_id,
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                access_expires_at=grant.access_expires_at,
                refresh_expires_at=grant.refresh_expires_at,
                seller_name=grant.seller_name,
                now=dt.datetime.now(dt.UTC),
            )

    return TikTokClient(
        http=http,
        access_token=seller.access_token,
        refresh_token=seller.refresh_token,
        access_token_expires_at=seller.access_expires_at,
        refresh_margin=REFRESH_AHEAD.total_seconds(),
        on_tokens=save,
    )


def sync_sellers(
    settings: Settings, factory: sessionmaker[Session], http: TikTokHttp, *, today: dt.date
) -> TikTokSyncResult:
    """Walk every connected seller; raises VaultError when tokens cannot be decrypted or stored."""
    result = TikTokSyncResult()
    vault = vault_from_settings(settings)
    now = dt.datetime.now(dt.UTC)
    with transaction(factory) as session:
        result.migrated_single_token = tiktok_sellers.migrate_single_token(session, vault, settings, now)
    with factory() as session:
        sellers = tiktok_sellers.credentials(session, vault)
    result.sellers = len(sellers)
    if not sellers:
        return result
    clients = {s.seller_id: seller_client(http, factory, vault, s) for s in sellers}
    names = {s.seller_id: s.seller_name for s in sellers}
    failures: dict[int, str] = {}

    def list_shops(seller_id: int) -> tuple[int, list[ListedShop] | None]:
        try:
            shops = clients[seller_id].authorized_shops()
        except TikTokError as exc:
            failures[seller_id] = str(exc)
            return seller_id, None
        return seller_id, [ListedShop(s.shop_id, s.code, s.name, s.region, s.cipher) for s in shops]

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="tiktok-sync") as pool:
        answers = {sid: shops for sid, shops in pool.map(list_shops, clients) if shops is not None}
        with transaction(factory) as session:
            result.shops_authorized, result.shops_deauthorized = tiktok_sellers.apply_listed_shops(
                session, answers, now, settings
            )
            listed = {shop.shop_id for shops in answers.values() for shop in shops}
            links = [
                (link.shop_id, link.seller_id, link.cipher, link.orders_synced_at)
                for link in session.scalars(select(TikTokShopLink).where(TikTokShopLink.shop_id.in_(listed)))
            ]

        def pull(link: tuple[str, int, str, dt.datetime | None]) -> _ShopPull:
            shop_id, seller_id, cipher, synced_at = link
            client, pulled = clients[seller_id], _ShopPull(shop_id)
            since = aware(synced_at) - ORDERS_OVERLAP if synced_at else now - FIRST_ORDERS_WINDOW
            try:
                pulled.gmv = client.shop_gmv_last_7_days(cipher, today=today)
                pulled.orders = client.orders_updated_since(cipher, since)
            except TikTokError as exc:
                failures.setdefault(seller_id, str(exc))
            return pulled

        pulls = list(pool.map(pull, links))
    with transaction(factory) as session:
        _write_pulls(session, pulls, now, result)
        dispatch.settle_deadlines(session, settings.healthbot_timezone)
        for seller_id in clients:
            if seller_id in failures:
                tiktok_sellers.record_failure(session, seller_id, failures[seller_id], now)
            else:
                tiktok_sellers.record_synced(session, seller_id, now)
        data_changed(session, settings)
    result.failed_sellers = {names[sid]: error for sid, error in failures.items()}
    return result


def _write_pulls(
    session: Session, pulls: list[_ShopPull], now: dt.datetime, result: TikTokSyncResult
) -> None:
    days: set[dt.date] = set()  # whose GMV changed: the portfolio's stored days follow
    for pulled in pulls:
        if pulled.gmv is not None:
            # GMV updates the newest snapshot in place: a new day's row without scores would hide them.
            health = session.get(ShopHealth, pulled.shop_id)
            if health is not None and health.as_of is not None:
                updated = session.execute(
                    update(MetricSnapshot)
                    .where(MetricSnapshot.shop_id == pulled.shop_id, MetricSnapshot.date == health.as_of)
                    .values(gmv_7d=pulled.gmv)
                )
                if updated.rowcount:  # type: ignore[attr-defined]  # none: no scores that day to attach it to
                    health.gmv_7d = pulled.gmv
                    result.gmv_updated += 1
                    days.add(health.as_of)
        if pulled.orders is not None:
            dispatch.save_orders(session, pulled.shop_id, pulled.orders, source="api")
            result.orders += len(pulled.orders)
            session.execute(
                update(TikTokShopLink)
                .where(TikTokShopLink.shop_id == pulled.shop_id)
                .values(orders_synced_at=now)
            )
    portfolio_trend.store_days(session, days)  # GMV at risk of the day (the day after compares scores only)
