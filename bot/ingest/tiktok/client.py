"""One seller's client for the TikTok Shop Open API (versioned API, 202309 and later).

Access tokens are per seller. A `TikTokClient` carries one seller's tokens and lists that seller's
authorized shops, reads each shop's recent GMV, and searches its orders. It refreshes the tokens
before they expire (or when TikTok says they have) and hands every new pair to ``on_tokens`` so
the caller can store them. Signing, retries and error mapping are in `transport`; the token
endpoints in `tokens`.

Secrets (the app secret, the access and refresh tokens) never appear in log lines, reprs or
exception messages: errors name the API path and the HTTP status or TikTok code only.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from bot.ingest.tiktok import tokens
from bot.ingest.tiktok.errors import TikTokApiError, TikTokConfigError
from bot.ingest.tiktok.orders import ORDER_PAGE_SIZE, ORDER_SEARCH_PATH, parse_order
from bot.ingest.tiktok.tokens import TokenGrant
from bot.ingest.tiktok.transport import TikTokHttp, code_of
from bot.services.records import OrderFacts

if TYPE_CHECKING:
    from bot.settings import Settings

logger = logging.getLogger(__name__)

SHOPS_PATH = "/authorization/202309/shops"
SHOP_PERFORMANCE_PATH = "/analytics/202405/shop/performance"

#: TikTok code for an expired access token; answered with one refresh and a retry.
TOKEN_EXPIRED_CODE = 105002
#: Refresh the access token when it expires within this many seconds.
REFRESH_MARGIN_SECONDS = 5 * 60


@dataclass(frozen=True)
class AuthorizedShop:
    """A shop that authorized the partner's app. ``cipher`` goes into shop-scoped calls."""

    shop_id: str
    code: str
    name: str
    region: str
    cipher: str
    seller_type: str = ""


TokensCallback = Callable[[TokenGrant], None]


