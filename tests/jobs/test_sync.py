"""Scheduled sync: the CSV drop folder, the TikTok Shop Open API, its deauthorization webhook, and
`healthbot sync`. TikTok is the fake server in tests/support/tiktok.py over real HTTP."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import cli
from bot.db.models import DataRefresh, MetricSnapshot, Shop, ShopHealth
from bot.ingest.formats import Kind
from bot.playground.fakeslack import FakeSlack
from bot.services.attention import Lens
from bot.services.digest import build_digest
from bot.services.digest_records import Section
from bot.services.health import freshness
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.routes import create_web_app
from bot.web.server import LocalServer
from jobs.sync import FOLDER_SOURCE, TIKTOK_SOURCE, run_sync
from tests.support.data import load, metric, shop
from tests.support.slack import configure
from tests.support.tiktok import SHOP_PERFORMANCE_PATH, SHOPS_PATH, FakeTikTok, webhook_signature
from tests.support.tiktok_app import TEST_ENCRYPTION_KEY, connect_seller, quick_http, tiktok_settings

TODAY = dt.datetime.now(dt.UTC).date()
DAY = TODAY - dt.timedelta(days=1)
BEFORE = DAY - dt.timedelta(days=1)

SHOPS_HEADER = "shop_id,shop_code,shop_name,region,authorized,chr_authorized"
METRICS_HEADER = "date,shop_id,ahr,sps,gmv_7d"


# ---- helpers ----


def seed(factory: sessionmaker[Session]) -> None:
    """Three shops with two data days: 100 and 200 authorized, 300 not."""
    load(
        factory,
        Kind.SHOPS,
        [shop("100", "CA"), shop("200", "CB"), shop("300", "CC", authorized="false")],
    )
    load(
        factory,
        Kind.METRICS,
        [
            metric(shop_id, day, 220, "4.5", gmv)
            for shop_id, gmv in (("100", 1000.0), ("200", 2000.0), ("300", 3000.0))
            for day in (BEFORE, DAY)
        ],
    )


def shops(factory: sessionmaker[Session]) -> dict[str, Shop]:
    with factory() as session:
        return {s.shop_id: s for s in session.scalars(select(Shop))}


def snapshots(factory: sessionmaker[Session]) -> dict[tuple[str, dt.date], tuple[int | None, float | None]]:
    with factory() as session:
        return {(m.shop_id, m.date): (m.ahr, m.gmv_7d) for m in session.scalars(select(MetricSnapshot))}


def refresh(factory: sessionmaker[Session], source: str) -> DataRefresh | None:
    with factory() as session:
        return session.get(DataRefresh, source)


def failing(factory: sessionmaker[Session]) -> tuple[str, ...]:
    with factory() as session:
        return freshness(session).failing_sources


def with_folder(settings: Settings, folder: Path) -> Settings:
    return settings.model_copy(update={"healthbot_import_dir": str(folder)})


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def drop(inbox: Path) -> Callable[..., Path]:
    """Drop a CSV file into the import folder."""

    def write(name: str, header: str, *rows: str) -> Path:
        path = inbox / name
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        return path

    return write


# ---- the CSV folder ----


def test_folder_sync_imports_good_files_and_rejects_a_bad_one_whole(
    factory: sessionmaker[Session], settings: Settings, inbox: Path, drop: Callable[..., Path]
) -> None:
    drop("shops.csv", SHOPS_HEADER, "100,CA,Shop A,US,true,true", "200,CB,Shop B,US,true,false")
    drop("metrics.csv", METRICS_HEADER, f"{DAY},100,210,4.5,1000", f"{DAY},200,180,3.9,2000")
    drop(
        "late-metrics.csv",
        METRICS_HEADER,
        f"{TODAY},100,205,4.4,1100",  # a good row: still not imported, the file is rejected whole
        f"{TODAY},200,abc,3.9,2100",
        f"{TODAY},100,150,9.9,1",
    )
    report = run_sync(with_folder(settings, inbox), factory)
    assert sorted(report.imported) == ["metrics.csv", "shops.csv"]
    assert report.rejected == ["late-metrics.csv"]
    assert list(inbox.glob("*.csv")) == []  # every file was moved aside
    imported = sorted(p.name.split("-", 1)[1] for p in (inbox / "imported").iterdir())
    assert imported == ["metrics.csv", "shops.csv"]
    rejected = sorted(p.name.split("-", 1)[1] for p in (inbox / "rejected").iterdir())
    assert rejected == ["late-metrics.csv", "late-metrics.errors.txt"]
    (errors,) = (inbox / "rejected").glob("*.errors.txt")
    text = errors.read_text(encoding="utf-8")
    assert "late-metrics.csv: rejected, nothing imported (2 bad rows)" in text
    assert "line 3, column ahr" in text
    assert "line 4, column sps" in text
    assert set(snapshots(factory)) == {("100", DAY), ("200", DAY)}
    assert FOLDER_SOURCE in failing(factory)
    row = refresh(factory, FOLDER_SOURCE)
    assert row is not None and row.last_error and "late-metrics.csv" in row.last_error


def test_a_rejected_file_leaves_earlier_data_and_the_next_good_sync_clears_the_failure(
    factory: sessionmaker[Session], settings: Settings, inbox: Path, drop: Callable[..., Path]
) -> None:
    configured = with_folder(settings, inbox)
    drop("shops.csv", SHOPS_HEADER, "100,CA,Shop A,US,true,true")
    drop("metrics.csv", METRICS_HEADER, f"{BEFORE},100,230,4.5,900", f"{DAY},100,210,4.5,1000")
    assert run_sync(configured, factory).errors == {}
    assert failing(factory) == ()
    good = refresh(factory, FOLDER_SOURCE)
    assert good is not None and good.refreshed_at is not None and good.last_error is None
    before = snapshots(factory)

    drop("metrics.csv", METRICS_HEADER, f"{TODAY},100,,nope,1000")
    report = run_sync(configured, factory)
    assert report.rejected == ["metrics.csv"] and report.imported == []
    assert snapshots(factory) == before
    with factory() as session:
        health = session.get(ShopHealth, "100")
        assert health is not None and (health.as_of, health.ahr, health.ahr_1d) == (DAY, 210, 230)
    assert failing(factory) == (FOLDER_SOURCE,)
    failed = refresh(factory, FOLDER_SOURCE)
    assert failed is not None and failed.refreshed_at == good.refreshed_at  # the last success is kept

    drop("metrics.csv", METRICS_HEADER, f"{TODAY},100,205,4.5,1000")
    assert run_sync(configured, factory).imported == ["metrics.csv"]
    assert failing(factory) == ()
    assert ("100", TODAY) in snapshots(factory)


def test_files_of_the_same_name_are_all_kept_in_imported(
    factory: sessionmaker[Session], settings: Settings, inbox: Path, drop: Callable[..., Path]
) -> None:
    # Regression guard (fixed): sync_folder names the archived copy "<%Y%m%dT%H%M%S>-<name>", so a file of the
    # same name imported within the same second (two quick syncs, `healthbot sync` beside the
    # scheduler) silently overwrites the earlier copy in imported/: the audit trail loses a file.
    configured = with_folder(settings, inbox)
    drop("shops.csv", SHOPS_HEADER, "100,CA,Shop A,US,true,true")
    assert run_sync(configured, factory).imported == ["shops.csv"]
    for day in (BEFORE, DAY, TODAY):
        drop("metrics.csv", METRICS_HEADER, f"{day},100,210,4.5,1000")
        assert run_sync(configured, factory).imported == ["metrics.csv"]
    assert len(snapshots(factory)) == 3
    assert len([p for p in (inbox / "imported").iterdir() if p.name.endswith("metrics.csv")]) == 3


def test_a_file_of_unknown_kind_is_rejected_naming_its_header(
    factory: sessionmaker[Session], settings: Settings, inbox: Path, drop: Callable[..., Path]
) -> None:
    drop("orders.csv", "order_id,amount", "1,2")
    report = run_sync(with_folder(settings, inbox), factory)
    assert report.rejected == ["orders.csv"]
    (errors,) = (inbox / "rejected").glob("*.errors.txt")
    assert "line 1" in errors.read_text(encoding="utf-8")
    assert FOLDER_SOURCE in failing(factory)


def test_a_partner_center_xlsx_in_the_folder_is_imported_too(
    factory: sessionmaker[Session], settings: Settings, inbox: Path, drop: Callable[..., Path]
) -> None:
    from tests.support.files import HEALTH_LIST_HEADER, xlsx_bytes

    drop("shops.csv", SHOPS_HEADER, "100,CA,Shop A,US,true,true")
    export = xlsx_bytes(HEALTH_LIST_HEADER, ["Shop A", "CA", "100", 210, 4.5, 1000, 0, 1, 1])
    (inbox / f"Health List {DAY}.xlsx").write_bytes(export)
    report = run_sync(with_folder(settings, inbox), factory)
    assert sorted(report.imported) == [f"Health List {DAY}.xlsx", "shops.csv"]
    assert len(snapshots(factory)) == 1


def test_an_empty_folder_changes_nothing(
    factory: sessionmaker[Session], settings: Settings, inbox: Path
) -> None:
    report = run_sync(with_folder(settings, inbox), factory)
    assert (report.imported, report.rejected, report.errors) == ([], [], {})
    assert refresh(factory, FOLDER_SOURCE) is None


def test_a_missing_import_folder_is_reported_as_failing(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    # Regression guard (fixed): sync_folder globs the folder, and Path.glob on a folder that does not exist
    # yields nothing instead of raising, so a mistyped HEALTHBOT_IMPORT_DIR is never reported:
    # no error, no failing source, and no file is ever imported.
    report = run_sync(with_folder(settings, tmp_path / "no-such-folder"), factory)
    assert FOLDER_SOURCE in report.errors
    assert "cannot read" in report.errors[FOLDER_SOURCE]
    assert FOLDER_SOURCE in failing(factory)


# ---- the TikTok Shop Open API: every connected seller ----


@pytest.fixture
def fake() -> Iterator[FakeTikTok]:
    with FakeTikTok() as server:
        server.shops = [
            {"id": "100", "code": "CA", "name": "Shop A", "region": "US", "cipher": "cipher-a"},
            {"id": "200", "code": "CB", "name": "Shop B", "region": "US", "cipher": "cipher-b"},
        ]
        server.gmv = {"cipher-a": "1234.50", "cipher-c": "99", "cipher-d": "10"}
        yield server


@pytest.fixture
def api(settings: Settings, fake: FakeTikTok) -> Settings:
    return tiktok_settings(settings, fake)


def connected(factory: sessionmaker[Session], api: Settings, fake: FakeTikTok) -> None:
    """Seed the CSV shops and connect the fake's seller, who lists shops 100 and 200."""
    seed(factory)
    assert connect_seller(api, factory, fake.seller).status == 200
    fake.shops = [
        {"id": "100", "code": "CA", "name": "Shop A", "region": "US", "cipher": "cipher-a"},
        {"id": "300", "code": "CC", "name": "Shop C", "region": "US", "cipher": "cipher-c"},
        {"id": "400", "code": "NEW1", "name": "Brand New", "region": "gb", "cipher": "cipher-d"},
    ]


