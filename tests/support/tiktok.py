"""A fake TikTok Shop Open API server for tests: a real HTTP server on 127.0.0.1 in a thread.

It checks requests the way TikTok does (app_key, signature recomputed from the raw request,
``x-tts-access-token``), serves the endpoints the bot uses, refreshes tokens, and injects
failures on demand::

    with FakeTikTok() as fake:
        fake.shops = [{"id": "1", "name": "A", "region": "US", "cipher": "c1", "code": "S1"}]
        client = TikTokClient(app_key=fake.app_key, app_secret=fake.app_secret,
                              api_url=fake.api_url, auth_url=fake.auth_url,
                              access_token=fake.access_token, refresh_token=fake.refresh_token)

The API lives at the server root, token refresh under ``/auth`` (``fake.auth_url``).
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
REFRESH_PATH = "/auth/api/v2/token/refresh"


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
class FakeTikTok:
    app_key: str = "fake-app-key"
    app_secret: str = "fake-app-secret-s3cr3t"
    access_token: str = "fake-access-token-0"
    refresh_token: str = "fake-refresh-token-0"
    #: Lifetime of tokens issued by refresh (``access_token_expire_in`` = now + this).
    token_lifetime: int = 7 * 24 * 3600
    shops: list[dict[str, Any]] = field(default_factory=list)
    gmv: dict[str, str] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    refresh_count: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: deque[_Fault] = deque()
        self._expired = False
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

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

    def expire_access_token(self) -> None:
        """The current access token now answers 105002 until a refresh."""
        with self._lock:
            self._expired = True

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

    def _refresh(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if params.get("app_key") != self.app_key or params.get("app_secret") != self.app_secret:
            return 200, self._envelope(36004003, "invalid app_key or app_secret"), {}
        if params.get("grant_type") != "refresh_token":
            return 200, self._envelope(36004005, "invalid grant_type"), {}
        if params.get("refresh_token") != self.refresh_token:
            return 200, self._envelope(36004004, "invalid refresh_token"), {}
        self.refresh_count += 1
        self.access_token = f"fake-access-token-{self.refresh_count}"
        self.refresh_token = f"fake-refresh-token-{self.refresh_count}"
        self._expired = False
        now = int(time.time())
        data = {
            "access_token": self.access_token,
            "access_token_expire_in": now + self.token_lifetime,
            "refresh_token": self.refresh_token,
            "refresh_token_expire_in": now + 10 * self.token_lifetime,
            "open_id": "fake-open-id",
            "seller_name": "Fake Partner",
        }
        return 200, self._envelope(0, "success", data), {}

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
        if token != self.access_token:
            return 401, self._envelope(105001, "invalid access token"), {}
        if self._expired:
            return 401, self._envelope(105002, "access token expired"), {}
        if path == SHOPS_PATH:
            return self._shops(params)
        if path == SHOP_PERFORMANCE_PATH:
            return self._performance(params)
        return 404, self._envelope(40006, f"unknown path {path}"), {}

    def _shops(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        try:
            page_size = int(params.get("page_size") or 100)
            token = params.get("page_token", "")
            offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        except ValueError:
            return 200, self._envelope(36009004, "invalid page_size or page_token"), {}
        page = self.shops[offset : offset + page_size]
        end = offset + page_size
        next_token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(self.shops) else ""
        data = {"shops": page, "next_page_token": next_token}
        return 200, self._envelope(0, "Success", data), {}

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