class TikTokClient:
    """Signed, retrying, self-refreshing client for one seller's tokens.

    Give it a shared ``http`` (one `TikTokHttp` per app, pooled connections) or the app's
    credentials, from which it makes its own. ``on_tokens(grant)`` is called after every refresh
    so the caller can persist the new tokens (a failing callback is logged, not raised: the new
    tokens stay in use). Safe to share between threads; close it when done.
    """

    def __init__(
        self,
        *,
        access_token: str,
        refresh_token: str,
        http: TikTokHttp | None = None,
        app_key: str = "",
        app_secret: str = "",
        api_url: str = "",
        auth_url: str = "",
        access_token_expires_at: dt.datetime | None = None,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
        max_retries: int = 4,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        on_tokens: TokensCallback | None = None,
        timeout: float = 15.0,
    ) -> None:
        self._owns_http = http is None
        self.http = http or TikTokHttp(
            app_key=app_key,
            app_secret=app_secret,
            api_url=api_url,
            auth_url=auth_url,
            max_retries=max_retries,
            backoff=backoff,
            clock=clock,
            sleep=sleep,
            transport=transport,
            timeout=timeout,
        )
        self._access_token = access_token
        self._refresh_token = refresh_token
        self._expires_at = _as_utc(access_token_expires_at)
        self._refresh_margin = refresh_margin
        self._on_tokens = on_tokens
        self._refresh_lock = threading.Lock()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        access_token_expires_at: dt.datetime | None = None,
        on_tokens: TokensCallback | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Self:
        """A client for the single token in settings (before per-seller authorization); the
        error names what is missing."""

        def secret(value: Any) -> str:
            return "" if value is None else str(value.get_secret_value())

        values = {
            "TIKTOK_APP_KEY": settings.tiktok_app_key or "",
            "TIKTOK_APP_SECRET": secret(settings.tiktok_app_secret),
            "TIKTOK_ACCESS_TOKEN": secret(settings.tiktok_access_token),
            "TIKTOK_REFRESH_TOKEN": secret(settings.tiktok_refresh_token),
        }
        missing = [name for name, value in values.items() if not value.strip()]
        if missing:
            raise TikTokConfigError(
                "TikTok Shop API is not configured: set " + ", ".join(missing) + " (environment or .env)"
            )
        return cls(
            app_key=values["TIKTOK_APP_KEY"],
            app_secret=values["TIKTOK_APP_SECRET"],
            api_url=settings.tiktok_api_url,
            auth_url=settings.tiktok_auth_url,
            access_token=values["TIKTOK_ACCESS_TOKEN"],
            refresh_token=values["TIKTOK_REFRESH_TOKEN"],
            access_token_expires_at=access_token_expires_at,
            on_tokens=on_tokens,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"TikTokClient(app_key={self.http.app_key!r}, api_url={self.http.api_url!r})"

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def access_token_expires_at(self) -> dt.datetime | None:
        """When the current access token expires (UTC), if known."""
        return self._expires_at

    # ----------------------------------------------------------------- endpoints

    def authorized_shops(self, *, page_size: int = 100) -> list[AuthorizedShop]:
        """Every shop this seller authorized the app for (follows ``next_page_token``)."""
        shops = []
        for item in self._paginate("GET", SHOPS_PATH, {}, "shops", page_size):
            try:
                shops.append(
                    AuthorizedShop(
                        shop_id=str(item["id"]),
                        code=str(item.get("code") or ""),
                        name=str(item.get("name") or ""),
                        region=str(item.get("region") or ""),
                        cipher=str(item["cipher"]),
                        seller_type=str(item.get("seller_type") or ""),
                    )
                )
            except (KeyError, TypeError) as exc:
                raise TikTokApiError(-1, f"{SHOPS_PATH} returned a shop without id/cipher") from exc
        return shops

    def shop_gmv_last_7_days(self, shop_cipher: str, *, today: dt.date) -> float | None:
        """The shop's GMV in USD over the 7 days before ``today``; None when TikTok has no data."""
        params = {
            "shop_cipher": shop_cipher,
            "start_date_ge": (today - dt.timedelta(days=7)).isoformat(),
            "end_date_lt": today.isoformat(),
            "granularity": "ALL",
            "currency": "USD",
        }
        data = self._call("GET", SHOP_PERFORMANCE_PATH, params)
        performance = data.get("performance")
        intervals = performance.get("intervals") if isinstance(performance, dict) else None
        if not intervals:
            return None
        first = intervals[0] if isinstance(intervals, list) else None
        gmv = first.get("gmv") if isinstance(first, dict) else None
        amount = gmv.get("amount") if isinstance(gmv, dict) else None
        if amount is None or amount == "":
            return None
        try:
            return float(amount)
        except (TypeError, ValueError) as exc:
            raise TikTokApiError(-1, f"{SHOP_PERFORMANCE_PATH} returned a non-numeric GMV amount") from exc

    def orders_updated_since(
        self, shop_cipher: str, since: dt.datetime, *, page_size: int = ORDER_PAGE_SIZE
    ) -> list[OrderFacts]:
        """The shop's orders changed at or after ``since`` (every status), oldest first."""
        params = {"shop_cipher": shop_cipher, "sort_field": "create_time", "sort_order": "ASC"}
        body = {"update_time_ge": int(since.timestamp())}
        return [
            parse_order(item)
            for item in self._paginate("POST", ORDER_SEARCH_PATH, params, "orders", page_size, body)
        ]

    def refresh_tokens(self) -> None:
        """Exchange the refresh token for new tokens now (normally automatic)."""
        self._refresh(stale_token=None)

    # ----------------------------------------------------------------- core

    def _paginate(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        items_key: str,
        page_size: int,
        body: Mapping[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        page_token = ""
        seen: set[str] = set()
        while True:
            query = {**params, "page_size": str(page_size)}
            if page_token:
                query["page_token"] = page_token
            data = self._call(method, path, query, body)
            items = data.get(items_key) or []
            if not isinstance(items, list):
                raise TikTokApiError(-1, f"{path} returned a non-list '{items_key}'")
            for item in items:
                if isinstance(item, dict):
                    yield item
            page_token = str(data.get("next_page_token") or "")
            if not page_token:
                return
            if page_token in seen:
                raise TikTokApiError(-1, f"{path} repeated a next_page_token; stopping")
            seen.add(page_token)

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        json_body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One signed API call: refresh if needed, retry, map errors; returns the ``data`` object."""
        self._refresh_if_expiring()
        refreshed = False
        while True:
            token = self._access_token
            payload = self.http.api_call(method, path, params, token, json_body)
            code = code_of(payload)
            if code == 0:
                data = payload.get("data")
                return data if isinstance(data, dict) else {}
            if code == TOKEN_EXPIRED_CODE and not refreshed:
                logger.info("TikTok says the access token expired (code %s); refreshing", code)
                self._refresh(stale_token=token)
                refreshed = True
                continue
            raise self.http.error_for(code, payload, (self._access_token, self._refresh_token))

    # ----------------------------------------------------------------- tokens

    def _refresh_if_expiring(self) -> None:
        expires_at = self._expires_at
        if expires_at is None:
            return
        if expires_at.timestamp() - self.http.clock() <= self._refresh_margin:
            logger.info("TikTok access token expires at %s; refreshing", expires_at.isoformat())
            self._refresh(stale_token=self._access_token)

    def _refresh(self, stale_token: str | None) -> None:
        """Refresh the tokens; skipped when another thread already replaced ``stale_token``."""
        with self._refresh_lock:
            if stale_token is not None and self._access_token != stale_token:
                return
            grant = tokens.refresh(self.http, self._refresh_token)
            self._access_token = grant.access_token
            self._refresh_token = grant.refresh_token
            self._expires_at = grant.access_expires_at
            # A fresh token is not refreshed ahead again by this client, however short-lived.
            self._refresh_margin = min(self._refresh_margin, REFRESH_MARGIN_SECONDS)
            logger.info(
                "Refreshed a TikTok access token; it now expires at %s",
                self._expires_at.isoformat() if self._expires_at else "an unknown time",
            )
            if self._on_tokens is not None:
                try:
                    self._on_tokens(grant)
                except Exception:
                    logger.exception("Could not persist the refreshed TikTok tokens (kept in memory)")


def _as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