def test_tiktok_sync_updates_authorization_and_gmv(
    factory: sessionmaker[Session], api: Settings, fake: FakeTikTok
) -> None:
    connected(factory, api, fake)
    load(factory, Kind.SHOPS, [shop("500", "CSV1")])  # no seller lists it: the CSV decides
    before = snapshots(factory)
    with quick_http(api) as http:
        report = run_sync(api, factory, today=TODAY, http=http)
    assert report.errors == {}
    # 300 regained access, 400 is new; 200 was its seller's and the seller no longer lists it.
    assert (report.shops_authorized, report.shops_deauthorized, report.gmv_updated) == (2, 1, 2)
    now = dt.datetime.now(dt.UTC)
    found = shops(factory)
    assert found["100"].authorized and found["100"].authorization_lost_at is None
    assert found["300"].authorized and found["300"].authorization_lost_at is None  # access granted
    assert found["500"].authorized  # CSV-only: no seller's answer may take it away
    lost = found["200"]
    assert not lost.authorized and lost.authorization_lost_at is not None
    lost_at = lost.authorization_lost_at
    lost_at = lost_at if lost_at.tzinfo else lost_at.replace(tzinfo=dt.UTC)
    assert now - dt.timedelta(minutes=1) < lost_at <= now
    new = found["400"]
    assert (new.shop_code, new.shop_name, new.region, new.authorized) == ("NEW1", "Brand New", "GB", True)
    # GMV lands on the newest day's snapshot and in shop_health; no new day is created.
    after = snapshots(factory)
    assert set(after) == set(before)
    assert after[("100", DAY)] == (220, 1234.5)
    assert after[("100", BEFORE)] == before[("100", BEFORE)]
    assert after[("300", DAY)] == (220, 99.0)
    assert after[("200", DAY)] == before[("200", DAY)]
    with factory() as session:
        health = session.get(ShopHealth, "100")
        assert health is not None and (health.as_of, health.gmv_7d, health.ahr) == (DAY, 1234.5, 220)
        assert session.scalar(select(func.max(MetricSnapshot.date))) == DAY
    requests = fake.api_requests(SHOP_PERFORMANCE_PATH)
    assert sorted(r.params["shop_cipher"] for r in requests) == ["cipher-a", "cipher-c", "cipher-d"]
    assert {r.params["end_date_lt"] for r in requests} == {TODAY.isoformat()}
    tiktok_refresh = refresh(factory, TIKTOK_SOURCE)
    assert tiktok_refresh is not None and tiktok_refresh.refreshed_at and tiktok_refresh.last_error is None
    # The lost seller is in today's digest.
    with factory() as session:
        digest = build_digest(session, Lens(today=TODAY))
    assert [r.shop_code for r in digest.sections[Section.ACCESS]] == ["CB"]


