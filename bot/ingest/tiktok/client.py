"""Synchronous client for the TikTok Shop Open API (versioned API, 202309 and later).

The bot uses it to list the shops that authorized the partner's app and to read each shop's
recent GMV. It signs every request the way TikTok Shop documents it, refreshes the
access token before it expires (or when TikTok says it has), and retries rate limits, server
errors and network failures with exponential backoff.

Secrets (the app secret, the access and refresh tokens) never appear in log lines, reprs or
exception messages: errors name the API path and the HTTP status or TikTok code only, and the
query string of httpx's own request log lines is redacted.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from bot.ingest.tiktok.errors import (
    TikTokApiError,
    TikTokAuthError,
    TikTokConfigError,
    TikTokError,
    TikTokUnavailable,
)
from bot.ingest.tiktok.signing import sign_request

if TYPE_CHECKING:
    from bot.settings import Settings


logger = logging.getLogger(__name__)

SHOPS_PATH = "/authorization/202309/shops"
SHOP_PERFORMANCE_PATH = "/analytics/202405/shop/performance"
TOKEN_REFRESH_PATH = "/api/v2/token/refresh"

#: TikTok code for "too many requests" (sent with HTTP 200 or 429).
RATE_LIMIT_CODE = 36009002
#: TikTok code for an expired access token; answered with one refresh and a retry.
TOKEN_EXPIRED_CODE = 105002
#: Refresh the access token when it expires within this many seconds.
REFRESH_MARGIN_SECONDS = 5 * 60
#: Longest Retry-After the client will wait for, so a Slack handler never hangs for minutes.
MAX_RETRY_AFTER_SECONDS = 120.0


# --------------------------------------------------------------------------- log redaction

_SECRET_QUERY_RE = re.compile(r"((?:app_secret|access_token|refresh_token|sign)=)[^&\s\"']*")


class _RedactSecretsFilter(logging.Filter):
    """Blank secret query parameters in httpx's 'HTTP Request: GET <url>' log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        redacted = _SECRET_QUERY_RE.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


def _install_log_redaction() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(existing, _RedactSecretsFilter) for existing in httpx_logger.filters):
        httpx_logger.addFilter(_RedactSecretsFilter())


_install_log_redaction()


# --------------------------------------------------------------------------- client


@dataclass(frozen=True)
class AuthorizedShop:
    """A shop that authorized the partner's app. ``cipher`` goes into shop-scoped calls."""

    shop_id: str
    code: str
    name: str
    region: str
    cipher: str
    seller_type: str = ""


TokensCallback = Callable[[str, str, datetime | None], None]


