"""A fake TikTok Shop Open API server for tests: a real HTTP server on 127.0.0.1 in a thread.

It checks requests the way TikTok does (app_key, signature recomputed from the raw request,
``x-tts-access-token``), holds several sellers each with its own tokens and shops, serves the
endpoints the bot uses (shops, GMV, paged order search), issues tokens for an authorization code
and refreshes them, and injects failures on demand (429 with Retry-After, expired tokens)::

    with FakeTikTok() as fake:
        fake.shops = [{"id": "1", "name": "A", "region": "US", "cipher": "c1", "code": "S1"}]
        client = TikTokClient(app_key=fake.app_key, app_secret=fake.app_secret,
                              api_url=fake.api_url, auth_url=fake.auth_url,
                              access_token=fake.access_token, refresh_token=fake.refresh_token)

The API lives at the server root, the token endpoints under ``/auth`` (``fake.auth_url``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SHOPS_PATH = "/authorization/202309/shops"
SHOP_PERFORMANCE_PATH = "/analytics/202405/shop/performance"
ORDER_SEARCH_PATH = "/order/202309/orders/search"
REFRESH_PATH = "/auth/api/v2/token/refresh"
TOKEN_GET_PATH = "/auth/api/v2/token/get"


def expected_sign(path: str, params: dict[str, str], body: bytes, app_secret: str) -> str:
    """TikTok's documented signature, written independently of the client's `sign_request`."""
    keys = sorted(k for k in params if k not in ("sign", "access_token"))
    text = app_secret + path + "".join(k + params[k] for k in keys) + body.decode() + app_secret
    return hmac.new(app_secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def webhook_signature(body: bytes, app_key: str, app_secret: str) -> str:
    """The ``Authorization`` header TikTok would send with this webhook body."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""


@dataclass
class _Fault:
    kind: str  # "throttle" | "rate_code" | "fail"
    status: int = 503
    retry_after: float | None = None


@dataclass
class FakeSeller:
    """One seller who authorized the app: its tokens, its shops, and the code TikTok would send."""

    open_id: str
    name: str
    access_token: str
    refresh_token: str
    auth_code: str
    shops: list[dict[str, Any]] = field(default_factory=list)
    expired: bool = False
    refresh_count: int = 0
    code_used: bool = False
    refusing_refresh: bool = False