def test_a_second_sync_changes_nothing_more(
    factory: sessionmaker[Session], api: Settings, fake: FakeTikTok
) -> None:
    connected(factory, api, fake)
    with quick_http(api) as http:
        run_sync(api, factory, today=TODAY, http=http)
        first = {k: (s.authorized, s.authorization_lost_at) for k, s in shops(factory).items()}
        report = run_sync(api, factory, today=TODAY, http=http)
    assert (report.shops_authorized, report.shops_deauthorized) == (0, 0)
    assert {k: (s.authorized, s.authorization_lost_at) for k, s in shops(factory).items()} == first


def test_tiktok_outage_is_recorded_and_touches_nothing_else(
    factory: sessionmaker[Session],
    api: Settings,
    fake: FakeTikTok,
    inbox: Path,
    drop: Callable[..., Path],
) -> None:
    connected(factory, api, fake)
    with quick_http(api) as http:
        run_sync(api, factory, today=TODAY, http=http)
    good = refresh(factory, TIKTOK_SOURCE)
    assert good is not None and good.refreshed_at is not None
    flags = {k: (s.authorized, s.authorization_lost_at) for k, s in shops(factory).items()}
    data = snapshots(factory)
    fake.shops = []  # were it reachable, TikTok would now say nobody is authorized
    fake.fail_next(50)
    drop("metrics.csv", METRICS_HEADER, f"{TODAY},100,215,4.5,")
    with quick_http(api) as http:
        report = run_sync(with_folder(api, inbox), factory, today=TODAY, http=http)
    assert TIKTOK_SOURCE in report.errors and "unavailable" in report.errors[TIKTOK_SOURCE]
    assert "Fake Partner" in report.errors[TIKTOK_SOURCE]  # the failing seller is named
    assert report.imported == ["metrics.csv"]  # the other source still ran
    assert {k: (s.authorized, s.authorization_lost_at) for k, s in shops(factory).items()} == flags
    after = snapshots(factory)
    assert {k: v for k, v in after.items() if k[1] != TODAY} == data
    assert failing(factory) == (TIKTOK_SOURCE,)
    row = refresh(factory, TIKTOK_SOURCE)
    assert row is not None and row.last_error
    assert fake.app_secret not in row.last_error and fake.access_token not in row.last_error