class TikTokClient:
    """Signed, retrying, self-refreshing client for the TikTok Shop Open API.

    ``max_retries`` is the number of retries after the first attempt; the n-th retry waits
    ``backoff * 2 ** (n - 1)`` seconds, or the server's ``Retry-After`` on HTTP 429. ``clock``
    (unix seconds) and ``sleep`` are injectable for tests. ``on_tokens(access, refresh,
    expires_at)`` is called after every token refresh so the caller can persist the new tokens
    (a failing callback is logged, not raised: the new tokens stay in use).

    Safe to share between threads; close it (or use it as a context manager) when done.
    """

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        api_url: str,
        auth_url: str,
        access_token: str,
        refresh_token: str,
        access_token_expires_at: datetime | None = None,
        max_retries: int = 4,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        on_tokens: TokensCallback | None = None,
        timeout: float = 15.0,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.app_key = app_key
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self._app_secret = app_secret
        self._access_token = access_token
        self._refresh_token = refresh_token
        self._expires_at = _as_utc(access_token_expires_at)
        self._max_retries = max_retries
        self._backoff = backoff
        self._clock = clock
        self._sleep = sleep
        self._on_tokens = on_tokens
        self._refresh_lock = threading.Lock()
        self._http = httpx.Client(transport=transport, timeout=httpx.Timeout(timeout, connect=5.0))

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        access_token_expires_at: datetime | None = None,
        on_tokens: TokensCallback | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Self:
        """Build a client from `bot.settings.Settings`; TikTokConfigError names what is missing."""

        def secret(value: Any) -> str:
            return "" if value is None else str(value.get_secret_value())

        app_key = settings.tiktok_app_key or ""
        values = {
            "TIKTOK_APP_KEY": app_key,
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
            app_key=app_key,
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
        return f"TikTokClient(app_key={self.app_key!r}, api_url={self.api_url!r})"

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        self._http.close()

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
    def access_token_expires_at(self) -> datetime | None:
        """When the current access token expires (UTC), if known."""
        return self._expires_at

    # ----------------------------------------------------------------- endpoints

    def authorized_shops(self, *, page_size: int = 100) -> list[AuthorizedShop]:
        """Every shop that authorized the app (follows ``next_page_token``)."""
        shops = []
        for item in self._paginate(SHOPS_PATH, {}, "shops", page_size):
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

    def shop_gmv_last_7_days(self, shop_cipher: str, *, today: date) -> float | None:
        """The shop's GMV in USD over the 7 days before ``today``; None when TikTok has no data."""
        params = {
            "shop_cipher": shop_cipher,
            "start_date_ge": (today - timedelta(days=7)).isoformat(),
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

    def refresh_tokens(self) -> None:
        """Exchange the refresh token for new tokens now (normally automatic)."""
        self._refresh(stale_token=None)

    # ----------------------------------------------------------------- core

    def _paginate(
        self, path: str, params: Mapping[str, str], items_key: str, page_size: int
    ) -> Iterator[dict[str, Any]]:
        page_token = ""
        seen: set[str] = set()
        while True:
            query = {**params, "page_size": str(page_size)}
            if page_token:
                query["page_token"] = page_token
            data = self._call("GET", path, query)
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
        body = b"" if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()
        self._refresh_if_expiring()
        refreshed = False
        while True:
            token = self._access_token
            payload = self._send_with_retries(lambda: self._signed_request(method, path, params, body), path)
            code = _code_of(payload)
            if code == 0:
                data = payload.get("data")
                return data if isinstance(data, dict) else {}
            if code == TOKEN_EXPIRED_CODE and not refreshed:
                logger.info("TikTok says the access token expired (code %s); refreshing", code)
                self._refresh(stale_token=token)
                refreshed = True
                continue
            raise self._error_for(code, payload)

    def _signed_request(
        self, method: str, path: str, params: Mapping[str, str], body: bytes
    ) -> httpx.Request:
        query = {**params, "app_key": self.app_key, "timestamp": str(int(self._clock()))}
        query["sign"] = sign_request(path, query, body, self._app_secret)
        headers = {"x-tts-access-token": self._access_token, "content-type": "application/json"}
        return self._http.build_request(
            method, self.api_url + path, params=query, headers=headers, content=body or None
        )

    def _send_with_retries(self, build: Callable[[], httpx.Request], path: str) -> dict[str, Any]:
        """Send (rebuilding, so the timestamp and signature are fresh) until a final answer."""
        last_status = "no response"
        attempts = self._max_retries + 1
        for attempt in range(attempts):
            retry_after: float | None = None
            request = build()
            try:
                response = self._http.send(request)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                last_status = f"{type(exc).__name__} (network error)"
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise TikTokConfigError(
                    f"cannot call TikTok at {request.url.scheme}://{request.url.host}: {type(exc).__name__}"
                ) from None
            else:
                status = response.status_code
                if status == 429:
                    last_status = "HTTP 429 (throttled)"
                    retry_after = _retry_after_seconds(response)
                elif status >= 500:
                    last_status = f"HTTP {status}"
                else:
                    payload = _json_envelope(response, path)
                    if _code_of(payload) != RATE_LIMIT_CODE:
                        return payload
                    last_status = f"code {RATE_LIMIT_CODE} (rate limited)"
            if attempt + 1 >= attempts:
                break
            delay = retry_after if retry_after is not None else self._backoff * (2**attempt)
            logger.warning(
                "TikTok %s: %s; retry %d/%d in %.2fs",
                path,
                last_status,
                attempt + 1,
                self._max_retries,
                delay,
            )
            self._sleep(delay)
        logger.error("TikTok %s: giving up after %d attempt(s); last status %s", path, attempts, last_status)
        raise TikTokUnavailable(path, last_status, attempts)

    def _error_for(self, code: int, payload: Mapping[str, Any]) -> TikTokError:
        if str(code).startswith("105"):
            return TikTokAuthError(
                code, f"TikTok rejected the partner's credentials (code {code}): re-authorize the app"
            )
        message = self._redact(str(payload.get("message") or "no message"))
        request_id = payload.get("request_id")
        return TikTokApiError(code, message, str(request_id) if request_id else None)

    def _redact(self, text: str) -> str:
        for secret in (self._app_secret, self._access_token, self._refresh_token):
            if secret:
                text = text.replace(secret, "[redacted]")
        return text

    # ----------------------------------------------------------------- tokens

    def _refresh_if_expiring(self) -> None:
        expires_at = self._expires_at
        if expires_at is None:
            return
        if expires_at.timestamp() - self._clock() <= REFRESH_MARGIN_SECONDS:
            logger.info("TikTok access token expires at %s; refreshing", expires_at.isoformat())
            self._refresh(stale_token=self._access_token)

    def _refresh(self, stale_token: str | None) -> None:
        """Refresh the tokens; skipped when another thread already replaced ``stale_token``."""
        with self._refresh_lock:
            if stale_token is not None and self._access_token != stale_token:
                return

            def build() -> httpx.Request:
                params = {
                    "app_key": self.app_key,
                    "app_secret": self._app_secret,
                    "refresh_token": self._refresh_token,
                    "grant_type": "refresh_token",
                }
                return self._http.build_request("GET", self.auth_url + TOKEN_REFRESH_PATH, params=params)

            payload = self._send_with_retries(build, TOKEN_REFRESH_PATH)
            code = _code_of(payload)
            data = payload.get("data")
            access = data.get("access_token") if isinstance(data, dict) else None
            if code != 0 or not isinstance(data, dict) or not access:
                raise TikTokAuthError(
                    code,
                    f"TikTok refused to refresh the partner's access token (code {code}): "
                    "re-authorize the app",
                )
            self._access_token = str(access)
            self._refresh_token = str(data.get("refresh_token") or self._refresh_token)
            expire_in = data.get("access_token_expire_in")
            try:
                self._expires_at = datetime.fromtimestamp(int(expire_in), UTC) if expire_in else None
            except (TypeError, ValueError, OverflowError, OSError):
                self._expires_at = None
            logger.info(
                "Refreshed the TikTok access token; it now expires at %s",
                self._expires_at.isoformat() if self._expires_at else "an unknown time",
            )
            if self._on_tokens is not None:
                try:
                    self._on_tokens(self._access_token, self._refresh_token, self._expires_at)
                except Exception:
                    logger.exception("Could not persist the refreshed TikTok tokens (kept in memory)")


# --------------------------------------------------------------------------- helpers


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _code_of(payload: Mapping[str, Any]) -> int:
    try:
        return int(payload.get("code", -1))
    except (TypeError, ValueError):
        return -1


def _json_envelope(response: httpx.Response, path: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or "code" not in payload:
        request_id = response.headers.get("x-tt-logid")
        raise TikTokApiError(
            -1, f"HTTP {response.status_code} from {path} without TikTok's JSON envelope", request_id
        )
    return payload


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: fall back to exponential backoff
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
