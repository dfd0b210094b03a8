"""Tests for the TikTok Shop Open API client, against the fake TikTok server over real HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.ingest.tiktok.client import AuthorizedShop, TikTokClient
from bot.ingest.tiktok.errors import TikTokApiError, TikTokAuthError, TikTokConfigError, TikTokUnavailable
from bot.ingest.tiktok.signing import sign_request
from bot.ingest.tiktok.tokens import TokenGrant
from bot.ingest.tiktok.webhook import SELLER_DEAUTHORIZATION, parse_webhook, verify_webhook
from bot.settings import Settings
from tests.support.tiktok import SHOPS_PATH, FakeTikTok, expected_sign, webhook_signature

GMV_PATH = "/analytics/202405/shop/performance"
REFRESH_PATH = "/auth/api/v2/token/refresh"


class Sleeps(list[float]):
    """Injected `sleep`: records the delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_client(fake: FakeTikTok, sleeps: Sleeps | None = None, **overrides: Any) -> TikTokClient:
    options: dict[str, Any] = {
        "app_key": fake.app_key,
        "app_secret": fake.app_secret,
        "api_url": fake.api_url,
        "auth_url": fake.auth_url,
        "access_token": fake.access_token,
        "refresh_token": fake.refresh_token,
        "sleep": sleeps if sleeps is not None else Sleeps(),
    }
    options.update(overrides)
    return TikTokClient(**options)


def shop(n: int) -> dict[str, str]:
    return {
        "id": f"74940000{n}",
        "name": f"Shop {n}",
        "region": "US",
        "seller_type": "LOCAL",
        "cipher": f"cipher-{n}",
        "code": f"USLC{n}",
    }


# --------------------------------------------------------------------------- signing


def test_sign_request_matches_hand_computed_example() -> None:
    # String to sign, by hand (sign and access_token excluded, keys sorted, no body):
    # "s3cr3t" + "/authorization/202309/shops" + "app_keyabc123page_size2timestamp1700000000" + "s3cr3t"
    params = {
        "timestamp": "1700000000",
        "sign": "ignored",
        "page_size": "2",
        "access_token": "ignored",
        "app_key": "abc123",
    }
    signature = sign_request("/authorization/202309/shops", params, b"", "s3cr3t")
    assert signature == "a52e311c6e8811b4bff558381e4384da233e13fb05189140729f87957c6fd1fe"
    text = "s3cr3t/authorization/202309/shopsapp_keyabc123page_size2timestamp1700000000s3cr3t"
    assert signature == hmac.new(b"s3cr3t", text.encode(), hashlib.sha256).hexdigest()


def test_sign_request_appends_the_exact_json_body() -> None:
    params = {"timestamp": "1", "shop_cipher": "C", "app_key": "k"}
    signature = sign_request("/product/202309/products/search", params, b'{"a":1}', "s3cr3t")
    # "s3cr3t/product/202309/products/searchapp_keykshop_cipherCtimestamp1{"a":1}s3cr3t"
    assert signature == "45ca9624aeca80cc33efc3006c60469e9fc1d4067a5f831f214c7451cb281505"
    assert sign_request("/product/202309/products/search", params, b'{"a": 1}', "s3cr3t") != signature


def test_client_requests_are_signed_and_accepted(fake: FakeTikTok) -> None:
    fake.shops = [shop(1)]
    with make_client(fake, clock=lambda: 1_700_000_000.7) as client:
        shops = client.authorized_shops()
    assert shops == [AuthorizedShop("749400001", "USLC1", "Shop 1", "US", "cipher-1", "LOCAL")]
    (request,) = fake.requests
    assert request.path == SHOPS_PATH
    assert request.params["app_key"] == fake.app_key
    assert request.params["timestamp"] == "1700000000"
    assert request.params["sign"] == expected_sign(SHOPS_PATH, request.params, b"", fake.app_secret)
    assert request.headers["x-tts-access-token"] == fake.access_token
    assert request.headers["content-type"] == "application/json"


def test_fake_rejects_a_tampered_signature(fake: FakeTikTok) -> None:
    params = {"app_key": fake.app_key, "timestamp": str(int(time.time())), "page_size": "10"}
    params["sign"] = sign_request(SHOPS_PATH, params, b"", fake.app_secret)
    headers = {"x-tts-access-token": fake.access_token, "content-type": "application/json"}
    with httpx.Client(base_url=fake.api_url) as http:
        assert http.get(SHOPS_PATH, params=params, headers=headers).json()["code"] == 0
        flipped = {**params, "sign": ("0" if params["sign"][0] != "0" else "1") + params["sign"][1:]}
        answer = http.get(SHOPS_PATH, params=flipped, headers=headers).json()
        assert (answer["code"], answer["message"]) == (106001, "invalid sign")
        altered = {**params, "page_size": "11"}  # parameter changed after signing
        assert http.get(SHOPS_PATH, params=altered, headers=headers).json()["code"] == 106001