def test_without_an_encryption_key_nothing_is_stored_and_the_reason_is_named(
    factory: sessionmaker[Session], settings: Settings, fake: FakeTikTok
) -> None:
    seed(factory)
    legacy = tiktok_settings(
        settings,
        fake,
        healthbot_encryption_key=None,
        tiktok_access_token=SecretStr(fake.access_token),
        tiktok_refresh_token=SecretStr(fake.refresh_token),
    )
    with quick_http(legacy) as http:
        report = run_sync(legacy, factory, today=TODAY, http=http)
    assert "HEALTHBOT_ENCRYPTION_KEY is not set" in report.errors[TIKTOK_SOURCE]
    assert "Fernet.generate_key" in report.errors[TIKTOK_SOURCE]
    assert fake.api_requests(SHOPS_PATH) == []
    assert all(s.authorized for k, s in shops(factory).items() if k != "300")


# ---- the deauthorization webhook, through the real HTTP server ----


@contextlib.contextmanager
def serving(factory: sessionmaker[Session], settings: Settings) -> Iterator[str]:
    """The app's web routes on a real local HTTP server; yields the webhook's URL."""
    app = create_app(settings, factory=factory)
    try:
        with LocalServer(create_web_app(app, app.deps)) as server:
            yield f"{server.url}/tiktok/webhook"
    finally:
        app.deps.later.shutdown()


