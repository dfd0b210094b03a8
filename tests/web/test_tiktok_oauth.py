"""Sellers authorize the partner's app: `GET /tiktok/oauth/callback` over real HTTP, the signed,
short-lived, single-use state, and a sync that keeps every seller's shops (and the CSV's) right."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Shop, TikTokSeller
from bot.ingest.formats import Kind
from bot.ingest.tiktok.connect import new_authorization_link
from bot.ingest.tiktok.oauth import StateError, issue_state, read_state
from bot.playground.fakeslack import FakeSlack
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.routes import create_web_app
from bot.web.server import LocalServer
from jobs.sync import run_sync
from tests.support.data import load, shop
from tests.support.slack import configure
from tests.support.tiktok import FakeTikTok
from tests.support.tiktok_app import quick_http, state_of, tiktok_settings

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def listed(n: int) -> dict[str, str]:
    return {
        "id": f"70{n}",
        "code": f"TK{n}",
        "name": f"Seller Shop {n}",
        "region": "US",
        "cipher": f"cipher-{n}",
    }


@pytest.fixture
def fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as server:
        server.shops = [listed(1), listed(2)]
        yield server


@pytest.fixture
def api(settings: Settings, fake: FakeTikTok, slack: FakeSlack) -> Settings:
    return tiktok_settings(configure(settings, slack), fake)


@contextlib.contextmanager
def serving(factory: sessionmaker[Session], settings: Settings) -> Iterator[str]:
    """The app's web routes on a real local HTTP server; yields the callback's URL."""
    app = create_app(settings, factory=factory)
    try:
        with LocalServer(create_web_app(app, app.deps)) as server:
            yield f"{server.url}/tiktok/oauth/callback"
    finally:
        app.deps.later.shutdown()


def authorize(url: str, code: str, state: str) -> httpx.Response:
    return httpx.get(url, params={"code": code, "state": state})


def shops(factory: sessionmaker[Session]) -> dict[str, bool]:
    with factory() as session:
        return {s.shop_id: s.authorized for s in session.scalars(select(Shop))}


def test_two_sellers_authorize_and_a_sync_keeps_every_shop_right(
    factory: sessionmaker[Session], api: Settings, fake: FakeTikTok
) -> None:
    # The CSV knows a third seller's shop (authorized in Partner Center) that no token lists.
    load(
        factory,
        Kind.SHOPS,
        [shop("CSV1", "CSVSHOP", "CSV Only Shop"), shop("CSV2", "CSVNO", authorized="false")],
    )
    second = fake.add_seller("Second Seller", [listed(3)])
    with serving(factory, api) as url:
        first_page = authorize(url, fake.seller.auth_code, state_of(new_authorization_link(api)))
        second_page = authorize(url, second.auth_code, state_of(new_authorization_link(api)))
    assert first_page.status_code == 200 and second_page.status_code == 200
    assert first_page.headers["content-type"].startswith("text/html")
    assert "Fake Partner is now connected" in first_page.text and "Seller Shop 2" in first_page.text
    assert "Second Seller is now connected" in second_page.text
    for page in (first_page, second_page):
        for secret in (fake.app_secret, fake.access_token, second.access_token, second.refresh_token):
            assert secret not in page.text
    assert shops(factory) == {"CSV1": True, "CSV2": False, "701": True, "702": True, "703": True}
    with quick_http(api) as http:
        report = run_sync(api, factory, today=NOW.date(), http=http)
        assert report.errors == {}
        assert report.tiktok is not None and report.tiktok.sellers == 2
        # Each seller's token lists only its own shops: neither takes the other's away, nor the CSV's.
        assert shops(factory) == {"CSV1": True, "CSV2": False, "701": True, "702": True, "703": True}
        fake.seller.shops = [listed(1)]  # the first seller withdraws shop 702
        run_sync(api, factory, today=NOW.date(), http=http)
    assert shops(factory) == {"CSV1": True, "CSV2": False, "701": True, "702": False, "703": True}


def test_a_state_is_accepted_once(factory: sessionmaker[Session], api: Settings, fake: FakeTikTok) -> None:
    state = state_of(new_authorization_link(api))
    with serving(factory, api) as url:
        assert authorize(url, fake.seller.auth_code, state).status_code == 200
        again = authorize(url, fake.seller.auth_code, state)
    assert again.status_code == 400 and "already used" in again.text


@pytest.mark.parametrize(
    ("make_state", "reason"),
    [
        (lambda: issue_state("not-the-app-secret", now=dt.datetime.now(dt.UTC)), "not one the bot made"),
        (
            lambda: issue_state(FakeTikTok.app_secret, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)),
            "expired",
        ),
        (lambda: "made-up-state", "not one the bot made"),
        (
            lambda: issue_state(FakeTikTok.app_secret, now=dt.datetime.now(dt.UTC))[:-2] + "xx",
            "not one the bot made",
        ),
    ],
    ids=["forged", "expired", "garbage", "tampered"],
)
def test_a_forged_or_expired_state_is_refused(
    factory: sessionmaker[Session], api: Settings, fake: FakeTikTok, make_state: object, reason: str
) -> None:
    with serving(factory, api) as url:
        page = authorize(url, fake.seller.auth_code, make_state())  # type: ignore[operator]
    assert page.status_code == 400 and reason in page.text and "fresh link" in page.text
    assert fake.api_requests("/auth/api/v2/token/get") == []  # the code was never exchanged
    with factory() as session:
        assert session.scalars(select(TikTokSeller)).all() == []


def test_missing_parameters_and_a_refused_code(
    factory: sessionmaker[Session], api: Settings, fake: FakeTikTok
) -> None:
    with serving(factory, api) as url:
        assert httpx.get(url).status_code == 400
        refused = authorize(url, "not-a-code", state_of(new_authorization_link(api)))
    assert refused.status_code == 502 and "TikTok did not confirm" in refused.text


def test_without_an_encryption_key_nothing_is_stored(
    factory: sessionmaker[Session], api: Settings, fake: FakeTikTok
) -> None:
    keyless = api.model_copy(update={"healthbot_encryption_key": None})
    state = issue_state(FakeTikTok.app_secret, now=dt.datetime.now(dt.UTC))
    with serving(factory, keyless) as url:
        page = authorize(url, fake.seller.auth_code, state)
    assert page.status_code == 503 and "not ready to connect sellers" in page.text
    assert fake.api_requests("/auth/api/v2/token/get") == []


def test_state_round_trip_and_link() -> None:
    state = issue_state("secret", now=NOW, lifetime=dt.timedelta(minutes=30))
    claims = read_state("secret", state, now=NOW + dt.timedelta(minutes=29))
    assert claims.expires_at == NOW + dt.timedelta(minutes=30) and len(claims.nonce) >= 20
    with pytest.raises(StateError, match="expired"):
        read_state("secret", state, now=NOW + dt.timedelta(minutes=30))
    assert issue_state("secret", now=NOW) != issue_state("secret", now=NOW)  # a new nonce each time


def test_the_link_carries_the_service_id_and_a_fresh_state(api: Settings) -> None:
    link = new_authorization_link(api)
    assert link.startswith("https://services.tiktokshops.us/open/authorize?service_id=7001&state=")
    read_state(FakeTikTok.app_secret, state_of(link), now=dt.datetime.now(dt.UTC))