def test_wrong_app_secret_is_an_api_error(fake: FakeTikTok) -> None:
    with make_client(fake, app_secret="not-the-secret") as client, pytest.raises(TikTokApiError) as info:
        client.authorized_shops()
    assert info.value.code == 106001
    assert info.value.request_id
    assert "invalid sign" in str(info.value)
    assert "not-the-secret" not in str(info.value)


# --------------------------------------------------------------------------- endpoints


def test_authorized_shops_follows_three_pages(fake: FakeTikTok) -> None:
    fake.shops = [shop(n) for n in range(1, 6)]
    with make_client(fake) as client:
        shops = client.authorized_shops(page_size=2)
    assert [s.shop_id for s in shops] == [f"74940000{n}" for n in range(1, 6)]
    assert [s.cipher for s in shops] == [f"cipher-{n}" for n in range(1, 6)]
    pages = fake.api_requests(SHOPS_PATH)
    assert len(pages) == 3
    assert [r.params["page_size"] for r in pages] == ["2", "2", "2"]
    assert "page_token" not in pages[0].params
    assert pages[1].params["page_token"] and pages[2].params["page_token"] != pages[1].params["page_token"]


def test_shop_gmv_last_7_days(fake: FakeTikTok) -> None:
    fake.gmv = {"cipher-1": "1234.50"}
    with make_client(fake) as client:
        assert client.shop_gmv_last_7_days("cipher-1", today=dt.date(2026, 11, 24)) == 1234.5
        assert client.shop_gmv_last_7_days("cipher-2", today=dt.date(2026, 11, 24)) is None
    params = fake.api_requests(GMV_PATH)[0].params
    assert params["shop_cipher"] == "cipher-1"
    assert params["start_date_ge"] == "2026-11-17"
    assert params["end_date_lt"] == "2026-11-24"
    assert params["granularity"] == "ALL"
    assert params["currency"] == "USD"


# --------------------------------------------------------------------------- token refresh


def test_refreshes_before_a_call_when_the_token_expires_within_5_minutes(fake: FakeTikTok) -> None:
    now = time.time()
    saved: list[TokenGrant] = []
    old_refresh = fake.refresh_token
    client = make_client(
        fake,
        clock=lambda: now,
        access_token_expires_at=dt.datetime.fromtimestamp(now + 200, dt.UTC),
        on_tokens=saved.append,
    )
    with client:
        client.authorized_shops()
        client.authorized_shops()
    assert [r.path for r in fake.requests] == [REFRESH_PATH, SHOPS_PATH, SHOPS_PATH]
    refresh = fake.requests[0].params
    assert refresh["grant_type"] == "refresh_token"
    assert refresh["refresh_token"] == old_refresh
    assert refresh["app_key"] == fake.app_key
    assert fake.refresh_count == 1
    (grant,) = saved
    access, refresh_token, expires = grant.access_token, grant.refresh_token, grant.access_expires_at
    assert (access, refresh_token) == (fake.access_token, fake.refresh_token)
    assert (grant.open_id, grant.seller_name) == ("fake-open-id", "Fake Partner")
    assert access not in repr(grant) and refresh_token not in repr(grant)
    assert expires is not None and expires.timestamp() > now + 24 * 3600
    assert client.access_token_expires_at == expires
    assert fake.requests[1].headers["x-tts-access-token"] == fake.access_token


def test_no_refresh_while_the_token_is_fresh(fake: FakeTikTok) -> None:
    now = time.time()
    expires = dt.datetime.fromtimestamp(now + 3600, dt.UTC)
    with make_client(fake, clock=lambda: now, access_token_expires_at=expires) as client:
        client.authorized_shops()
    assert [r.path for r in fake.requests] == [SHOPS_PATH]