@pytest.fixture
def webhook(factory: sessionmaker[Session], settings: Settings, slack: FakeSlack) -> Iterator[str]:
    configured = configure(
        settings,
        slack,
        tiktok_app_key=FakeTikTok.app_key,
        tiktok_app_secret=SecretStr(FakeTikTok.app_secret),
    )
    with serving(factory, configured) as url:
        yield url


def send(url: str, payload: Any, *, signature: str | None = None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sig = (
        webhook_signature(body, FakeTikTok.app_key, FakeTikTok.app_secret) if signature is None else signature
    )
    return httpx.post(url, content=body, headers={"Authorization": sig, "Content-Type": "application/json"})


def test_webhook_checks_the_signature(factory: sessionmaker[Session], webhook: str) -> None:
    seed(factory)
    url = webhook
    event = {"type": 6, "shop_id": "100", "timestamp": 1_764_000_000, "data": {}}
    assert send(url, event, signature="0" * 64).status_code == 401
    assert send(url, event, signature="").status_code == 401
    forged = webhook_signature(json.dumps(event).encode(), FakeTikTok.app_key, "wrong-secret")
    response = send(url, event, signature=forged)
    assert response.status_code == 401 and response.json() == {"error": "bad signature"}
    assert shops(factory)["100"].authorized


def test_webhook_deauthorization_marks_the_shop_unauthorized(
    factory: sessionmaker[Session], webhook: str
) -> None:
    seed(factory)
    url = webhook
    event = {"type": 6, "shop_id": "100", "timestamp": 1_764_000_000, "data": {"reason": "seller revoked"}}
    response = send(url, event)
    assert response.status_code == 200 and response.json() == {"ok": True}
    found = shops(factory)
    assert not found["100"].authorized and found["100"].authorization_lost_at is not None
    assert found["200"].authorized
    assert send(url, event).status_code == 200  # a redelivery is harmless
    with factory() as session:
        digest = build_digest(session, Lens(today=TODAY))
    assert [r.shop_code for r in digest.sections[Section.ACCESS]] == ["CA"]


def test_webhook_other_events_and_bad_bodies(factory: sessionmaker[Session], webhook: str) -> None:
    seed(factory)
    url = webhook
    assert send(url, {"type": 7, "shop_id": "100", "timestamp": 1}).status_code == 200
    assert send(url, {"type": 6, "shop_id": "999", "timestamp": 1}).status_code == 200  # unknown shop
    assert send(url, b"not json").status_code == 400
    assert send(url, {"shop_id": "100"}).status_code == 400
    assert httpx.get(url).status_code == 405
    assert all(s.authorized for k, s in shops(factory).items() if k != "300")


def test_webhook_without_tiktok_settings_is_unavailable(
    factory: sessionmaker[Session], settings: Settings, slack: FakeSlack
) -> None:
    unconfigured = configure(settings, slack, tiktok_app_key=None, tiktok_app_secret=None)
    with serving(factory, unconfigured) as url:
        response = send(url, {"type": 6, "shop_id": "1", "timestamp": 1})
    assert response.status_code == 503


# ---- `healthbot sync` ----


def test_cli_sync_with_nothing_configured(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sync"]) == 0
    assert "Nothing to sync: set HEALTHBOT_IMPORT_DIR" in capsys.readouterr().out


def test_cli_sync_folder(
    factory: sessionmaker[Session],
    cli_env: pytest.MonkeyPatch,
    inbox: Path,
    drop: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli_env.setenv("HEALTHBOT_IMPORT_DIR", str(inbox))
    drop("shops.csv", SHOPS_HEADER, "100,CA,Shop A,US,true,true")
    assert cli.main(["sync"]) == 0
    assert "imported shops.csv" in capsys.readouterr().out
    drop("bad.csv", SHOPS_HEADER, "100,CA,Shop A,US,maybe,true")
    assert cli.main(["sync"]) == 1
    out = capsys.readouterr().out
    assert "REJECTED bad.csv (see the .errors.txt beside it)" in out
    assert set(shops(factory)) == {"100"} and shops(factory)["100"].authorized


def test_cli_sync_tiktok(
    factory: sessionmaker[Session],
    cli_env: pytest.MonkeyPatch,
    fake: FakeTikTok,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(factory)
    fake.shops = [
        {"id": "100", "code": "CA", "name": "Shop A", "region": "US", "cipher": "cipher-a"},
        {"id": "300", "code": "CC", "name": "Shop C", "region": "US", "cipher": "cipher-c"},
        {"id": "400", "code": "NEW1", "name": "Brand New", "region": "gb", "cipher": "cipher-d"},
    ]
    for name, value in {
        "HEALTHBOT_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "TIKTOK_APP_KEY": fake.app_key,
        "TIKTOK_APP_SECRET": fake.app_secret,
        "TIKTOK_ACCESS_TOKEN": fake.access_token,
        "TIKTOK_REFRESH_TOKEN": fake.refresh_token,
        "TIKTOK_API_URL": fake.api_url,
        "TIKTOK_AUTH_URL": fake.auth_url,
    }.items():
        cli_env.setenv(name, value)
    assert cli.main(["sync"]) == 0
    out, err = capsys.readouterr()
    # The single token of before became one stored seller; its shops are now linked to it.
    assert "TikTok: moved TIKTOK_ACCESS_TOKEN into the database as one seller" in out
    assert "TikTok: 1 seller, 2 newly authorized, 0 lost access, GMV refreshed for 2 shops" in out
    assert fake.app_secret not in out + err and fake.access_token not in out + err
    assert shops(factory)["200"].authorized  # not this seller's shop: the CSV's word stands


def test_cli_sync_tiktok_misconfigured(
    factory: sessionmaker[Session], cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.setenv("TIKTOK_APP_KEY", "key-only")
    cli_env.setenv("HEALTHBOT_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
    assert cli.main(["sync"]) == 1
    err = capsys.readouterr().err
    assert "tiktok: FAILED: TikTok Shop API is not configured" in err
    assert "TIKTOK_APP_SECRET" in err
    assert failing(factory) == (TIKTOK_SOURCE,)
