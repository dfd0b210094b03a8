"""TikTok Shop's token endpoints: an authorization code for a seller's tokens
(``/api/v2/token/get``), and a refresh token for new ones (``/api/v2/token/refresh``).

Access tokens are per seller: the answer names the seller (``open_id``, ``seller_name``), whose
shops `/authorization/202309/shops` then lists. Both endpoints live on ``TIKTOK_AUTH_URL`` and take
the app key and secret in the query string (httpx's log lines of them are redacted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.ingest.tiktok.errors import TikTokAuthError
from bot.ingest.tiktok.transport import TikTokHttp, code_of

TOKEN_GET_PATH = "/api/v2/token/get"
TOKEN_REFRESH_PATH = "/api/v2/token/refresh"


@dataclass(frozen=True)
class TokenGrant:
    """One seller's tokens as TikTok issued them. The tokens never show in a repr."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: dt.datetime | None
    refresh_expires_at: dt.datetime | None
    open_id: str
    seller_name: str
    seller_base_region: str = ""


def exchange_code(http: TikTokHttp, code: str) -> TokenGrant:
    """The seller's tokens for the authorization code TikTok sent to the callback."""
    payload = http.auth_call(TOKEN_GET_PATH, {"auth_code": code, "grant_type": "authorized_code"})
    return _grant(http, payload, "exchange the authorization code", secrets=(code,))


def refresh(http: TikTokHttp, refresh_token: str) -> TokenGrant:
    """New tokens for a seller; TikTok may rotate the refresh token too."""
    payload = http.auth_call(
        TOKEN_REFRESH_PATH, {"refresh_token": refresh_token, "grant_type": "refresh_token"}
    )
    grant = _grant(http, payload, "refresh the seller's access token", secrets=(refresh_token,))
    if not grant.refresh_token:  # an answer without a new refresh token keeps the old one
        return TokenGrant(
            grant.access_token,
            refresh_token,
            grant.access_expires_at,
            grant.refresh_expires_at,
            grant.open_id,
            grant.seller_name,
            grant.seller_base_region,
        )
    return grant


def _grant(http: TikTokHttp, payload: dict[str, Any], what: str, *, secrets: tuple[str, ...]) -> TokenGrant:
    code = code_of(payload)
    data = payload.get("data")
    access = data.get("access_token") if isinstance(data, dict) else None
    if code != 0 or not isinstance(data, dict) or not access:
        message = http.redact(str(payload.get("message") or "no message"), *secrets)[:200]
        raise TikTokAuthError(
            code, f"TikTok refused to {what} (code {code}: {message}): re-authorize the app"
        )
    return TokenGrant(
        access_token=str(access),
        refresh_token=str(data.get("refresh_token") or ""),
        access_expires_at=_moment(data.get("access_token_expire_in")),
        refresh_expires_at=_moment(data.get("refresh_token_expire_in")),
        open_id=str(data.get("open_id") or ""),
        seller_name=str(data.get("seller_name") or ""),
        seller_base_region=str(data.get("seller_base_region") or ""),
    )


def _moment(value: Any) -> dt.datetime | None:
    """TikTok gives expiry as a unix timestamp (``*_expire_in`` despite the name)."""
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None