def test_expired_token_code_triggers_one_refresh_and_retry(
    fake: FakeTikTok, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = (fake.app_secret, fake.access_token, fake.refresh_token)
    fake.shops = [shop(1)]
    fake.expire_access_token()
    with make_client(fake) as client:
        assert [s.shop_id for s in client.authorized_shops()] == ["749400001"]
    assert [r.path for r in fake.requests] == [SHOPS_PATH, REFRESH_PATH, SHOPS_PATH]
    assert fake.requests[2].headers["x-tts-access-token"] == fake.access_token != secrets[1]
    # httpx logs the refresh URL (which carries app_secret and refresh_token): redacted.
    assert "token/refresh" in caplog.text
    for secret in (*secrets, fake.access_token, fake.refresh_token):
        assert secret not in caplog.text


def test_still_expired_after_refresh_is_an_auth_error() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/token/refresh"):
            data = {"access_token": "new-access", "refresh_token": "new-refresh", "access_token_expire_in": 0}
            return httpx.Response(200, json={"code": 0, "message": "success", "data": data})
        return httpx.Response(401, json={"code": 105002, "message": "expired", "request_id": "r"})

    client = TikTokClient(
        app_key="k",
        app_secret="secret-x",
        api_url="https://api.example",
        auth_url="https://auth.example",
        access_token="access-x",
        refresh_token="refresh-x",
        transport=httpx.MockTransport(handler),
        sleep=Sleeps(),
    )
    with client, pytest.raises(TikTokAuthError) as info:
        client.authorized_shops()
    assert info.value.code == 105002
    assert calls == [SHOPS_PATH, "/api/v2/token/refresh", SHOPS_PATH]


def test_refused_refresh_is_an_auth_error_without_secrets(
    fake: FakeTikTok, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.expire_access_token()
    with (
        make_client(fake, refresh_token="stale-refresh-token") as client,
        pytest.raises(TikTokAuthError) as info,
    ):
        client.authorized_shops()
    assert "refresh" in str(info.value) and "re-authorize" in str(info.value)
    for secret in (fake.app_secret, "stale-refresh-token", fake.access_token):
        assert secret not in str(info.value)
        assert secret not in caplog.text
    assert "[redacted]" in caplog.text


# --------------------------------------------------------------------------- retries


@pytest.mark.parametrize(
    ("inject", "expected_sleeps"),
    [
        (lambda f: f.throttle_next(2, retry_after=3), [3.0, 3.0]),
        (lambda f: f.throttle_next(2, retry_after=None), [0.5, 1.0]),
        (lambda f: f.rate_code_next(3), [0.5, 1.0, 2.0]),
        (lambda f: f.fail_next(2, status=503), [0.5, 1.0]),
        (lambda f: f.fail_next(1, status=500), [0.5]),
    ],
    ids=["429-retry-after", "429-backoff", "code-36009002", "503", "500"],
)
def test_retries_with_backoff_then_succeeds(
    fake: FakeTikTok, sleeps: Sleeps, inject: Any, expected_sleeps: list[float]
) -> None:
    fake.shops = [shop(1)]
    inject(fake)
    with make_client(fake, sleeps) as client:
        assert len(client.authorized_shops()) == 1
    assert sleeps == expected_sleeps
    assert len(fake.requests) == len(expected_sleeps) + 1
    # every attempt is freshly signed
    for request in fake.requests:
        assert request.params["sign"] == expected_sign(SHOPS_PATH, request.params, b"", fake.app_secret)


def test_gives_up_after_max_retries(fake: FakeTikTok, sleeps: Sleeps) -> None:
    fake.fail_next(10, status=503)
    with make_client(fake, sleeps, max_retries=3) as client, pytest.raises(TikTokUnavailable) as info:
        client.authorized_shops()
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(fake.requests) == 4
    assert SHOPS_PATH in str(info.value)
    assert "HTTP 503" in str(info.value)
    assert info.value.attempts == 4


def test_connection_refused_is_unavailable_after_retries(sleeps: Sleeps) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    client = TikTokClient(
        app_key="k",
        app_secret="secret-x",
        api_url=url,
        auth_url=url,
        access_token="access-x",
        refresh_token="refresh-x",
        max_retries=2,
        sleep=sleeps,
    )
    with client, pytest.raises(TikTokUnavailable) as info:
        client.authorized_shops()
    assert sleeps == [0.5, 1.0]
    assert "ConnectError" in str(info.value)
    assert "secret-x" not in str(info.value) and "access-x" not in str(info.value)


def test_timeouts_are_retried(sleeps: Sleeps) -> None:
    attempts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json={"code": 0, "message": "Success", "data": {"shops": []}})

    client = TikTokClient(
        app_key="k",
        app_secret="s",
        api_url="https://api.example",
        auth_url="https://auth.example",
        access_token="a",
        refresh_token="r",
        transport=httpx.MockTransport(handler),
        sleep=sleeps,
    )
    with client:
        assert client.authorized_shops() == []
    assert sleeps == [0.5]


# --------------------------------------------------------------------------- auth errors & secrets


def test_invalid_access_token_is_an_auth_error(fake: FakeTikTok) -> None:
    with make_client(fake, access_token="revoked-token") as client, pytest.raises(TikTokAuthError) as info:
        client.authorized_shops()
    assert info.value.code == 105001
    assert str(info.value) == (
        "TikTok rejected the seller's access token (code 105001): re-authorize the app"
    )
    assert fake.refresh_count == 0


def test_secrets_never_reach_messages_reprs_or_logs(
    fake: FakeTikTok, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad_token = "wrong-access-token-zz9"
    client = make_client(fake, sleeps, access_token=bad_token, max_retries=2)
    secrets = (fake.app_secret, bad_token, fake.refresh_token)
    errors: list[BaseException] = []
    with client:
        with pytest.raises(TikTokAuthError) as auth:
            client.authorized_shops()
        errors.append(auth.value)
        fake.fail_next(5, status=500)
        with pytest.raises(TikTokUnavailable) as unavailable:
            client.shop_gmv_last_7_days("cipher-1", today=dt.date(2026, 11, 24))
        errors.append(unavailable.value)
    assert "HTTP 500" in str(unavailable.value) and GMV_PATH in str(unavailable.value)
    for secret in secrets:
        assert secret not in repr(client)
        assert secret not in caplog.text
        for error in errors:
            assert secret not in str(error)
            assert secret not in repr(error)


# --------------------------------------------------------------------------- settings


def test_from_settings_names_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "TIKTOK_ACCESS_TOKEN", "TIKTOK_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None, tiktok_app_key="key", tiktok_app_secret="hidden-secret")
    with pytest.raises(TikTokConfigError) as info:
        TikTokClient.from_settings(settings)
    message = str(info.value)
    assert "TIKTOK_ACCESS_TOKEN" in message and "TIKTOK_REFRESH_TOKEN" in message
    assert "TIKTOK_APP_KEY" not in message and "hidden-secret" not in message


def test_from_settings_builds_a_working_client(fake: FakeTikTok) -> None:
    settings = Settings(
        _env_file=None,
        tiktok_app_key=fake.app_key,
        tiktok_app_secret=fake.app_secret,
        tiktok_api_url=fake.api_url,
        tiktok_auth_url=fake.auth_url,
        tiktok_access_token=fake.access_token,
        tiktok_refresh_token=fake.refresh_token,
    )
    fake.shops = [shop(1)]
    with TikTokClient.from_settings(settings) as client:
        assert len(client.authorized_shops()) == 1
        assert fake.app_secret not in repr(client)


# --------------------------------------------------------------------------- webhooks


def test_verify_webhook() -> None:
    body = b'{"type":6}'
    signature = "90a0c3a6c8641d0b4dbb888aeb9a2e45372ea904b8888d1bc22f419352c0a42a"  # HMAC(sec, "appkey"+body)
    assert webhook_signature(body, "appkey", "sec") == signature
    assert verify_webhook(body, signature, "appkey", "sec")
    assert verify_webhook(body, signature.upper() + "\n", "appkey", "sec")
    assert not verify_webhook(body + b" ", signature, "appkey", "sec")
    assert not verify_webhook(body, signature, "appkey", "other-secret")
    assert not verify_webhook(body, signature, "other-key", "sec")
    assert not verify_webhook(body, "", "appkey", "sec")
    assert not verify_webhook(body, "é" * 64, "appkey", "sec")


def test_parse_seller_deauthorization_webhook() -> None:
    body = json.dumps(
        {
            "type": 6,
            "tts_notification_id": "7327112393057371910",
            "shop_id": 7494049642642441621,
            "timestamp": 1644412885,
            "data": {"eventType": "SELLER_DEAUTHORIZATION", "message": "Seller deauthorized"},
        }
    ).encode()
    event = parse_webhook(body)
    assert event.type == SELLER_DEAUTHORIZATION
    assert event.is_deauthorization and not event.is_authorization_expiring
    assert event.shop_id == "7494049642642441621"
    assert event.timestamp == 1644412885
    assert event.data["eventType"] == "SELLER_DEAUTHORIZATION"


def test_parse_authorization_expiring_webhook_is_informational() -> None:
    body = b'{"type": 7, "shop_id": "1", "timestamp": 1700000000, "data": {"expiration_time": 1700600000}}'
    event = parse_webhook(body)
    assert event.is_authorization_expiring and not event.is_deauthorization


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"shop_id": "1"}', b'{"type": "six"}'])
def test_parse_webhook_rejects_malformed_bodies(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_webhook(body)
