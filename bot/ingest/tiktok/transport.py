"""The HTTP side of the TikTok Shop Open API, shared by every seller: signing, one retry policy
(honouring ``Retry-After``), TikTok's JSON envelope, and errors that never carry a secret.

One `TikTokHttp` holds the app's credentials and a pooled `httpx.Client`; per-seller clients
(`bot.ingest.tiktok.client`) and the token endpoints (`bot.ingest.tiktok.tokens`) call through it.
The query string of httpx's own request log lines is redacted, since token calls carry the app
secret and refresh tokens there.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from bot.ingest.tiktok.errors import (
    TikTokApiError,
    TikTokAuthError,
    TikTokConfigError,
    TikTokError,
    TikTokUnavailable,
)
from bot.ingest.tiktok.signing import sign_request

logger = logging.getLogger("bot.ingest.tiktok.client")

#: TikTok code for "too many requests" (sent with HTTP 200 or 429).
RATE_LIMIT_CODE = 36009002
#: Longest Retry-After the client will wait for, so a Slack handler never hangs for minutes.
MAX_RETRY_AFTER_SECONDS = 120.0

_SECRET_QUERY_RE = re.compile(
    r"((?:app_secret|access_token|refresh_token|auth_code|code|state|sign)=)[^&\s\"']*"
)


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


class TikTokHttp:
    """Signed, retrying calls to TikTok Shop for one app; safe to share between threads.

    ``max_retries`` is the number of retries after the first attempt; the n-th retry waits
    ``backoff * 2 ** (n - 1)`` seconds, or the server's ``Retry-After`` on HTTP 429. ``clock``
    (unix seconds) and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        api_url: str,
        auth_url: str,
        max_retries: int = 4,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 15.0,
        max_connections: int = 20,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.app_key = app_key
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self._app_secret = app_secret
        self._max_retries = max_retries
        self._backoff = backoff
        self.clock = clock
        self._sleep = sleep
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.Client(
            transport=transport, timeout=httpx.Timeout(timeout, connect=5.0), limits=limits
        )

    def __repr__(self) -> str:
        return f"TikTokHttp(app_key={self.app_key!r}, api_url={self.api_url!r})"

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

    # ----------------------------------------------------------------- calls

    def api_call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        access_token: str,
        json_body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One signed Open API call, retried; returns TikTok's whole envelope (code not checked)."""
        body = b"" if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()

        def build() -> httpx.Request:
            query = {**params, "app_key": self.app_key, "timestamp": str(int(self.clock()))}
            query["sign"] = sign_request(path, query, body, self._app_secret)
            headers = {"x-tts-access-token": access_token, "content-type": "application/json"}
            return self._http.build_request(
                method, self.api_url + path, params=query, headers=headers, content=body or None
            )

        return self.send_with_retries(build, path)

    def auth_call(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        """A call to the token endpoints (app key and secret in the query, as TikTok wants)."""
        query = {"app_key": self.app_key, "app_secret": self._app_secret, **params}
        return self.send_with_retries(
            lambda: self._http.build_request("GET", self.auth_url + path, params=query), path
        )

    def send_with_retries(self, build: Callable[[], httpx.Request], path: str) -> dict[str, Any]:
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
                    if code_of(payload) != RATE_LIMIT_CODE:
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
        logger.error("TikTok %s: giving up after try %d; last status %s", path, attempts, last_status)
        raise TikTokUnavailable(path, last_status, attempts)

    def redact(self, text: str, *secrets: str) -> str:
        for secret in (self._app_secret, *secrets):
            if secret:
                text = text.replace(secret, "[redacted]")
        return text

    def error_for(self, code: int, payload: Mapping[str, Any], secrets: Iterable[str] = ()) -> TikTokError:
        """The error for a non-zero envelope: 105xxx is the seller's credentials, the rest an API error."""
        if str(code).startswith("105"):
            return TikTokAuthError(
                code, f"TikTok rejected the seller's access token (code {code}): re-authorize the app"
            )
        message = self.redact(str(payload.get("message") or "no message"), *secrets)
        request_id = payload.get("request_id")
        return TikTokApiError(code, message, str(request_id) if request_id else None)


def code_of(payload: Mapping[str, Any]) -> int:
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