class FakeTikTok:
    """Several sellers, each with its own tokens and shops; orders per shop cipher."""

    app_key = "fake-app-key"
    app_secret = "fake-app-secret-s3cr3t"

    def __init__(self, token_lifetime: int = 7 * 24 * 3600) -> None:
        #: Lifetime of tokens issued (``access_token_expire_in`` = now + this).
        self.token_lifetime = token_lifetime
        self.sellers: list[FakeSeller] = [
            FakeSeller(
                "fake-open-id", "Fake Partner", "fake-access-token-0", "fake-refresh-token-0", "fake-code-0"
            )
        ]
        self.gmv: dict[str, str] = {}
        #: Orders per shop cipher, as TikTok's search returns them (``id``, ``status``,
        #: ``create_time``, ``update_time`` and optional ``tts_sla_time``, ``collection_time``).
        self.orders: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._faults: deque[_Fault] = deque()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # the first seller, as the single-token tests knew it
    @property
    def seller(self) -> FakeSeller:
        return self.sellers[0]

    @property
    def access_token(self) -> str:
        return self.seller.access_token

    @property
    def refresh_token(self) -> str:
        return self.seller.refresh_token

    @property
    def refresh_count(self) -> int:
        return sum(s.refresh_count for s in self.sellers)

    @property
    def shops(self) -> list[dict[str, Any]]:
        return self.seller.shops

    @shops.setter
    def shops(self, value: list[dict[str, Any]]) -> None:
        self.seller.shops = value

    def add_seller(self, name: str, shops: list[dict[str, Any]] | None = None) -> FakeSeller:
        """Another seller; its ``auth_code`` is what TikTok sends to the callback when it authorizes."""
        n = len(self.sellers)
        seller = FakeSeller(
            open_id=f"open-{n}",
            name=name,
            access_token=f"access-{n}-0",
            refresh_token=f"refresh-{n}-0",
            auth_code=f"code-{n}",
            shops=list(shops or []),
        )
        with self._lock:
            self.sellers.append(seller)
        return seller

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeTikTok:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-tiktok", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "use FakeTikTok as a context manager"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url

    @property
    def auth_url(self) -> str:
        return self.base_url + "/auth"

    # ------------------------------------------------------------------ controls

    def expire_access_token(self, seller: FakeSeller | None = None) -> None:
        """The seller's current access token now answers 105002 until a refresh."""
        with self._lock:
            (seller or self.seller).expired = True

    def throttle_next(self, times: int, retry_after: float | None = 0) -> None:
        """The next ``times`` requests get HTTP 429 (with ``Retry-After`` unless None)."""
        with self._lock:
            self._faults.extend(_Fault("throttle", 429, retry_after) for _ in range(times))

    def rate_code_next(self, times: int) -> None:
        """The next ``times`` requests get HTTP 200 with code 36009002."""
        with self._lock:
            self._faults.extend(_Fault("rate_code", 200) for _ in range(times))

    def fail_next(self, times: int, status: int = 503) -> None:
        """The next ``times`` requests get ``status`` with a non-JSON body."""
        with self._lock:
            self._faults.extend(_Fault("fail", status) for _ in range(times))

    def api_requests(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    # ------------------------------------------------------------------ serving

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append(RecordedRequest(handler.command, split.path, params, headers, body))
            fault = self._faults.popleft() if self._faults else None
            if fault is not None:
                status, payload, extra = self._fault_response(fault)
            elif split.path == REFRESH_PATH:
                status, payload, extra = self._refresh(params)
            elif split.path == TOKEN_GET_PATH:
                status, payload, extra = self._token_get(params)
            else:
                status, payload, extra = self._api(split.path, params, headers, body)
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html" if isinstance(payload, bytes) else "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(raw)

    def _envelope(self, code: int, message: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"code": code, "message": message, "request_id": f"req-{next(self._ids)}"}
        if data is not None:
            payload["data"] = data
        return payload

    def _fault_response(self, fault: _Fault) -> tuple[int, Any, dict[str, str]]:
        if fault.kind == "throttle":
            extra = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            return 429, self._envelope(36009002, "Too many requests"), extra
        if fault.kind == "rate_code":
            return 200, self._envelope(36009002, "Too many requests"), {}
        return fault.status, b"<html>upstream error</html>", {}

    def _app_checked(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]] | None:
        if params.get("app_key") != self.app_key or params.get("app_secret") != self.app_secret:
            return 200, self._envelope(36004003, "invalid app_key or app_secret"), {}
        return None

    def _grant(self, seller: FakeSeller, tag: str) -> tuple[int, Any, dict[str, str]]:
        seller.access_token = f"{seller.open_id}-access-{tag}"
        seller.refresh_token = f"{seller.open_id}-refresh-{tag}"
        seller.expired = False
        now = int(time.time())
        data = {
            "access_token": seller.access_token,
            "access_token_expire_in": now + self.token_lifetime,
            "refresh_token": seller.refresh_token,
            "refresh_token_expire_in": now + 10 * self.token_lifetime,
            "open_id": seller.open_id,
            "seller_name": seller.name,
            "seller_base_region": "US",
            "granted_scopes": ["seller.authorization.info", "seller.order.info"],
        }
        return 200, self._envelope(0, "success", data), {}

    def _refresh(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        refused = self._app_checked(params)
        if refused:
            return refused
        if params.get("grant_type") != "refresh_token":
            return 200, self._envelope(36004005, "invalid grant_type"), {}
        seller = next((s for s in self.sellers if s.refresh_token == params.get("refresh_token")), None)
        if seller is None or seller.refusing_refresh:
            return 200, self._envelope(36004004, "invalid refresh_token"), {}
        seller.refresh_count += 1
        return self._grant(seller, f"r{seller.refresh_count}")

    def _token_get(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        refused = self._app_checked(params)
        if refused:
            return refused
        if params.get("grant_type") != "authorized_code":
            return 200, self._envelope(36004005, "invalid grant_type"), {}
        seller = next((s for s in self.sellers if s.auth_code == params.get("auth_code")), None)
        if seller is None or seller.code_used:  # codes are single-use, as TikTok's are
            return 200, self._envelope(36004006, "invalid or used auth_code"), {}
        seller.code_used = True
        return self._grant(seller, "g")

    def _api(
        self, path: str, params: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if params.get("app_key") != self.app_key:
            return 200, self._envelope(106002, "invalid app_key"), {}
        if not params.get("timestamp", "").isdigit():
            return 200, self._envelope(106003, "missing or invalid timestamp"), {}
        sign = params.get("sign", "")
        if not hmac.compare_digest(sign, expected_sign(path, params, body, self.app_secret)):
            return 200, self._envelope(106001, "invalid sign"), {}
        token = headers.get("x-tts-access-token", "")
        seller = next((s for s in self.sellers if s.access_token == token), None)
        if seller is None:
            return 401, self._envelope(105001, "invalid access token"), {}
        if seller.expired:
            return 401, self._envelope(105002, "access token expired"), {}
        if path == SHOPS_PATH:
            return self._page(params, "shops", seller.shops)
        cipher = params.get("shop_cipher", "")
        own = cipher in {shop.get("cipher") for shop in seller.shops}
        if cipher and not own and any(shop.get("cipher") == cipher for s in self.sellers for shop in s.shops):
            return 200, self._envelope(36009005, "shop_cipher belongs to another seller"), {}
        if path == SHOP_PERFORMANCE_PATH:
            return self._performance(params)
        if path == ORDER_SEARCH_PATH:
            return self._orders(params, body)
        return 404, self._envelope(40006, f"unknown path {path}"), {}

    def _page(
        self, params: dict[str, str], key: str, items: list[dict[str, Any]]
    ) -> tuple[int, Any, dict[str, str]]:
        try:
            page_size = int(params.get("page_size") or 100)
            token = params.get("page_token", "")
            offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        except ValueError:
            return 200, self._envelope(36009004, "invalid page_size or page_token"), {}
        if not 1 <= page_size <= 100:
            return 200, self._envelope(36009004, "page_size must be 1..100"), {}
        page = items[offset : offset + page_size]
        end = offset + page_size
        next_token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else ""
        data = {key: page, "next_page_token": next_token, "total_count": len(items)}
        return 200, self._envelope(0, "Success", data), {}

    def _orders(self, params: dict[str, str], body: bytes) -> tuple[int, Any, dict[str, str]]:
        try:
            filters = json.loads(body or b"{}")
        except ValueError:
            return 200, self._envelope(36009003, "body is not JSON"), {}
        since = int(filters.get("update_time_ge") or 0)
        status = filters.get("order_status")
        found = [
            o
            for o in self.orders.get(params["shop_cipher"], [])
            if int(o.get("update_time") or o["create_time"]) >= since
            and (status is None or o["status"] == status)
        ]
        found.sort(key=lambda o: int(o["create_time"]))
        return self._page(params, "orders", found)

    def _performance(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        required = ("shop_cipher", "start_date_ge", "end_date_lt", "granularity", "currency")
        if any(not params.get(name) for name in required):
            return 200, self._envelope(36009003, "missing parameter"), {}
        amount = self.gmv.get(params["shop_cipher"])
        intervals = []
        if amount is not None:
            intervals.append(
                {
                    "start_date": params["start_date_ge"],
                    "end_date": params["end_date_lt"],
                    "gmv": {"amount": amount, "currency": params["currency"]},
                    "orders": 1,
                }
            )
        data = {"performance": {"intervals": intervals, "comparison_intervals": []}}
        return 200, self._envelope(0, "Success", data), {}
